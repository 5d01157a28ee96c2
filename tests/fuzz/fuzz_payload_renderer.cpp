// libFuzzer target: PayloadRenderer and appendEscapedUtf8 on arbitrary bytes.
// Whatever a peer sends, the rendering must be valid UTF-8 with no byte below
// 0x20 and no 0x7f (so no line can be forged or broken), and for UTF-8 the
// escaping must be lossless: undoing it gives back exactly the bytes shown,
// and the " …(+K bytes)" note accounts for the rest.
//
// Input layout:
//   byte 0   maxLoggedBytes (0..63)
//   byte 1   low 2 bits: extra bytes announced past the payload (totalBytes),
//            0 meaning "the payload is whole"
//   rest     the payload
#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "payload_renderer.h"
#include "test_bytes.h"

namespace {

using uvframe::test::unescape;

constexpr std::size_t kMaxLimits = 64;
constexpr std::string_view kNoteStart = " \xE2\x80\xA6(+";

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Well-formed UTF-8 (RFC 3629) with no C0 control byte and no DEL.
bool isSafeUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x20 || c == 0x7F) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    if (len == 0 || n - i < len) return false;
    unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

// Splits off a trailing " …(+K bytes)" note; returns K, or 0 without a note.
std::size_t takeNote(std::string& out, bool expectNote) {
  if (!expectNote) return 0;
  std::size_t at = out.rfind(kNoteStart);
  check(at != std::string::npos);
  std::string_view digits = std::string_view(out).substr(at + kNoteStart.size());
  std::size_t hidden = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), hidden);
  check(ec == std::errc() &&
        std::string_view(end, digits.data() + digits.size() - end) == " bytes)");
  out.resize(at);
  return hidden;
}

uvframe::PayloadRenderer& renderer(std::string_view encoding, std::size_t limit) {
  static std::array<std::unique_ptr<uvframe::PayloadRenderer>, kMaxLimits> utf8, cp949;
  auto& slot = encoding == "cp949" ? cp949[limit] : utf8[limit];
  if (!slot) slot = std::make_unique<uvframe::PayloadRenderer>(encoding, limit);
  return *slot;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = data[0] % kMaxLimits;
  const std::size_t extra = data[1] & 3;
  const std::string_view payload(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
  const std::size_t total = extra == 0 ? 0 : payload.size() + extra;
  const std::size_t wholeBytes = payload.size() + extra;
  const std::size_t shownAtMost = std::min(limit, payload.size());
  const bool expectNote = wholeBytes > shownAtMost;

  // The plain escaper: safe and lossless.
  std::string escaped;
  uvframe::appendEscapedUtf8(bytes, escaped);
  check(isSafeUtf8(escaped));
  check(unescape(escaped) == payload);

  // UTF-8 rendering: safe, and shows exactly the first (total - K) bytes,
  // backing off at most 3 bytes from the limit to keep characters whole.
  std::string out;
  renderer("utf-8", limit).render(bytes, out, total);
  check(isSafeUtf8(out));
  std::size_t hidden = takeNote(out, expectNote);
  check(hidden <= wholeBytes);
  std::size_t shown = wholeBytes - hidden;
  check(shown <= shownAtMost && shown + 3 >= shownAtMost);
  check(unescape(out) == payload.substr(0, shown));

  // CP949 rendering: safe, and the note counts at most what was cut.
  std::string korean;
  renderer("cp949", limit).render(bytes, korean, total);
  check(isSafeUtf8(korean));
  std::size_t hiddenKo = takeNote(korean, expectNote);
  check(hiddenKo <= wholeBytes && hiddenKo >= wholeBytes - shownAtMost);
  return 0;
}
