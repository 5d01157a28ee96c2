// Payload rendering: turns the bytes of one message into text that is safe to
// put on one log line, whatever a peer sends.
//
// Rules (SPEC "Server log lines"):
//   - valid UTF-8 is written as is, except the code points below;
//   - backslash and control characters are escaped: \n \r \t \\ and \xNN for
//     the other C0 controls and DEL;
//   - these code points become \uXXXX (four lowercase hex digits, like \xNN):
//       U+0080..U+009F  C1 controls (CSI, NEL: terminal escapes, line breaks)
//       U+2028, U+2029  line and paragraph separators (some viewers break
//                       lines on them)
//       U+202A..U+202E  bidi embeddings and overrides (LRE RLE PDF LRO RLO)
//       U+2066..U+2069  bidi isolates (LRI RLI FSI PDI)
//       U+200E, U+200F, U+061C  the left-to-right, right-to-left and Arabic
//                       letter marks
//       U+200B..U+200D  zero width space, non-joiner and joiner
//       U+2060..U+2064  word joiner and the invisible math operators
//       U+FEFF          zero width no-break space (byte order mark)
//     The bidi controls reorder what a viewer shows, so a line can read
//     differently from the bytes it holds ("Trojan Source", CVE-2021-42574);
//     the others are invisible, so a line can hide text or split a word
//     (a user name, a keyword someone greps for) unseen. Left as is: U+2065
//     (unassigned), U+206A..U+206F (deprecated controls that do not
//     reorder), and other default-ignorable code points that do not reorder
//     either: the soft hyphen, variation selectors, Hangul fillers, and the
//     tag characters U+E0000.. (beyond the four digits of \uXXXX);
//   - bytes that are not valid UTF-8 (overlongs, surrogates, stray
//     continuation bytes, truncated sequences) become \xNN, one per byte;
//   - with a charset such as CP949 the payload is first decoded with iconv,
//     and the decoded text follows the same rules; bytes the charset cannot
//     decode become \xNN;
//   - "auto" decides per payload, never per byte: valid UTF-8 as a whole is
//     UTF-8; else CP949 as a whole whose non-ASCII characters are all Hangul
//     syllables (U+AC00..U+D7A3) is decoded as CP949; anything else is
//     escaped as invalid UTF-8. The decision is on the bytes shown: a
//     character cut by maxLoggedBytes does not spoil it;
//   - past maxLoggedBytes of payload the text is cut at a character boundary
//     and the line ends with " …(+K bytes)", K being the bytes not shown; an
//     escape stands for a whole character, so it is shown whole or not at all.
// So no client can forge a line, break one, send raw terminal escapes, or
// make a line read as something it is not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace uvframe {

inline constexpr std::size_t kDefaultMaxLoggedBytes = 1024;

/// Appends bytes to out, escaped by the rules above (no truncation).
void appendEscapedUtf8(std::span<const std::byte> bytes, std::string& out);

/// Whether bytes are CP949 whose non-ASCII characters are all Hangul
/// syllables (U+AC00..U+D7A3) and hold at least one of them: the test "auto"
/// applies to a payload that is not valid UTF-8. With cutTail, a last byte
/// that may begin a Hangul syllable is allowed (the rest was cut off).
bool looksLikeKoreanCp949(std::span<const std::byte> bytes, bool cutTail = false);

/// How render() showed a payload.
enum class RenderedAs : std::uint8_t {
  kUtf8,            ///< as UTF-8, every byte valid
  kCharset,         ///< decoded from the charset (CP949 in "auto"), every byte valid
  kInvalidEscaped,  ///< some bytes were invalid in the charset used and became \xNN
};

/// Renders payloads of one charset for the log. Holds an iconv descriptor and a
/// scratch buffer, so it is owned by one thread (one per worker).
class PayloadRenderer {
 public:
  /// encoding: "utf-8" (default), "auto" (see above), "cp949" or "euc-kr"
  /// (any name iconv knows). Throws std::invalid_argument when iconv does not
  /// know the encoding.
  explicit PayloadRenderer(std::string_view encoding = "utf-8",
                           std::size_t maxLoggedBytes = kDefaultMaxLoggedBytes);
  ~PayloadRenderer();
  PayloadRenderer(const PayloadRenderer&) = delete;
  PayloadRenderer& operator=(const PayloadRenderer&) = delete;

  /// Appends the rendering of payload to out. totalBytes is the size of the
  /// whole payload when only its first bytes are at hand (0: payload.size()).
  /// Returns how the bytes shown were rendered (callers may ignore it).
  RenderedAs render(std::span<const std::byte> payload, std::string& out,
                    std::size_t totalBytes = 0);

  /// True for the names that mean plain UTF-8 ("utf-8", "utf8", any case).
  static bool isUtf8Name(std::string_view encoding);
  /// True for "auto" (any case).
  static bool isAutoName(std::string_view encoding);

 private:
  enum class Mode : std::uint8_t { kUtf8, kCharset, kAuto };

  RenderedAs renderOther(std::span<const std::byte> payload, std::string& out,
                         std::size_t totalBytes);
  RenderedAs renderAuto(std::span<const std::byte> payload, std::size_t limit, bool cut,
                        std::string& out, std::size_t& shownBytes);
  std::size_t renderDecoded(std::span<const std::byte> shown, bool cut, std::string& out,
                            bool& invalid);
  int decode(char** in, std::size_t* inLeft, std::string& out);
  void flushDecoder(std::string& out);

  std::size_t maxLoggedBytes_;
  Mode mode_ = Mode::kUtf8;
  void* iconv_ = nullptr;  // iconv_t (the charset, CP949 for "auto"), or null for UTF-8
  std::string scratch_;    // iconv output (UTF-8) before it is escaped
};

}  // namespace uvframe
