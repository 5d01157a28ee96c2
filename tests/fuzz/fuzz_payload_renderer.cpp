// libFuzzer target: PayloadRenderer and appendEscapedUtf8 on arbitrary bytes.
// Whatever a peer sends, the rendering must be safe log text: valid UTF-8
// with no C0 control, no DEL, and no raw C1 control, line separator or bidi
// or invisible format character (test::isSafeLogText), so no line can be
// forged, broken or made to read differently. For UTF-8 the escaping must be
// lossless: undoing it gives back exactly the bytes shown, and the
// " …(+K bytes)" note accounts for the rest. Decoded charsets (CP949,
// GB18030, which can encode every bidi control, and TSCII, whose bytes can
// expand to four code points and which holds characters back) must be safe,
// count at most what was cut, and render the same bytes the same way twice.
// "auto" must render each payload exactly as "utf-8" or as "cp949" does,
// the one its answer names, and "cp949" only for Hangul and ASCII.
//
// Input layout:
//   byte 0   maxLoggedBytes (0..63)
//   byte 1   low 2 bits: extra bytes announced past the payload (totalBytes),
//            0 meaning "the payload is whole"; bit 2: maxLoggedBytes is 4096
//            instead, so long payloads reach the renderer's 1024-byte
//            decoding chunks; bit 3: the rest is little-endian 16-bit code
//            points, and the payload their UTF-8 (surrogates included, as
//            invalid bytes), so the fuzzer reaches any BMP character: the
//            renderer compares code points, not bytes, with its ranges
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

using uvframe::test::isSafeLogText;
using uvframe::test::unescape;

constexpr std::size_t kMaxLimits = 64;  // byte 0's limits; slot kMaxLimits is kBigLimit
constexpr std::size_t kBigLimit = 4096;
constexpr std::string_view kNoteStart = " \xE2\x80\xA6(+";

void check(bool ok) {
  if (!ok) __builtin_trap();
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

constexpr const char* kCharsets[] = {"utf-8", "cp949", "gb18030", "TSCII", "auto"};
constexpr std::size_t kUtf8 = 0;
constexpr std::size_t kCp949 = 1;
constexpr std::size_t kAuto = 4;

uvframe::PayloadRenderer& renderer(std::size_t charset, std::size_t limit) {
  static std::array<std::array<std::unique_ptr<uvframe::PayloadRenderer>, kMaxLimits + 1>,
                    std::size(kCharsets)>
      slots;
  auto& slot = slots[charset][limit == kBigLimit ? kMaxLimits : limit];
  if (!slot) slot = std::make_unique<uvframe::PayloadRenderer>(kCharsets[charset], limit);
  return *slot;
}

// The payload the input describes (see the layout above).
std::string payloadOf(const std::uint8_t* rest, std::size_t size, bool codePoints) {
  if (!codePoints) return {reinterpret_cast<const char*>(rest), size};
  std::string utf8;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    uvframe::test::appendUtf8(static_cast<unsigned>(rest[i] | (rest[i + 1] << 8)), utf8);
  }
  return utf8;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = (data[1] & 4) != 0 ? kBigLimit : data[0] % kMaxLimits;
  const std::size_t extra = data[1] & 3;
  const std::string owned = payloadOf(data + 2, size - 2, (data[1] & 8) != 0);
  const std::string_view payload = owned;
  const auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
  const std::size_t total = extra == 0 ? 0 : payload.size() + extra;
  const std::size_t wholeBytes = payload.size() + extra;
  const std::size_t shownAtMost = std::min(limit, payload.size());
  const bool expectNote = wholeBytes > shownAtMost;

  // The plain escaper: safe and lossless.
  std::string escaped;
  uvframe::appendEscapedUtf8(bytes, escaped);
  check(isSafeLogText(escaped));
  check(unescape(escaped) == payload);

  // UTF-8 rendering: safe, and shows exactly the first (total - K) bytes,
  // backing off at most 3 bytes from the limit to keep characters whole.
  std::string out;
  renderer(kUtf8, limit).render(bytes, out, total);
  check(isSafeLogText(out));
  std::size_t hidden = takeNote(out, expectNote);
  check(hidden <= wholeBytes);
  std::size_t shown = wholeBytes - hidden;
  check(shown <= shownAtMost && shown + 3 >= shownAtMost);
  check(unescape(out) == payload.substr(0, shown));

  // Decoded renderings: safe, the note counts at most what was cut, and no
  // state is left over from one payload to the next.
  for (std::size_t charset = kUtf8 + 1; charset < std::size(kCharsets); ++charset) {
    std::string decoded, again;
    renderer(charset, limit).render(bytes, decoded, total);
    renderer(charset, limit).render(bytes, again, total);
    check(decoded == again);
    check(isSafeLogText(decoded));
    std::size_t hiddenDecoded = takeNote(decoded, expectNote);
    check(hiddenDecoded <= wholeBytes && hiddenDecoded >= wholeBytes - shownAtMost);
  }

  // "auto": the rendering of the encoding it chose, byte for byte.
  std::string autoOut, utf8Out, cp949Out;
  const uvframe::RenderedAs as = renderer(kAuto, limit).render(bytes, autoOut, total);
  const uvframe::RenderedAs asUtf8 = renderer(kUtf8, limit).render(bytes, utf8Out, total);
  const uvframe::RenderedAs asCp949 = renderer(kCp949, limit).render(bytes, cp949Out, total);
  if (as == uvframe::RenderedAs::kCharset) {
    check(autoOut == cp949Out && asCp949 == uvframe::RenderedAs::kCharset);
    check(asUtf8 == uvframe::RenderedAs::kInvalidEscaped);
  } else {
    check(autoOut == utf8Out && as == asUtf8);
  }
  // A whole payload: the decision is exactly the SPEC's.
  if (!expectNote) {
    const bool utf8 = uvframe::test::isValidUtf8(payload);
    const bool korean = uvframe::looksLikeKoreanCp949(bytes);
    check(as == (utf8     ? uvframe::RenderedAs::kUtf8
                 : korean ? uvframe::RenderedAs::kCharset
                          : uvframe::RenderedAs::kInvalidEscaped));
  }
  return 0;
}
