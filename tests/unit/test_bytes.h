// Byte helpers shared by the unit tests: text <-> std::byte spans and a
// small UTF-8 validator for the rendering properties.
#pragma once

#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace uvframe::test {

/// The bytes of text, viewed as std::byte.
inline std::span<const std::byte> asBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

/// A copy of the bytes of text.
inline std::vector<std::byte> bytesOf(std::string_view text) {
  auto view = asBytes(text);
  return {view.begin(), view.end()};
}

/// The bytes of a span as a std::string (for EXPECT_EQ with readable output).
inline std::string textOf(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// True when text is well-formed UTF-8 (RFC 3629: no overlongs, no
/// surrogates, nothing above U+10FFFF). Written from the definition, not
/// like the renderer's check: decode each sequence's code point, then test it
/// against the range its length may encode.
inline bool isValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = s[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || n - i < len) return false;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Appends code point cp (below U+10000) as UTF-8.
inline void appendUtf8(unsigned cp, std::string& out) {
  if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
}

// Undoes appendEscapedUtf8. Because a backslash is always escaped, every
// backslash in the output starts an escape, so this is unambiguous.
inline std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    char kind = text.at(i + 1);  // throws on a dangling backslash
    unsigned value = 0;
    if (kind == 'x' || kind == 'u') {
      std::size_t digits = kind == 'x' ? 2 : 4;
      std::string_view hex = text.substr(i + 2, digits);
      std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
      if (kind == 'x') {
        out.push_back(static_cast<char>(value));
      } else {
        appendUtf8(value, out);
      }
      i += 1 + digits;
      continue;
    }
    out.push_back(kind == 'n' ? '\n' : kind == 'r' ? '\r' : kind == 't' ? '\t' : kind);
    ++i;
  }
  return out;
}

}  // namespace uvframe::test
