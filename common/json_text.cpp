// JSON text helpers: see json_text.h.
#include "json_text.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>

namespace uvframe {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes a JSON string can hold as they are: printable ASCII except '"' and
// '\', and every byte >= 0x80 (checked as UTF-8 where that matters).
constexpr std::array<bool, 256> makePlainTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x100; ++c)
    t[static_cast<std::size_t>(c)] = c != '"' && c != '\\' && c != 0x7F;
  return t;
}
constexpr std::array<bool, 256> kPlain = makePlainTable();

// First index >= i whose byte needs a look in a JSON string ('"', '\',
// C0 controls, DEL; with asciiOnly also every byte >= 0x80), n if none.
// SSE2 (every x86-64) checks 16 bytes a step, as payload_renderer.cpp does.
std::size_t specialByte(const unsigned char* s, std::size_t i, std::size_t n, bool asciiOnly) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // Signed: bytes >= 0x80 are negative, so "< 0x20" holds for them too.
    __m128i low = _mm_cmplt_epi8(v, space);
    if (!asciiOnly) low = _mm_andnot_si128(_mm_cmplt_epi8(v, zero), low);
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, del), low));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
    i += 16;
  }
#endif
  while (i < n && (asciiOnly ? s[i] < 0x80 : true) && kPlain[s[i]])
    ++i;
  return i;
}

void appendControlEscape(unsigned char c, std::string& out) {
  switch (c) {
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    default: {
      char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, 6);
    }
  }
}

// Length of the valid UTF-8 sequence (RFC 3629: no overlongs, surrogates or
// code points past U+10FFFF) starting at s[0] >= 0x80, or 0.
std::size_t utf8Length(const unsigned char* s, std::size_t n) {
  const unsigned char c = s[0];
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((s[k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isHex4(std::string_view s) {
  if (s.size() < 4) return false;
  for (std::size_t k = 0; k < 4; ++k) {
    if (hexValue(s[k]) < 0) return false;
  }
  return true;
}

// "123", "-4", "0.25": a JSON number as it is (no exponents, no leading '+').
bool isPlainNumber(std::string_view v) {
  std::size_t i = v.starts_with('-') ? 1 : 0;
  std::size_t digits = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
    ++i;
    ++digits;
  }
  if (digits == 0) return false;
  if (digits > 1 && v[v.starts_with('-') ? 1 : 0] == '0') return false;
  if (i == v.size()) return true;
  if (v[i] != '.') return false;
  ++i;
  std::size_t fraction = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
    ++i;
    ++fraction;
  }
  return fraction > 0 && i == v.size();
}

void appendKeyValue(std::string_view key, std::string_view value, std::string& out) {
  std::string name(key);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  if (value.size() > 1 && value.back() == 's' && isPlainNumber(value.substr(0, value.size() - 1))) {
    name += "_s";
    value.remove_suffix(1);
  }
  out.push_back('"');
  appendJsonEscaped(name, out);
  out.append("\":");
  if (isPlainNumber(value) || value == "true" || value == "false") {
    out.append(value);
  } else {
    out.push_back('"');
    appendJsonEscaped(value, out);
    out.push_back('"');
  }
}

}  // namespace

void appendJsonEscaped(std::string_view s, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t plain = 0;
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80 && kPlain[p[i]]) {
      ++i;
      continue;
    }
    if (p[i] >= 0x80) {
      std::size_t len = utf8Length(p + i, n - i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + plain, i - plain);
    const unsigned char c = p[i];
    if (c == '"') {
      out.append("\\\"");
    } else if (c == '\\') {
      out.append("\\\\");
    } else if (c >= 0x80) {
      // Not UTF-8: the six characters \\xNN, as the text renderer's \xNN.
      char esc[6] = {'\\', '\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, 5);
    } else {
      appendControlEscape(c, out);
    }
    plain = ++i;
  }
  out.append(s.data() + plain, n - plain);
}

bool appendJsonPayload(std::string_view r, std::string& out) {
  const std::size_t start = out.size();
  const std::size_t n = r.size();
  std::size_t plain = 0;
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(r.data());
  while ((i = specialByte(p, i, n, false)) < n) {
    const auto c = static_cast<unsigned char>(r[i]);
    out.append(r.data() + plain, i - plain);
    if (c == '"') {
      out.append("\\\"");
      ++i;
    } else if (c != '\\') {
      appendControlEscape(c, out);  // the renderer writes none; stay valid JSON anyway
      ++i;
    } else {
      const char e = i + 1 < n ? r[i + 1] : '\0';
      if (e == 'x' && i + 3 < n && hexValue(r[i + 2]) >= 0 && hexValue(r[i + 3]) >= 0) {
        if (hexValue(r[i + 2]) >= 8) {
          // A byte that is not UTF-8: the payload is not text. Start again
          // and write the text rendering itself.
          out.resize(start);
          appendJsonEscaped(r, out);
          return true;
        }
        const char esc[6] = {'\\', 'u', '0', '0', r[i + 2], r[i + 3]};
        out.append(esc, 6);
        i += 4;
      } else if (e == '\\' || e == 'n' || e == 'r' || e == 't') {
        out.append(r.data() + i, 2);  // the same escape in JSON
        i += 2;
      } else if (e == 'u' && isHex4(r.substr(i + 2))) {
        out.append(r.data() + i, 6);  // \uXXXX: the same escape in JSON
        i += 6;
      } else {
        out.append("\\\\");  // not an escape of the renderer: a plain backslash
        ++i;
      }
    }
    plain = i;
  }
  out.append(r.data() + plain, n - plain);
  return false;
}

bool isPlainAsciiForJson(std::string_view s) {
  return specialByte(reinterpret_cast<const unsigned char*>(s.data()), 0, s.size(), true) ==
         s.size();
}

std::size_t takeCutNote(std::string_view& rendered) {
  // " …(+K bytes)": U+2026 is E2 80 A6.
  constexpr std::string_view kHead = " \xE2\x80\xA6(+";
  constexpr std::string_view kTail = " bytes)";
  if (!rendered.ends_with(kTail)) return 0;
  std::size_t at = rendered.rfind(kHead);
  if (at == std::string_view::npos) return 0;
  std::string_view digits =
      rendered.substr(at + kHead.size(), rendered.size() - kTail.size() - at - kHead.size());
  if (digits.empty() || digits.size() > 19) return 0;
  std::size_t k = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    k = k * 10 + static_cast<std::size_t>(c - '0');
  }
  rendered = rendered.substr(0, at);
  return k;
}

void appendKeyValuesAsJson(std::string_view list, std::string& out) {
  bool first = true;
  while (!list.empty()) {
    std::size_t end = list.find(", ");
    std::string_view item = list.substr(0, end);
    list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 2);
    std::size_t eq = item.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    if (!first) out.push_back(',');
    first = false;
    appendKeyValue(item.substr(0, eq), item.substr(eq + 1), out);
  }
}

void appendJsonMember(std::string_view name, std::string_view value, std::string& out) {
  out.push_back('"');
  out.append(name);
  out.append("\":\"");
  appendJsonEscaped(value, out);
  out.push_back('"');
}

}  // namespace uvframe
