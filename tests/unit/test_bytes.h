// Byte helpers shared by the unit tests: text <-> std::byte spans and a
// small UTF-8 decoder for the rendering properties: which text may reach a
// log line raw, and how to undo the escaping.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
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

/// The code points of text when it is well-formed UTF-8 (RFC 3629: no
/// overlongs, no surrogates, nothing above U+10FFFF), else nothing. Written
/// from the definition, not like the renderer's check: decode each
/// sequence's code point, then test it against the range its length may
/// encode.
inline std::optional<std::u32string> decodeUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::u32string cps;
  for (std::size_t i = 0; i < n;) {
    unsigned char c = s[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || n - i < len) return std::nullopt;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    cps.push_back(cp);
    i += len;
  }
  return cps;
}

/// True when text is well-formed UTF-8 (see decodeUtf8).
inline bool isValidUtf8(std::string_view text) {
  return decodeUtf8(text).has_value();
}

/// True for the code points the renderer writes as \uXXXX, listed from the
/// renderer's header as ranges (not as its UTF-8 byte patterns): C1 controls,
/// the line and paragraph separators, and the bidi and invisible format
/// characters that can reorder or hide text in a viewer (Trojan Source).
inline bool isUnicodeEscaped(char32_t cp) {
  struct Range {
    char32_t first, last;
  };
  constexpr Range kEscaped[] = {{0x0080, 0x009F}, {0x061C, 0x061C}, {0x200B, 0x200F},
                                {0x2028, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x2069},
                                {0xFEFF, 0xFEFF}};
  for (Range r : kEscaped) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

/// True when text can go on a log line: well-formed UTF-8 with no C0 control,
/// no DEL and no code point that isUnicodeEscaped (each of those must have
/// been escaped).
inline bool isSafeLogText(std::string_view text) {
  auto cps = decodeUtf8(text);
  if (!cps) return false;
  for (char32_t cp : *cps) {
    if (cp < 0x20 || cp == 0x7F || isUnicodeEscaped(cp)) return false;
  }
  return true;
}

// Appends code point cp (below U+10000) as UTF-8.
inline void appendUtf8(unsigned cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
    return;
  }
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
