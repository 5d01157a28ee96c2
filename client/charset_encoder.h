// CharsetEncoder: converts the client's UTF-8 input (arguments, stdin lines)
// into the charset the server expects, e.g. CP949 so uvframe-client sends
// byte for byte what the classic Windows client sent for Korean text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace uvframe {

/// Owns one iconv descriptor (UTF-8 to the target charset). One thread.
class CharsetEncoder {
 public:
  /// encoding: "utf-8" (bytes pass through unchanged), "cp949", "euc-kr" or
  /// any name iconv knows. Throws std::invalid_argument for unknown names.
  explicit CharsetEncoder(std::string_view encoding);
  ~CharsetEncoder();
  CharsetEncoder(const CharsetEncoder&) = delete;
  CharsetEncoder& operator=(const CharsetEncoder&) = delete;

  /// The bytes of text in the target charset, or nullopt with error set when
  /// text is not valid UTF-8 or holds a character the charset lacks.
  std::optional<std::string> encode(std::string_view text, std::string& error);

  const std::string& encoding() const { return encoding_; }

 private:
  std::string encoding_;
  void* iconv_ = nullptr;  // iconv_t, or null for UTF-8
};

}  // namespace uvframe
