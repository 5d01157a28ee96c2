// Payload rendering: see payload_renderer.h for the rules.
#include "payload_renderer.h"

#include <iconv.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <stdexcept>

namespace uvframe {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes that need no attention: printable ASCII except the backslash.
constexpr std::array<bool, 256> makeSafeTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7F; ++c)
    t[static_cast<std::size_t>(c)] = c != '\\';
  return t;
}
constexpr std::array<bool, 256> kSafeAscii = makeSafeTable();

// First index >= i whose byte is not safe (n if none). Plain text is the
// common payload: SSE2 (part of every x86-64) checks 16 bytes per step, which
// took the escaping of a 1 KiB ASCII payload from about 310 ns to about 55.
// Text that starts with an unsafe byte (Hangul, escapes) leaves at once.
std::size_t safeRunEnd(const unsigned char* s, std::size_t i, std::size_t n) {
  if (i < n && !kSafeAscii[s[i]]) return i;
#if defined(__SSE2__)
  const __m128i below = _mm_set1_epi8(0x20 - 1);
  const __m128i above = _mm_set1_epi8(0x7F);
  const __m128i backslash = _mm_set1_epi8('\\');
  while (i + 16 <= n) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // Signed compares: bytes >= 0x80 are negative, so "> 0x1F" rejects them.
    __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, below), _mm_cmplt_epi8(v, above));
    ok = _mm_andnot_si128(_mm_cmpeq_epi8(v, backslash), ok);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(ok));
    if (mask != 0xFFFFu) return i + static_cast<std::size_t>(__builtin_ctz(~mask));
    i += 16;
  }
#endif
  while (i < n && kSafeAscii[s[i]])
    ++i;
  return i;
}

void appendHexByte(unsigned char c, std::string& out) {
  char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
  out.append(esc, 4);
}

void appendAsciiEscape(unsigned char c, std::string& out) {
  switch (c) {
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    case '\\':
      out.append("\\\\");
      break;
    default:
      appendHexByte(c, out);
      break;
  }
}

// If the n bytes at s (n >= 1) start a valid UTF-8 sequence (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), the length the lead byte
// announces, else 0. Only the bytes present are checked, so a sequence cut
// short by the end of s still counts.
std::size_t utf8PrefixLength(const unsigned char* s, std::size_t n) {
  unsigned char c = s[0];
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds for the second byte
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
  if (n >= 2 && (s[1] < lo || s[1] > hi)) return 0;
  for (std::size_t i = 2; i < len && i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Length of the valid UTF-8 sequence at s, or 0 if it is not a whole one.
std::size_t utf8SequenceLength(const unsigned char* s, std::size_t n) {
  std::size_t len = utf8PrefixLength(s, n);
  return n >= len ? len : 0;
}

// Code points that are valid UTF-8 but must not reach a log line raw.
bool needsUnicodeEscape(const unsigned char* s, std::size_t len) {
  if (len == 2) return s[0] == 0xC2 && s[1] <= 0x9F;  // C1 controls
  // U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR.
  return len == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

void appendUnicodeEscape(const unsigned char* s, std::size_t len, std::string& out) {
  unsigned cp = len == 2 ? ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu)
                         : ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
  char esc[6] = {
      '\\',          'u', kHex[(cp >> 12) & 0xF], kHex[(cp >> 8) & 0xF], kHex[(cp >> 4) & 0xF],
      kHex[cp & 0xF]};
  out.append(esc, 6);
}

// Where to cut a UTF-8 payload at limit (<= payload.size()) so that no
// character is split: before the last valid sequence that starts in the
// three bytes ahead of limit and would end after it. The bytes past limit
// may be missing (only a head of the payload is at hand); then a valid start
// counts as a character still to come. Stray bytes are shown up to limit.
std::size_t utf8CutPoint(std::span<const std::byte> payload, std::size_t limit) {
  const auto* s = reinterpret_cast<const unsigned char*>(payload.data());
  for (std::size_t back = 1; back <= 3 && back <= limit; ++back) {
    std::size_t lead = limit - back;
    if ((s[lead] & 0xC0) == 0x80) continue;  // a continuation: look further back
    std::size_t len = utf8PrefixLength(s + lead, payload.size() - lead);
    return len > back ? lead : limit;
  }
  return limit;
}

void appendTruncationNote(std::size_t hiddenBytes, std::string& out) {
  out.append(" \xE2\x80\xA6(+");
  out.append(std::to_string(hiddenBytes));
  out.append(" bytes)");
}

}  // namespace

void appendEscapedUtf8(std::span<const std::byte> bytes, std::string& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    std::size_t run = safeRunEnd(s, i, n);
    out.append(reinterpret_cast<const char*>(s + i), run - i);
    i = run;
    if (i == n) break;
    if (s[i] < 0x80) {
      appendAsciiEscape(s[i], out);
      ++i;
      continue;
    }
    std::size_t len = utf8SequenceLength(s + i, n - i);
    if (len == 0) {
      appendHexByte(s[i], out);
      ++i;
    } else {
      if (needsUnicodeEscape(s + i, len)) {
        appendUnicodeEscape(s + i, len, out);
      } else {
        out.append(reinterpret_cast<const char*>(s + i), len);
      }
      i += len;
    }
  }
}

bool PayloadRenderer::isUtf8Name(std::string_view encoding) {
  std::string lower;
  for (char c : encoding) {
    if (c != '-' && c != '_')
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return lower == "utf8";
}

PayloadRenderer::PayloadRenderer(std::string_view encoding, std::size_t maxLoggedBytes)
    : maxLoggedBytes_(maxLoggedBytes) {
  if (!isUtf8Name(encoding)) {
    std::string name(encoding);
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) {
      throw std::invalid_argument("unknown payload encoding '" + name + "'");
    }
    iconv_ = cd;
  }
}

PayloadRenderer::~PayloadRenderer() {
  if (iconv_ != nullptr) iconv_close(static_cast<iconv_t>(iconv_));
}

void PayloadRenderer::render(std::span<const std::byte> payload, std::string& out,
                             std::size_t totalBytes) {
  if (totalBytes < payload.size()) totalBytes = payload.size();
  std::size_t limit = std::min(payload.size(), maxLoggedBytes_);
  bool cut = limit < totalBytes;
  std::size_t shownBytes = 0;
  if (iconv_ == nullptr) {
    if (cut) limit = utf8CutPoint(payload, limit);
    appendEscapedUtf8(payload.first(limit), out);
    shownBytes = limit;
  } else {
    shownBytes = renderDecoded(payload.first(limit), cut, out);
  }
  if (shownBytes < totalBytes) appendTruncationNote(totalBytes - shownBytes, out);
}

// Decodes with iconv, escaping what the charset cannot decode. Returns how
// many input bytes were shown (a character cut in half by the limit is not).
std::size_t PayloadRenderer::renderDecoded(std::span<const std::byte> shown, bool cut,
                                           std::string& out) {
  auto cd = static_cast<iconv_t>(iconv_);
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  // Any charset iconv knows expands to at most 4 UTF-8 bytes per input byte,
  // plus room for a shift sequence.
  std::size_t scratchBytes = shown.size() * 4 + 16;
  if (scratch_.size() < scratchBytes) scratch_.resize(scratchBytes);
  char* in = const_cast<char*>(reinterpret_cast<const char*>(shown.data()));
  std::size_t inLeft = shown.size();
  while (true) {
    char* outPtr = scratch_.data();
    std::size_t outLeft = scratchBytes;
    std::size_t rc = iconv(cd, &in, &inLeft, &outPtr, &outLeft);
    int err = rc == static_cast<std::size_t>(-1) ? errno : 0;
    std::size_t produced = scratchBytes - outLeft;
    appendEscapedUtf8(std::as_bytes(std::span(scratch_.data(), produced)), out);
    if (err == 0 || inLeft == 0) break;
    if (err == EINVAL && cut) {
      // A character split by the length limit: count it as not shown.
      return shown.size() - inLeft;
    }
    // EILSEQ (or an incomplete character at the real end): show one byte
    // escaped and carry on after it.
    appendHexByte(static_cast<unsigned char>(*in), out);
    ++in;
    --inLeft;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  return shown.size();
}

}  // namespace uvframe
