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
// Always inlined: it runs once per character of Hangul, and with two users
// (the two escapeUtf8 loops) GCC stopped inlining it, which cost a quarter
// more instructions on UTF-8 Hangul.
[[gnu::always_inline]] inline std::size_t safeRunEnd(const unsigned char* s, std::size_t i,
                                                     std::size_t n) {
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

// Code points that are valid UTF-8 but must not reach a log line raw; the
// header says which and why. All lie in U+0080..U+FFFF (two or three bytes
// of UTF-8), as the four digits of \uXXXX need.
struct CodePointRange {
  char32_t first, last;
};
constexpr CodePointRange kUnicodeEscaped[] = {
    {0x0080, 0x009F},  // C1 controls
    {0x061C, 0x061C},  // ARABIC LETTER MARK
    {0x200B, 0x200F},  // ZWSP, ZWNJ, ZWJ, LRM, RLM
    {0x2028, 0x202E},  // LINE and PARAGRAPH SEPARATOR; LRE, RLE, PDF, LRO, RLO
    {0x2060, 0x2064},  // WORD JOINER and the invisible math operators
    {0x2066, 0x2069},  // LRI, RLI, FSI, PDI
    {0xFEFF, 0xFEFF},  // ZERO WIDTH NO-BREAK SPACE (BOM)
};

constexpr bool isUnicodeEscaped(char32_t cp) {
  for (CodePointRange r : kUnicodeEscaped) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

// The UTF-8 lead bytes of the code points above (0xC2, 0xD8, 0xE2, 0xEF).
// Any other character is written as is without being decoded, so text such
// as Hangul (leads 0xEA..0xED) pays one table lookup per character.
constexpr std::array<bool, 256> makeEscapeLeadTable() {
  std::array<bool, 256> t{};
  for (CodePointRange r : kUnicodeEscaped) {
    for (char32_t cp = r.first; cp <= r.last; ++cp) {
      t[cp < 0x800 ? 0xC0 | (cp >> 6) : 0xE0 | (cp >> 12)] = true;
    }
  }
  return t;
}
constexpr std::array<bool, 256> kEscapeLead = makeEscapeLeadTable();

// The code point of the valid sequence of len (2 or 3) bytes at s, if it
// must be escaped, else 0 (U+0000 is a one-byte sequence, never asked for).
char32_t unicodeEscapeCodePoint(const unsigned char* s, std::size_t len) {
  if (len > 3 || !kEscapeLead[s[0]]) return 0;
  char32_t cp = len == 2 ? ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu)
                         : ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
  return isUnicodeEscaped(cp) ? cp : 0;
}

void appendUnicodeEscape(char32_t cp, std::string& out) {
  char esc[6] = {
      '\\',          'u', kHex[(cp >> 12) & 0xF], kHex[(cp >> 8) & 0xF], kHex[(cp >> 4) & 0xF],
      kHex[cp & 0xF]};
  out.append(esc, 6);
}

// Appends the escape for the character at s that cannot be written as is
// and returns how many bytes it stands for. len is its valid UTF-8 length
// and cp its code point, or len is 0 for a single ASCII or invalid byte.
std::size_t appendEscape(const unsigned char* s, std::size_t len, char32_t cp, std::string& out) {
  if (len != 0) {
    appendUnicodeEscape(cp, out);
    return len;
  }
  if (s[0] < 0x80) {
    appendAsciiEscape(s[0], out);
  } else {
    appendHexByte(s[0], out);
  }
  return 1;
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

// iconv output room. glibc's converters write at most 4 code points for one
// input byte (TSCII: 0x82 is U+0BB8 U+0BCD U+0BB0 U+0BC0), so 16 bytes of
// UTF-8 a byte always suffice; every other charset of glibc 2.36 stays at or
// under 3 (measured over all 1- and 2-byte inputs of the 1180 names iconv
// -l lists). The room must really suffice: after E2BIG in the middle of a
// ligature, glibc's TSCII converter repeats or drops code points. Input goes
// in chunks so that the room stays bounded whatever --max-logged-bytes is;
// the flush of a stateful charset gets its own room on top.
constexpr std::size_t kMaxUtf8BytesPerInputByte = 16;
constexpr std::size_t kDecodeChunkBytes = 1024;
constexpr std::size_t kFlushRoomBytes = 64;

void appendTruncationNote(std::size_t hiddenBytes, std::string& out) {
  out.append(" \xE2\x80\xA6(+");
  out.append(std::to_string(hiddenBytes));
  out.append(" bytes)");
}

// Escapes bytes onto out by the rules in the header. Sets invalid when a
// byte was not valid UTF-8 (it became \xNN); with kStopOnInvalid it returns
// false at that byte instead, out holding a partial rendering the caller
// drops. The check sits on the escape path only, and invalid is written
// through a reference there rather than kept in a register: a flag live
// across the loop cost 5% more instructions on UTF-8 Hangul.
template <bool kStopOnInvalid>
bool escapeUtf8(std::span<const std::byte> bytes, std::string& out, bool& invalid) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  // s[plain, i) is text to write as is. It grows over safe ASCII runs and
  // valid characters alike and is appended in one piece when an escape or
  // the end comes, so a line of Hangul is one append, not one per character.
  std::size_t plain = 0;
  std::size_t i = 0;
  while ((i = safeRunEnd(s, i, n)) < n) {
    std::size_t len = s[i] < 0x80 ? 0 : utf8SequenceLength(s + i, n - i);
    char32_t cp = len == 0 ? 0 : unicodeEscapeCodePoint(s + i, len);
    if (len != 0 && cp == 0) {
      i += len;
      continue;
    }
    if (len == 0 && s[i] >= 0x80) {
      if constexpr (kStopOnInvalid) return false;
      invalid = true;
    }
    out.append(reinterpret_cast<const char*>(s + plain), i - plain);
    i += appendEscape(s + i, len, cp, out);
    plain = i;
  }
  out.append(reinterpret_cast<const char*>(s + plain), n - plain);
  return true;
}

// Whether the CP949 pair lead, trail is a Hangul syllable (U+AC00..U+D7A3).
// CP949 (Microsoft's UHC) holds all 11172 of them: the 2350 of KS X 1001
// (lead B0..C8, trail A1..FE) and the other 8822 in its extension, in
// order: leads 81..A0 with trails 41..5A, 61..7A, 81..FE (178 each), leads
// A1..C5 with trails 41..5A, 61..7A, 81..A0 (84 each), lead C6 with trails
// 41..52. A unit test checks this table against iconv over every pair.
constexpr bool isCp949Hangul(unsigned lead, unsigned trail) {
  if (lead >= 0xB0 && lead <= 0xC8 && trail >= 0xA1 && trail <= 0xFE) return true;
  const bool letter = (trail >= 0x41 && trail <= 0x5A) || (trail >= 0x61 && trail <= 0x7A);
  if (lead >= 0x81 && lead <= 0xA0) return letter || (trail >= 0x81 && trail <= 0xFE);
  if (lead >= 0xA1 && lead <= 0xC5) return letter || (trail >= 0x81 && trail <= 0xA0);
  if (lead == 0xC6) return trail >= 0x41 && trail <= 0x52;
  return false;
}

}  // namespace

void appendEscapedUtf8(std::span<const std::byte> bytes, std::string& out) {
  bool invalid = false;
  escapeUtf8<false>(bytes, out, invalid);
}

bool looksLikeKoreanCp949(std::span<const std::byte> bytes, bool cutTail) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  for (std::size_t i = 0; i < n;) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    if (i + 1 < n && isCp949Hangul(s[i], s[i + 1])) {
      i += 2;
      continue;
    }
    // A lone last byte that leads some syllable: the cut took its trail.
    return cutTail && i + 1 == n && s[i] >= 0x81 && s[i] <= 0xC8;
  }
  return true;
}

bool PayloadRenderer::isUtf8Name(std::string_view encoding) {
  std::string lower;
  for (char c : encoding) {
    if (c != '-' && c != '_')
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return lower == "utf8";
}

bool PayloadRenderer::isAutoName(std::string_view encoding) {
  std::string lower;
  for (char c : encoding)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower == "auto";
}

PayloadRenderer::PayloadRenderer(std::string_view encoding, std::size_t maxLoggedBytes)
    : maxLoggedBytes_(maxLoggedBytes) {
  if (isUtf8Name(encoding)) return;
  // "auto" needs a CP949 decoder for the payloads that are not UTF-8.
  mode_ = isAutoName(encoding) ? Mode::kAuto : Mode::kCharset;
  std::string name = mode_ == Mode::kAuto ? std::string("CP949") : std::string(encoding);
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    throw std::invalid_argument("unknown payload encoding '" + name + "'");
  }
  iconv_ = cd;
}

PayloadRenderer::~PayloadRenderer() {
  if (iconv_ != nullptr) iconv_close(static_cast<iconv_t>(iconv_));
}

RenderedAs PayloadRenderer::render(std::span<const std::byte> payload, std::string& out,
                                   std::size_t totalBytes) {
  // The other modes live apart so that the UTF-8 path stays as lean as it
  // was before them: no locals whose address escapes, no mode switch.
  if (mode_ != Mode::kUtf8) return renderOther(payload, out, totalBytes);
  if (totalBytes < payload.size()) totalBytes = payload.size();
  std::size_t limit = std::min(payload.size(), maxLoggedBytes_);
  if (limit < totalBytes) limit = utf8CutPoint(payload, limit);
  bool invalid = false;
  escapeUtf8<false>(payload.first(limit), out, invalid);
  if (limit < totalBytes) appendTruncationNote(totalBytes - limit, out);
  return invalid ? RenderedAs::kInvalidEscaped : RenderedAs::kUtf8;
}

RenderedAs PayloadRenderer::renderOther(std::span<const std::byte> payload, std::string& out,
                                        std::size_t totalBytes) {
  if (totalBytes < payload.size()) totalBytes = payload.size();
  std::size_t limit = std::min(payload.size(), maxLoggedBytes_);
  bool cut = limit < totalBytes;
  std::size_t shownBytes = 0;
  RenderedAs as = RenderedAs::kCharset;
  if (mode_ == Mode::kCharset) {
    bool invalid = false;
    shownBytes = renderDecoded(payload.first(limit), cut, out, invalid);
    if (invalid) as = RenderedAs::kInvalidEscaped;
  } else {
    as = renderAuto(payload, limit, cut, out, shownBytes);
  }
  if (shownBytes < totalBytes) appendTruncationNote(totalBytes - shownBytes, out);
  return as;
}

// "auto": UTF-8 if the bytes shown are valid UTF-8, else CP949 if they are
// Hangul and ASCII, else escaped as invalid UTF-8. The UTF-8 attempt writes
// as it checks, so valid text (the common case) is scanned once; invalid
// text is scanned up to its first bad byte, and that partial rendering is
// dropped. With a cut, the bytes past the limit that are at hand complete
// the character at the limit for the checks; they are not shown.
RenderedAs PayloadRenderer::renderAuto(std::span<const std::byte> payload, std::size_t limit,
                                       bool cut, std::string& out, std::size_t& shownBytes) {
  const std::size_t utf8Limit = cut ? utf8CutPoint(payload, limit) : limit;
  const std::size_t mark = out.size();
  bool invalid = false;
  if (escapeUtf8<true>(payload.first(utf8Limit), out, invalid)) {
    shownBytes = utf8Limit;
    return RenderedAs::kUtf8;
  }
  out.resize(mark);
  const std::size_t checked = cut && limit < payload.size() ? limit + 1 : limit;
  if (looksLikeKoreanCp949(payload.first(checked), cut)) {
    shownBytes = renderDecoded(payload.first(limit), cut, out, invalid);
    return invalid ? RenderedAs::kInvalidEscaped : RenderedAs::kCharset;
  }
  escapeUtf8<false>(payload.first(utf8Limit), out, invalid);
  shownBytes = utf8Limit;
  return RenderedAs::kInvalidEscaped;
}

// Decodes with iconv, escaping what the charset cannot decode (and setting
// invalid then). Returns how many input bytes were shown (a character cut in
// half by the limit is not).
std::size_t PayloadRenderer::renderDecoded(std::span<const std::byte> shown, bool cut,
                                           std::string& out, bool& invalid) {
  iconv(static_cast<iconv_t>(iconv_), nullptr, nullptr, nullptr, nullptr);
  std::size_t room = std::min(shown.size(), kDecodeChunkBytes) * kMaxUtf8BytesPerInputByte;
  if (scratch_.size() < room + kFlushRoomBytes) scratch_.resize(room + kFlushRoomBytes);
  char* in = const_cast<char*>(reinterpret_cast<const char*>(shown.data()));
  char* const end = in + shown.size();
  char* shownEnd = end;
  while (in < end) {
    char* chunkStart = in;
    std::size_t inLeft = std::min(static_cast<std::size_t>(end - in), kDecodeChunkBytes);
    const bool last = in + inLeft == end;
    int err = decode(&in, &inLeft, out);
    if (err == 0 || err == E2BIG) continue;
    // A character split by the end of a chunk: the next call has all of it.
    if (err == EINVAL && !last && in != chunkStart) continue;
    if (err == EINVAL && last && cut) {
      // A character split by the length limit: count it as not shown.
      shownEnd = in;
      break;
    }
    // EILSEQ, or an incomplete character at the real end: write what the
    // charset holds back, then show one byte escaped and carry on after it.
    flushDecoder(out);
    invalid = true;
    appendHexByte(static_cast<unsigned char>(*in), out);
    ++in;
  }
  flushDecoder(out);
  return static_cast<std::size_t>(shownEnd - reinterpret_cast<const char*>(shown.data()));
}

// One iconv call from *in (null: flush the state) into scratch_, whose UTF-8
// is escaped onto out. Returns the call's errno, or 0. renderDecoded leaves
// enough room that E2BIG does not happen with glibc's charsets; should one
// need more, the caller calls again, and if not even one character fit,
// scratch_ grows first, so every call makes progress.
int PayloadRenderer::decode(char** in, std::size_t* inLeft, std::string& out) {
  char* outPtr = scratch_.data();
  std::size_t outLeft = scratch_.size();
  std::size_t rc = iconv(static_cast<iconv_t>(iconv_), in, inLeft, &outPtr, &outLeft);
  int err = rc == static_cast<std::size_t>(-1) ? errno : 0;
  std::size_t produced = scratch_.size() - outLeft;
  appendEscapedUtf8(std::as_bytes(std::span(scratch_.data(), produced)), out);
  if (err == E2BIG && produced == 0) scratch_.resize(scratch_.size() * 2);
  return err;
}

// Writes the characters a stateful charset still holds back (TSCII keeps a
// virama or a vowel sign until the next byte, CP1258 each letter in case an
// accent follows) and returns the decoder to its initial state.
void PayloadRenderer::flushDecoder(std::string& out) {
  while (decode(nullptr, nullptr, out) == E2BIG) {
  }
}

}  // namespace uvframe
