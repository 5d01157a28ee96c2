// Experiment (not used by the product): common/payload_renderer's
// appendEscapedUtf8 with the scan for "safe" bytes (printable ASCII other
// than the backslash) done 16 bytes at a time with SSE2.
//
// The real function looks up every byte in a table; for the loadgen's
// printable payloads that loop is the largest single item in a profile of
// uvframe-server logging every message (about 14 % of its samples). SSE2 is
// part of x86-64, so no run-time dispatch is needed; elsewhere the byte loop
// stays. Everything after the scan (escapes, UTF-8 validation) is copied
// unchanged. bench_render checks that both give the same text, then times
// both.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace uvframe::bench {
namespace exp_detail {

constexpr char kHex[] = "0123456789abcdef";

constexpr std::array<bool, 256> makeSafeTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7F; ++c)
    t[static_cast<std::size_t>(c)] = c != '\\';
  return t;
}
inline constexpr std::array<bool, 256> kSafeAscii = makeSafeTable();

// First index >= i whose byte is not safe (n if none).
inline std::size_t safeRunEnd(const unsigned char* s, std::size_t i, std::size_t n) {
  // Text that is not ASCII (Hangul) or needs escapes meets an unsafe byte at
  // once: leave before paying for a vector load.
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

inline void appendHexByte(unsigned char c, std::string& out) {
  char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
  out.append(esc, 4);
}

inline void appendAsciiEscape(unsigned char c, std::string& out) {
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

inline std::size_t utf8SequenceLength(const unsigned char* s, std::size_t n) {
  unsigned char c = s[0];
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
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
  for (std::size_t i = 2; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
  }
  return len;
}

inline bool needsUnicodeEscape(const unsigned char* s, std::size_t len) {
  if (len == 2) return s[0] == 0xC2 && s[1] <= 0x9F;
  return len == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

inline void appendUnicodeEscape(const unsigned char* s, std::size_t len, std::string& out) {
  unsigned cp = len == 2 ? ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu)
                         : ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
  char esc[6] = {
      '\\',          'u', kHex[(cp >> 12) & 0xF], kHex[(cp >> 8) & 0xF], kHex[(cp >> 4) & 0xF],
      kHex[cp & 0xF]};
  out.append(esc, 6);
}

}  // namespace exp_detail

inline void expAppendEscapedUtf8(std::span<const std::byte> bytes, std::string& out) {
  using namespace exp_detail;
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

}  // namespace uvframe::bench
