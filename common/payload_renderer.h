// Payload rendering: turns the bytes of one message into text that is safe to
// put on one log line, whatever a peer sends.
//
// Rules (SPEC "Server log lines"):
//   - valid UTF-8 is written as is;
//   - backslash and control characters are escaped: \n \r \t \\ and \xNN for
//     the other C0 controls and DEL; C1 controls and the Unicode line and
//     paragraph separators (which some viewers break lines on) become \uXXXX;
//   - bytes that are not valid UTF-8 (overlongs, surrogates, stray
//     continuation bytes, truncated sequences) become \xNN, one per byte;
//   - with a charset such as CP949 the payload is first decoded with iconv;
//     bytes the charset cannot decode become \xNN;
//   - past maxLoggedBytes of payload the text is cut at a character boundary
//     and the line ends with " …(+K bytes)", K being the bytes not shown.
// So no client can forge a line, break one, or send raw terminal escapes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace uvframe {

inline constexpr std::size_t kDefaultMaxLoggedBytes = 1024;

/// Appends bytes to out, escaped by the rules above (no truncation).
void appendEscapedUtf8(std::span<const std::byte> bytes, std::string& out);

/// Renders payloads of one charset for the log. Holds an iconv descriptor and a
/// scratch buffer, so it is owned by one thread (one per worker).
class PayloadRenderer {
 public:
  /// encoding: "utf-8" (default), "cp949" or "euc-kr" (any name iconv knows).
  /// Throws std::invalid_argument when iconv does not know the encoding.
  explicit PayloadRenderer(std::string_view encoding = "utf-8",
                           std::size_t maxLoggedBytes = kDefaultMaxLoggedBytes);
  ~PayloadRenderer();
  PayloadRenderer(const PayloadRenderer&) = delete;
  PayloadRenderer& operator=(const PayloadRenderer&) = delete;

  /// Appends the rendering of payload to out. totalBytes is the size of the
  /// whole payload when only its first bytes are at hand (0: payload.size()).
  void render(std::span<const std::byte> payload, std::string& out, std::size_t totalBytes = 0);

  /// True for the names that mean plain UTF-8 ("utf-8", "utf8", any case).
  static bool isUtf8Name(std::string_view encoding);

 private:
  std::size_t renderDecoded(std::span<const std::byte> shown, bool cut, std::string& out);

  std::size_t maxLoggedBytes_;
  void* iconv_ = nullptr;  // iconv_t, or null for UTF-8
  std::string scratch_;
};

}  // namespace uvframe
