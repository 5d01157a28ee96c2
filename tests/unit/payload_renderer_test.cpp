// Unit tests for common/payload_renderer: the escaping rules of the SPEC
// ("Server log lines"), truncation with " …(+K bytes)", CP949/EUC-KR
// decoding, and properties over random bytes (valid UTF-8 out, no control
// bytes, and the escaping can be undone exactly).
#include "payload_renderer.h"

#include <gtest/gtest.h>

#include <charconv>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "test_bytes.h"

namespace uvframe {
namespace {

using test::asBytes;
using test::isValidUtf8;
using test::unescape;

constexpr std::string_view kHelloKo = "안녕하세요";  // 15 bytes of UTF-8
constexpr std::string_view kHelloKoCp949 = "\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4";

std::string escaped(std::string_view bytes) {
  std::string out;
  appendEscapedUtf8(asBytes(bytes), out);
  return out;
}

std::string rendered(PayloadRenderer& renderer, std::string_view bytes, std::size_t total = 0) {
  std::string out;
  renderer.render(asBytes(bytes), out, total);
  return out;
}

TEST(AppendEscapedUtf8, PrintableAsciiIsWrittenAsIs) {
  std::string_view text = "hello, world! {}[]~ 0123 \"quoted\" 'x' $%";
  EXPECT_EQ(escaped(text), text);
  EXPECT_EQ(escaped(""), "");
}

TEST(AppendEscapedUtf8, NewlineReturnTabAndBackslashHaveNamedEscapes) {
  EXPECT_EQ(escaped("a\nb\rc\td\\e"), "a\\nb\\rc\\td\\\\e");
}

TEST(AppendEscapedUtf8, OtherControlsAndDeleteBecomeHex) {
  EXPECT_EQ(escaped(std::string_view("\0", 1)), "\\x00");
  EXPECT_EQ(escaped("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(escaped("\x7f"), "\\x7f");
  EXPECT_EQ(escaped("\x01\x1f\x0b\x0c"), "\\x01\\x1f\\x0b\\x0c");
}

TEST(AppendEscapedUtf8, ValidMultiByteUtf8IsWrittenAsIs) {
  EXPECT_EQ(escaped(kHelloKo), kHelloKo);
  EXPECT_EQ(escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "café € 😀");
  EXPECT_EQ(escaped("\xC2\xA0"), "\xC2\xA0") << "U+00A0 is not a control";
  EXPECT_EQ(escaped("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF") << "U+10FFFF is the last valid";
}

TEST(AppendEscapedUtf8, InvalidUtf8BecomesHexPerByte) {
  EXPECT_EQ(escaped("\x80"), "\\x80") << "lone continuation";
  EXPECT_EQ(escaped("a\xBFz"), "a\\xbfz");
  EXPECT_EQ(escaped("\xC0\xAF"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(escaped("\xE0\x80\xAF"), "\\xe0\\x80\\xaf") << "overlong, 3 bytes";
  EXPECT_EQ(escaped("\xED\xA0\x80"), "\\xed\\xa0\\x80") << "surrogate U+D800";
  EXPECT_EQ(escaped("ok\xE2\x82"), "ok\\xe2\\x82") << "truncated at the end";
  EXPECT_EQ(escaped("\xE2\x82z"), "\\xe2\\x82z") << "truncated mid-text";
  EXPECT_EQ(escaped("\xF5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
  EXPECT_EQ(escaped("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(escaped("\xFE\xFF"), "\\xfe\\xff");
}

TEST(AppendEscapedUtf8, InvalidByteDoesNotSwallowTheNextCharacter) {
  EXPECT_EQ(escaped("\xE2\xE2\x82\xAC"), "\\xe2€");
  EXPECT_EQ(escaped("\xC3\n"), "\\xc3\\n");
}

TEST(AppendEscapedUtf8, C1ControlsBecomeUnicodeEscapes) {
  EXPECT_EQ(escaped("\xC2\x9B"), "\\u009b") << "CSI";
  EXPECT_EQ(escaped("\xC2\x85"), "\\u0085") << "NEL";
  EXPECT_EQ(escaped("\xC2\x80"), "\\u0080");
  EXPECT_EQ(escaped("\xC2\x9F"), "\\u009f");
}

TEST(AppendEscapedUtf8, LineAndParagraphSeparatorsBecomeUnicodeEscapes) {
  EXPECT_EQ(escaped("a\xE2\x80\xA8z"), "a\\u2028z");
  EXPECT_EQ(escaped("\xE2\x80\xA9"), "\\u2029");
  EXPECT_EQ(escaped("\xE2\x80\xA6"), "…") << "U+2026 is ordinary";
}

TEST(AppendEscapedUtf8, AppendsToExistingText) {
  std::string out = "[tcp/127.0.0.1:1] ";
  appendEscapedUtf8(asBytes("x\n"), out);
  EXPECT_EQ(out, "[tcp/127.0.0.1:1] x\\n");
}

TEST(PayloadRenderer, ShortPayloadRendersLikeAppendEscapedUtf8) {
  PayloadRenderer renderer;
  std::string_view text = "a\n\x80\xC2\x9B안녕";
  EXPECT_EQ(rendered(renderer, text), escaped(text));
}

TEST(PayloadRenderer, TruncationReportsHiddenBytes) {
  PayloadRenderer renderer("utf-8", 5);
  EXPECT_EQ(rendered(renderer, "hello world"), "hello …(+6 bytes)");
  EXPECT_EQ(rendered(renderer, "hello"), "hello") << "exactly the limit is not cut";
  EXPECT_EQ(rendered(renderer, "hello!"), "hello …(+1 bytes)");
}

TEST(PayloadRenderer, TruncationCountsPayloadBytesNotEscapedText) {
  PayloadRenderer renderer("utf-8", 3);
  EXPECT_EQ(rendered(renderer, "\n\n\n\n"), "\\n\\n\\n …(+1 bytes)");
}

TEST(PayloadRenderer, TruncationCutsAtCharacterBoundary) {
  for (std::size_t max : {6u, 7u, 8u}) {
    PayloadRenderer renderer("utf-8", max);
    EXPECT_EQ(rendered(renderer, kHelloKo), "안녕 …(+9 bytes)") << max;
  }
  PayloadRenderer two("utf-8", 2);
  EXPECT_EQ(rendered(two, kHelloKo), " …(+15 bytes)");
  PayloadRenderer exact("utf-8", 15);
  EXPECT_EQ(rendered(exact, kHelloKo), kHelloKo);
  PayloadRenderer emoji("utf-8", 4);
  EXPECT_EQ(rendered(emoji, "a\xF0\x9F\x98\x80"), "a …(+4 bytes)");
}

TEST(PayloadRenderer, TruncationShowsInvalidBytesUpToTheLimit) {
  // Stray continuation bytes are one "character" each: nothing to back off.
  PayloadRenderer renderer("utf-8", 4);
  EXPECT_EQ(rendered(renderer, "\x80\x80\x80\x80\x80"), "\\x80\\x80\\x80\\x80 …(+1 bytes)");
  EXPECT_EQ(rendered(renderer, "abc\xE2z"), "abc\\xe2 …(+1 bytes)");
}

TEST(PayloadRenderer, TotalBytesMarksAHeadOnly) {
  PayloadRenderer renderer;
  EXPECT_EQ(rendered(renderer, "hello", 100), "hello …(+95 bytes)");
  EXPECT_EQ(rendered(renderer, "hello", 5), "hello");
  EXPECT_EQ(rendered(renderer, "hello", 2), "hello") << "a total below the head is ignored";
  PayloadRenderer small("utf-8", 3);
  EXPECT_EQ(rendered(small, "hello", 100), "hel …(+97 bytes)");
}

TEST(PayloadRenderer, HeadEndingMidCharacterIsCutBeforeIt) {
  PayloadRenderer renderer;
  // The head holds 2 of the 3 bytes of U+C548; the rest is still to come.
  EXPECT_EQ(rendered(renderer, "ab\xEC\x95", 17), "ab …(+15 bytes)");
  // Without more bytes to come the same bytes are simply invalid.
  EXPECT_EQ(rendered(renderer, "ab\xEC\x95"), "ab\\xec\\x95");
}

TEST(PayloadRenderer, Cp949KoreanRendersAsKorean) {
  PayloadRenderer renderer("cp949");
  EXPECT_EQ(rendered(renderer, kHelloKoCp949), kHelloKo);
  PayloadRenderer upper("CP949");
  EXPECT_EQ(rendered(upper, kHelloKoCp949), kHelloKo);
}

TEST(PayloadRenderer, EucKrKoreanRendersAsKorean) {
  PayloadRenderer renderer("euc-kr");
  EXPECT_EQ(rendered(renderer, kHelloKoCp949), kHelloKo);
}

TEST(PayloadRenderer, Cp949AsciiAndControlsAreEscapedAsUsual) {
  PayloadRenderer renderer("cp949");
  EXPECT_EQ(rendered(renderer, "id=7\n\\"), "id=7\\n\\\\");
  EXPECT_EQ(rendered(renderer, "\x1b[2J"), "\\x1b[2J");
}

TEST(PayloadRenderer, Cp949InvalidSequenceBecomesHexAndRestDecodes) {
  PayloadRenderer renderer("cp949");
  EXPECT_EQ(rendered(renderer, "\xFF\xBE\xC8"), "\\xff안");
  EXPECT_EQ(rendered(renderer, "\xBE\xC8\x80\xB3\xE7"), "안\\x80녕");
  EXPECT_EQ(rendered(renderer, "\xBE\x20\xB3\xE7"), "\\xbe 녕") << "lead byte with a bad trail";
}

TEST(PayloadRenderer, Cp949IncompleteCharacterAtTheEndBecomesHex) {
  PayloadRenderer renderer("cp949");
  EXPECT_EQ(rendered(renderer, "\xBE\xC8\xB3"), "안\\xb3");
}

TEST(PayloadRenderer, Cp949TruncationCutsAtCharacterBoundary) {
  PayloadRenderer renderer("cp949", 5);
  EXPECT_EQ(rendered(renderer, kHelloKoCp949), "안녕 …(+6 bytes)");
  PayloadRenderer four("cp949", 4);
  EXPECT_EQ(rendered(four, kHelloKoCp949), "안녕 …(+6 bytes)");
  PayloadRenderer head("cp949");
  EXPECT_EQ(rendered(head, kHelloKoCp949.substr(0, 3), 10), "안 …(+8 bytes)");
}

TEST(PayloadRenderer, RendererIsReusableAfterAnError) {
  PayloadRenderer renderer("cp949", 5);
  EXPECT_EQ(rendered(renderer, "\xBE"), "\\xbe");
  EXPECT_EQ(rendered(renderer, kHelloKoCp949.substr(0, 4)), "안녕");
  EXPECT_EQ(rendered(renderer, kHelloKoCp949), "안녕 …(+6 bytes)");
  EXPECT_EQ(rendered(renderer, kHelloKoCp949.substr(0, 4)), "안녕");
}

TEST(PayloadRenderer, UnknownEncodingThrowsInvalidArgument) {
  EXPECT_THROW(PayloadRenderer("no-such-charset-xyz"), std::invalid_argument);
}

TEST(PayloadRenderer, Utf8NamesAreRecognised) {
  EXPECT_TRUE(PayloadRenderer::isUtf8Name("utf-8"));
  EXPECT_TRUE(PayloadRenderer::isUtf8Name("UTF8"));
  EXPECT_TRUE(PayloadRenderer::isUtf8Name("Utf_8"));
  EXPECT_FALSE(PayloadRenderer::isUtf8Name("cp949"));
  EXPECT_FALSE(PayloadRenderer::isUtf8Name("utf-16"));
  EXPECT_FALSE(PayloadRenderer::isUtf8Name(""));
}

// --- Properties over random bytes --------------------------------------------

bool hasNoControlBytes(std::string_view text) {
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) return false;
  }
  return true;
}

// Random bytes that often look like text: ASCII, controls, UTF-8 leads and
// continuations, CP949 leads.
std::string randomBytes(std::mt19937& rng) {
  static constexpr unsigned char kInteresting[] = {0x00, 0x0A, 0x1B, 0x5C, 0x7F, 0x80, 0x9B, 0xA8,
                                                   0xBE, 0xC2, 0xC8, 0xE2, 0xED, 0xF0, 0xF4, 0xFF};
  std::string s(rng() % 48, '\0');
  for (char& c : s) {
    unsigned r = rng();
    c = static_cast<char>((r & 3) == 0 ? kInteresting[(r >> 2) % 16] : (r >> 8) & 0xFF);
  }
  return s;
}

// The oracle the random tests trust, checked against RFC 3629's own examples
// of what is and is not UTF-8.
TEST(IsValidUtf8Oracle, AcceptsWellFormedAndRejectsIllFormedSequences) {
  for (std::string_view good :
       {"", "abc", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xEC\x95\x88\xEB\x85\x95"}) {
    EXPECT_TRUE(isValidUtf8(good)) << testing::PrintToString(good);
  }
  for (std::string_view bad :
       {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xED\xBF\xBF",
        "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFF",
        "\xC2", "\xE0\xA0", "\xC2\x41", "a\xEC\x95"}) {
    EXPECT_FALSE(isValidUtf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(PayloadRenderer, RandomBytesGiveValidUtf8WithoutControlBytes) {
  std::mt19937 rng(20261125);
  PayloadRenderer utf8("utf-8", 1024), utf8Short("utf-8", 7);
  PayloadRenderer cp949("cp949", 1024), cp949Short("cp949", 7);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = randomBytes(rng);
    for (PayloadRenderer* r : {&utf8, &utf8Short, &cp949, &cp949Short}) {
      std::string out = rendered(*r, bytes, rng() % 2 == 0 ? 0 : bytes.size() + rng() % 5);
      ASSERT_TRUE(isValidUtf8(out)) << out;
      ASSERT_TRUE(hasNoControlBytes(out)) << out;
    }
  }
}

TEST(AppendEscapedUtf8, RandomBytesRoundTripThroughUnescape) {
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = randomBytes(rng);
    std::string out = escaped(bytes);
    ASSERT_TRUE(isValidUtf8(out));
    ASSERT_TRUE(hasNoControlBytes(out));
    ASSERT_EQ(unescape(out), bytes);
  }
}

// A truncated rendering shows exactly the first (total - K) bytes.
TEST(PayloadRenderer, RandomTruncationShowsExactlyTheUnhiddenPrefix) {
  std::mt19937 rng(5);
  constexpr std::string_view kNoteStart = " …(+";
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = randomBytes(rng);
    std::size_t max = rng() % 12;
    PayloadRenderer renderer("utf-8", max);
    std::string out = rendered(renderer, bytes);
    std::size_t shown = bytes.size();
    if (bytes.size() > max) {
      std::size_t note = out.rfind(kNoteStart);
      ASSERT_NE(note, std::string::npos) << out;
      std::size_t hidden = 0;
      std::string_view digits = std::string_view(out).substr(note + kNoteStart.size());
      std::from_chars(digits.data(), digits.data() + digits.size(), hidden);
      ASSERT_EQ(out.substr(note), " …(+" + std::to_string(hidden) + " bytes)");
      ASSERT_GE(hidden, bytes.size() - max);
      ASSERT_LE(hidden, bytes.size() - max + 3) << "backs off by at most 3 bytes";
      shown = bytes.size() - hidden;
      out.resize(note);
    }
    ASSERT_EQ(unescape(out), bytes.substr(0, shown)) << i;
  }
}

}  // namespace
}  // namespace uvframe
