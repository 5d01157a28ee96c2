// Unit tests for common/payload_renderer: the escaping rules of the SPEC
// ("Server log lines"), truncation with " …(+K bytes)", CP949/EUC-KR
// decoding, and properties over random bytes (valid UTF-8 out, no control
// bytes, and the escaping can be undone exactly).
#include "payload_renderer.h"

#include <gtest/gtest.h>
#include <iconv.h>

#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "test_bytes.h"

namespace uvframe {
namespace {

using test::asBytes;
using test::isSafeLogText;
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

// The UTF-8 of a sequence of code points (below U+10000).
std::string utf8Of(std::initializer_list<unsigned> cps) {
  std::string out;
  for (unsigned cp : cps)
    test::appendUtf8(cp, out);
  return out;
}

std::string repeated(std::string_view unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i)
    out += unit;
  return out;
}

// "\u" and four lowercase hex digits: the form the renderer writes.
std::string unicodeEscapeOf(unsigned cp) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", cp);
  return buf;
}

TEST(AppendEscapedUtf8, BidiAndInvisibleFormatCharactersBecomeUnicodeEscapes) {
  // Bidi: LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM reorder what a
  // viewer shows. Invisible: ZWSP ZWNJ ZWJ, WORD JOINER, the invisible
  // operators and the BOM hide text or split a word unseen.
  for (unsigned cp : {0x202Au, 0x202Bu, 0x202Cu, 0x202Du, 0x202Eu, 0x2066u, 0x2067u,
                      0x2068u, 0x2069u, 0x200Eu, 0x200Fu, 0x061Cu, 0x200Bu, 0x200Cu,
                      0x200Du, 0x2060u, 0x2061u, 0x2062u, 0x2063u, 0x2064u, 0xFEFFu}) {
    EXPECT_EQ(escaped("a" + utf8Of({cp}) + "z"), "a" + unicodeEscapeOf(cp) + "z") << std::hex << cp;
  }
  EXPECT_EQ(escaped("\xE2\x80\xAE"), "\\u202e");
  EXPECT_EQ(escaped("\xD8\x9C"), "\\u061c") << "ARABIC LETTER MARK";
  EXPECT_EQ(escaped("\xEF\xBB\xBFid=7"), "\\ufeffid=7") << "a BOM at the start too";
}

TEST(AppendEscapedUtf8, NeighboursOfTheEscapedRangesAreWrittenAsIs) {
  for (unsigned cp : {0x009Fu, 0x061Cu, 0x200Bu, 0x200Fu, 0x2028u, 0x2029u, 0x202Au, 0x202Eu,
                      0x2060u, 0x2064u, 0x2066u, 0x2069u, 0xFEFFu}) {
    EXPECT_EQ(escaped(utf8Of({cp})), unicodeEscapeOf(cp)) << std::hex << cp;
  }
  for (unsigned cp : {0x00A0u, 0x061Bu, 0x061Du, 0x200Au, 0x2010u, 0x2027u, 0x202Fu, 0x205Fu,
                      0x2065u, 0x206Au, 0xFEFEu, 0xFF00u}) {
    EXPECT_EQ(escaped(utf8Of({cp})), utf8Of({cp})) << std::hex << cp;
  }
}

// Every code point of the BMP against the oracle's list of ranges, so the
// renderer's byte patterns and the list cannot drift apart unnoticed.
TEST(AppendEscapedUtf8, EveryBmpCodePointIsEscapedExactlyWhenTheOracleSaysSo) {
  for (unsigned cp = 0x80; cp <= 0xFFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // surrogates are not characters
    std::string raw = utf8Of({cp});
    std::string want = test::isUnicodeEscaped(cp) ? unicodeEscapeOf(cp) : raw;
    ASSERT_EQ(escaped(raw), want) << std::hex << cp;
  }
}

TEST(AppendEscapedUtf8, TrojanSourceLineShowsItsHiddenControls) {
  // The "commenting-out" example of CVE-2021-42574, as a peer could send it.
  std::string attack = "/*" + utf8Of({0x202E}) + " } " + utf8Of({0x2066}) + "if (isAdmin)" +
                       utf8Of({0x2069}) + " " + utf8Of({0x2066}) + " begin admins only */";
  EXPECT_EQ(escaped(attack), "/*\\u202e } \\u2066if (isAdmin)\\u2069 \\u2066 begin admins only */");
}

TEST(AppendEscapedUtf8, EscapesAmongKoreanAndAsciiKeepTheirNeighbours) {
  std::string text = std::string(kHelloKo) + utf8Of({0x200B}) + "ok" + utf8Of({0x202E}) +
                     std::string(kHelloKo) + "\n";
  EXPECT_EQ(escaped(text),
            std::string(kHelloKo) + "\\u200bok\\u202e" + std::string(kHelloKo) + "\\n");
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

TEST(PayloadRenderer, TruncationNeverSplitsAUnicodeEscape) {
  // "ab" U+202E "cd": the escape stands for bytes 2..4, all or nothing.
  const std::string text = "ab" + utf8Of({0x202E}) + "cd";
  for (std::size_t max : {2u, 3u, 4u}) {
    PayloadRenderer renderer("utf-8", max);
    EXPECT_EQ(rendered(renderer, text), "ab …(+5 bytes)") << max;
  }
  PayloadRenderer five("utf-8", 5);
  EXPECT_EQ(rendered(five, text), "ab\\u202e …(+2 bytes)") << "the cut right after it";
  PayloadRenderer whole("utf-8", 7);
  EXPECT_EQ(rendered(whole, text), "ab\\u202ecd");
  PayloadRenderer alm("utf-8", 3);
  EXPECT_EQ(rendered(alm, "ab" + utf8Of({0x061C})), "ab …(+2 bytes)") << "two-byte U+061C";
  PayloadRenderer bom("utf-8", 3);
  EXPECT_EQ(rendered(bom, utf8Of({0xFEFF}) + "x"), "\\ufeff …(+1 bytes)");
  PayloadRenderer head;  // only the head is at hand, ending inside U+202E
  EXPECT_EQ(rendered(head, "ab\xE2\x80", 9), "ab …(+7 bytes)");
}

// CP949 cannot encode any of the escaped code points (glibc's CP949, EUC-KR
// and JOHAB decode none of their 1- and 2-byte sequences to one), so the
// bidi controls a CP949 peer could send are the raw UTF-8 bytes, which CP949
// does not decode: they stay \xNN.
TEST(PayloadRenderer, Cp949NeverDecodesToABidiControl) {
  PayloadRenderer renderer("cp949");
  EXPECT_EQ(rendered(renderer, "\xBE\xC8\xE2\x80\xAE"), "안\\xe2\\x80\\xae");
  EXPECT_EQ(rendered(renderer, "\xEF\xBB\xBF"), "\xE7\x99\xA4\\xbf") << "U+7664 then a bad byte";
  PayloadRenderer cut("cp949", 4);
  EXPECT_EQ(rendered(cut, "\xBE\xC8\xE2\x80\xAE"), "안\\xe2\\x80 …(+1 bytes)");
}

// GB18030 encodes all of Unicode (these as 4-byte sequences), so a decoded
// payload can carry every escaped code point: the same rule applies to it.
TEST(PayloadRenderer, DecodedBidiAndInvisibleCharactersAreEscaped) {
  PayloadRenderer renderer("gb18030");
  EXPECT_EQ(rendered(renderer, "a\x81\x36\xA7\x31z"), "a\\u202ez") << "U+202E RLO";
  EXPECT_EQ(rendered(renderer, "\x81\x36\xAC\x32\x81\x36\xAC\x35"), "\\u2066\\u2069");
  EXPECT_EQ(rendered(renderer, "\x81\x36\xA4\x37\x84\x31\x95\x33"), "\\u200b\\ufeff");
  EXPECT_EQ(rendered(renderer, "\x81\x31\x82\x38\x81\x36\xAB\x36"), "\\u061c\\u2060");
  EXPECT_EQ(rendered(renderer, "\x81\x36\xA7\x32"), utf8Of({0x202F})) << "U+202F is ordinary";
  EXPECT_EQ(rendered(renderer, "\x81\x36\xAC\x31"), utf8Of({0x2065})) << "U+2065 is ordinary";
  PayloadRenderer utf16("UTF-16LE");
  EXPECT_EQ(rendered(utf16, std::string_view("\x2E\x20\x41\x00\xFF\xFE", 6)), "\\u202eA\\ufeff");
}

TEST(PayloadRenderer, DecodedCutNeverSplitsAnEscape) {
  // "ab" + GB18030 U+202E (4 bytes) + "cd".
  const std::string_view text =
      "ab\x81\x36\xA7\x31"
      "cd";
  for (std::size_t max : {3u, 4u, 5u}) {
    PayloadRenderer renderer("gb18030", max);
    EXPECT_EQ(rendered(renderer, text), "ab …(+6 bytes)") << max;
  }
  PayloadRenderer six("gb18030", 6);
  EXPECT_EQ(rendered(six, text), "ab\\u202e …(+2 bytes)");
}

// Bug: renderDecoded sized iconv's output at 4 UTF-8 bytes per input byte
// and treated E2BIG like a bad byte. In TSCII one byte can be a ligature of
// four Tamil code points (0x82 is U+0BB8 U+0BCD U+0BB0 U+0BC0, 12 bytes of
// UTF-8), so valid text came out as \xNN or was dropped.
TEST(PayloadRenderer, TsciiLigatureOutgrowingFourBytesPerByteRendersWhole) {
  const std::string sri = utf8Of({0x0BB8, 0x0BCD, 0x0BB0, 0x0BC0});
  ASSERT_EQ(sri, "ஸ்ரீ");
  PayloadRenderer renderer("TSCII");
  EXPECT_EQ(rendered(renderer, "\x82\x82\x82\x82"), sri + sri + sri + sri);
  EXPECT_EQ(rendered(renderer, "\x82\x82\x82\x82z"), sri + sri + sri + sri + "z");
  // 0x87 is U+0B95 U+0BCD U+0BB7, and 0x8C the same with another U+0BCD.
  const std::string ksha = utf8Of({0x0B95, 0x0BCD, 0x0BB7});
  const std::string kshaVirama = ksha + utf8Of({0x0BCD});
  EXPECT_EQ(rendered(renderer, "\x8C\x87\x8C\x87\x8C\x87"),
            kshaVirama + ksha + kshaVirama + ksha + kshaVirama + ksha);
  const std::string many = repeated(sri, 1024);
  std::string out = rendered(renderer, std::string(1024, '\x82'));
  EXPECT_EQ(out.size(), many.size());
  EXPECT_TRUE(out == many) << "1024 ligatures";
}

// Long payloads are decoded 1024 bytes at a time: a character split by the
// end of a chunk, or held back across it, must come out whole.
TEST(PayloadRenderer, DecodingInChunksKeepsCharactersWhole) {
  PayloadRenderer cp949("cp949", 4096);
  // Byte 1023 is the lead of a Hangul syllable, byte 1024 its trail.
  EXPECT_TRUE(rendered(cp949, "a" + repeated(kHelloKoCp949.substr(0, 2), 1500)) ==
              "a" + repeated("안", 1500));
  PayloadRenderer tscii("TSCII", 4096);
  // Byte 1023 is 0x8A: U+0BB8, with its U+0BCD held into the next chunk.
  const std::string sriSaVirama = utf8Of({0x0BB8, 0x0BCD, 0x0BB0, 0x0BC0, 0x0BB8, 0x0BCD});
  EXPECT_TRUE(rendered(tscii, repeated("\x82\x8A", 1500)) == repeated(sriSaVirama, 1500));
}

// TSCII holds a character back until it sees the next byte (a virama or a
// vowel sign written before its consonant). It must be written at the end of
// the payload and before an escaped bad byte, not dropped.
TEST(PayloadRenderer, TsciiCharacterHeldBackIsWrittenAtTheEnd) {
  PayloadRenderer renderer("TSCII");
  const std::string saVirama = utf8Of({0x0BB8, 0x0BCD});
  EXPECT_EQ(rendered(renderer, "\x8A"), saVirama) << "U+0BB8 then the held U+0BCD";
  EXPECT_EQ(rendered(renderer, "\xA6"), utf8Of({0x0BC6})) << "a vowel sign E alone";
  EXPECT_EQ(rendered(renderer, "\xA6\xB8"), utf8Of({0x0B95, 0x0BC6})) << "after its consonant";
  EXPECT_EQ(rendered(renderer, "\x8A\xFF\x8A"), saVirama + "\\xff" + saVirama);
  // CP1258 holds each letter back in case a combining accent follows.
  PayloadRenderer vietnamese("CP1258");
  EXPECT_EQ(rendered(vietnamese, "abc"), "abc");
  EXPECT_EQ(rendered(vietnamese, "e\xCC"), utf8Of({0x00E8})) << "e + U+0300 composed";
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

// --- --payload-encoding auto ----------------------------------------------------

// text (UTF-8) converted to CP949 by iconv.
std::string toCp949(std::string_view utf8) {
  iconv_t cd = iconv_open("CP949", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv: no CP949");
  std::string out(utf8.size() * 2 + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t inLeft = utf8.size();
  char* o = out.data();
  std::size_t outLeft = out.size();
  std::size_t rc = iconv(cd, &in, &inLeft, &o, &outLeft);
  iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) throw std::runtime_error("iconv: not CP949");
  out.resize(out.size() - outLeft);
  return out;
}

RenderedAs renderedAs(PayloadRenderer& renderer, std::string_view bytes, std::size_t total = 0) {
  std::string out;
  return renderer.render(asBytes(bytes), out, total);
}

TEST(PayloadRendererAuto, NameIsRecognised) {
  EXPECT_TRUE(PayloadRenderer::isAutoName("auto"));
  EXPECT_TRUE(PayloadRenderer::isAutoName("AUTO"));
  EXPECT_FALSE(PayloadRenderer::isAutoName("utf-8"));
  EXPECT_FALSE(PayloadRenderer::isAutoName("autox"));
  EXPECT_NO_THROW(PayloadRenderer("Auto"));
}

TEST(PayloadRendererAuto, KoreanUtf8IsWrittenAsIs) {
  PayloadRenderer renderer("auto");
  EXPECT_EQ(rendered(renderer, kHelloKo), kHelloKo);
  EXPECT_EQ(renderedAs(renderer, kHelloKo), RenderedAs::kUtf8);
  EXPECT_EQ(rendered(renderer, "plain ascii\n"), "plain ascii\\n");
  EXPECT_EQ(rendered(renderer, ""), "");
}

TEST(PayloadRendererAuto, HangulCp949IsDecodedToKorean) {
  PayloadRenderer renderer("auto");
  ASSERT_EQ(toCp949(kHelloKo), kHelloKoCp949);
  EXPECT_EQ(rendered(renderer, kHelloKoCp949), kHelloKo);
  EXPECT_EQ(renderedAs(renderer, kHelloKoCp949), RenderedAs::kCharset);
  std::string all = toCp949("반갑습니다 똠방각하 휄 뷁");  // KS X 1001 and UHC-only syllables
  EXPECT_EQ(rendered(renderer, all), "반갑습니다 똠방각하 휄 뷁");
}

TEST(PayloadRendererAuto, Cp949HangulWithAsciiAndControlsIsDecoded) {
  PayloadRenderer renderer("auto");
  std::string text = "id=7 " + std::string(kHelloKoCp949) + " [ok]\r\n";
  EXPECT_EQ(rendered(renderer, text), "id=7 안녕하세요 [ok]\\r\\n");
  EXPECT_EQ(rendered(renderer, "\x1b[2J" + std::string(kHelloKoCp949)), "\\x1b[2J안녕하세요");
}

TEST(PayloadRendererAuto, Cp949WithHanjaOrSymbolsStaysEscaped) {
  PayloadRenderer autoRenderer("auto");
  PayloadRenderer utf8("utf-8");
  for (std::string_view text : {"안녕 漢字", "안녕★", "ㅋㅋㅋ", "안녕 ㄱ", "가·나", "①"}) {
    std::string bytes = toCp949(text);
    EXPECT_EQ(rendered(autoRenderer, bytes), rendered(utf8, bytes)) << text;
    EXPECT_EQ(renderedAs(autoRenderer, bytes), RenderedAs::kInvalidEscaped) << text;
  }
  // C8 A1 happens to be valid UTF-8 (U+0221): escaped as "utf-8" would.
  EXPECT_EQ(rendered(autoRenderer, toCp949("안★")), "\\xbe\xC8\xA1\\xda");
}

TEST(PayloadRendererAuto, BinaryPayloadsStayEscaped) {
  PayloadRenderer autoRenderer("auto");
  PayloadRenderer utf8("utf-8");
  PayloadRenderer cp949("cp949");
  // Valid CP949 by accident (two symbols, a Hanja, a Hangul), not only Hangul.
  std::string_view accident = "\xA1\xA1\xA2\xA2\xCA\xA1\xB0\xA1";
  EXPECT_EQ(renderedAs(cp949, accident), RenderedAs::kCharset);
  EXPECT_EQ(rendered(autoRenderer, accident), rendered(utf8, accident));
  EXPECT_EQ(renderedAs(autoRenderer, accident), RenderedAs::kInvalidEscaped);
  // Binary that happens to be ASCII and Hangul pairs reads as Hangul: the
  // rule cannot tell (9F A0 is U+C75D).
  EXPECT_EQ(rendered(autoRenderer, "\x01\x9f\xa0"), "\\x01\xEC\x9C\x9D");
  // Half a syllable, a stray byte, and bytes CP949 has no use for.
  for (std::string_view bytes : {"\xB0", "\xB0\xA1\xB0", "\x80", "\xFF\xFE", "\xB0\xA1\xC9\xA1",
                                 "\xC6\x53", "\x01\x02\xc9\xfe"}) {
    EXPECT_EQ(rendered(autoRenderer, bytes), rendered(utf8, bytes)) << escaped(bytes);
    EXPECT_EQ(renderedAs(autoRenderer, bytes), RenderedAs::kInvalidEscaped) << escaped(bytes);
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(64, '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng() & 0xFF);
    EXPECT_EQ(rendered(autoRenderer, bytes), rendered(utf8, bytes)) << i;
  }
}

TEST(PayloadRendererAuto, DecisionIsPerPayloadNotPerByte) {
  PayloadRenderer renderer("auto");
  // UTF-8 Korean next to CP949 Korean: neither whole, so all escaped.
  std::string mixed = std::string(kHelloKo) + std::string(kHelloKoCp949);
  PayloadRenderer utf8("utf-8");
  EXPECT_EQ(rendered(renderer, mixed), rendered(utf8, mixed));
  EXPECT_EQ(rendered(renderer, mixed).substr(0, kHelloKo.size()), kHelloKo);
}

TEST(PayloadRendererAuto, TruncatedUtf8IsStillUtf8) {
  PayloadRenderer seven("auto", 7);
  EXPECT_EQ(rendered(seven, kHelloKo), "안녕 …(+9 bytes)");
  EXPECT_EQ(renderedAs(seven, kHelloKo), RenderedAs::kUtf8);
  PayloadRenderer head("auto");
  EXPECT_EQ(rendered(head, kHelloKo.substr(0, 4), 15), "안 …(+12 bytes)");
  EXPECT_EQ(renderedAs(head, kHelloKo.substr(0, 4), 15), RenderedAs::kUtf8);
  // Not cut: a character missing its end is invalid, as in "utf-8".
  EXPECT_EQ(rendered(head, kHelloKo.substr(0, 4)), "안\\xeb");
}

TEST(PayloadRendererAuto, TruncatedCp949IsStillKorean) {
  PayloadRenderer five("auto", 5);
  EXPECT_EQ(rendered(five, kHelloKoCp949), "안녕 …(+6 bytes)");
  EXPECT_EQ(renderedAs(five, kHelloKoCp949), RenderedAs::kCharset);
  PayloadRenderer four("auto", 4);
  EXPECT_EQ(rendered(four, kHelloKoCp949), "안녕 …(+6 bytes)");
  PayloadRenderer head("auto");
  EXPECT_EQ(rendered(head, kHelloKoCp949.substr(0, 3), 10), "안 …(+8 bytes)");
  // The character at the limit is checked with the byte past it: a symbol
  // there spoils the payload even though it is not shown.
  PayloadRenderer three("auto", 3);
  EXPECT_EQ(rendered(three, toCp949("안★")), "\\xbe\xC8\xA1 …(+1 bytes)");
  // The decision is on the bytes shown: a symbol past them does not count.
  EXPECT_EQ(rendered(four, toCp949("안녕★")), "안녕 …(+2 bytes)");
}

TEST(PayloadRendererAuto, FixedEncodingsAreUnchanged) {
  PayloadRenderer utf8("utf-8");
  EXPECT_EQ(rendered(utf8, kHelloKoCp949), "\\xbe\xC8\xB3\\xe7\\xc7\xCF\xBC\\xbc\\xbf\\xe4");
  EXPECT_EQ(renderedAs(utf8, kHelloKoCp949), RenderedAs::kInvalidEscaped);
  EXPECT_EQ(renderedAs(utf8, kHelloKo), RenderedAs::kUtf8);
  PayloadRenderer cp949("cp949");
  EXPECT_EQ(rendered(cp949, kHelloKoCp949), kHelloKo);
  EXPECT_EQ(rendered(cp949, toCp949("안녕★")), "안녕★") << "cp949 decodes symbols too";
  EXPECT_EQ(renderedAs(cp949, "\xFF"), RenderedAs::kInvalidEscaped);
}

// looksLikeKoreanCp949's table against iconv over every two-byte input.
TEST(PayloadRendererAuto, Cp949HangulTableMatchesIconv) {
  iconv_t cd = iconv_open("UTF-32LE", "CP949");
  ASSERT_NE(cd, reinterpret_cast<iconv_t>(-1));
  int hangul = 0;
  for (unsigned lead = 0x81; lead <= 0xFE; ++lead) {
    for (unsigned trail = 0; trail <= 0xFF; ++trail) {
      char pair[2] = {static_cast<char>(lead), static_cast<char>(trail)};
      char32_t cps[2] = {0, 0};
      char* in = pair;
      std::size_t inLeft = 2;
      char* o = reinterpret_cast<char*>(cps);
      std::size_t outLeft = sizeof cps;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
      std::size_t rc = iconv(cd, &in, &inLeft, &o, &outLeft);
      bool isHangul = rc != static_cast<std::size_t>(-1) && outLeft == sizeof cps - 4 &&
                      cps[0] >= 0xAC00 && cps[0] <= 0xD7A3;
      hangul += isHangul;
      ASSERT_EQ(looksLikeKoreanCp949(asBytes(std::string_view(pair, 2))), isHangul)
          << std::hex << lead << " " << trail;
    }
  }
  iconv_close(cd);
  EXPECT_EQ(hangul, 11172);
}

TEST(PayloadRendererAuto, LooksLikeKoreanCp949CutTail) {
  EXPECT_TRUE(looksLikeKoreanCp949(asBytes("abc")));
  EXPECT_TRUE(looksLikeKoreanCp949(asBytes(kHelloKoCp949)));
  EXPECT_FALSE(looksLikeKoreanCp949(asBytes(kHelloKoCp949.substr(0, 3))));
  EXPECT_TRUE(looksLikeKoreanCp949(asBytes(kHelloKoCp949.substr(0, 3)), true));
  EXPECT_FALSE(looksLikeKoreanCp949(asBytes("\xC9"), true)) << "C9 leads no syllable";
  EXPECT_FALSE(looksLikeKoreanCp949(asBytes("\xB0\xA1\x80"), true));
}

// --- Properties over random bytes --------------------------------------------

// Random bytes that often look like text: ASCII, controls, UTF-8 leads and
// continuations, CP949 leads, and whole code points at the edges of the
// escaped ranges (random bytes alone would hardly ever form those).
std::string randomBytes(std::mt19937& rng) {
  static constexpr unsigned char kInteresting[] = {0x00, 0x0A, 0x1B, 0x5C, 0x7F, 0x80, 0x9B, 0xA8,
                                                   0xBE, 0xC2, 0xC8, 0xE2, 0xED, 0xF0, 0xF4, 0xFF};
  static constexpr unsigned kEdges[] = {0x0085, 0x009F, 0x00A0, 0x061B, 0x061C, 0x200A,
                                        0x200B, 0x200F, 0x2010, 0x2029, 0x202A, 0x202E,
                                        0x202F, 0x205F, 0x2060, 0x2064, 0x2065, 0x2066,
                                        0x2069, 0x206A, 0xFEFE, 0xFEFF, 0xFF00, 0xC548};
  std::size_t size = rng() % 48;
  std::string s;
  while (s.size() < size) {
    auto r = static_cast<unsigned>(rng());
    if (r % 8 == 0) {
      test::appendUtf8(kEdges[(r >> 3) % std::size(kEdges)], s);
    } else {
      s.push_back(static_cast<char>(r % 8 < 3 ? kInteresting[(r >> 3) % 16] : (r >> 8) & 0xFF));
    }
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

// The oracle's own list of what must not appear raw, on examples.
TEST(IsSafeLogTextOracle, RejectsRawControlsSeparatorsAndFormatCharacters) {
  for (std::string_view good : {"", "abc \\u202e \\x1b", "안녕", "\xC2\xA0", "\xE2\x80\xAF",
                                "\xE2\x81\xA5", "\xE2\x81\xAA", "\xEF\xBB\xBE"}) {
    EXPECT_TRUE(isSafeLogText(good)) << testing::PrintToString(good);
  }
  EXPECT_FALSE(isSafeLogText(std::string_view("\0", 1)));
  for (std::string_view bad :
       {"\n", "\x1b", "\x7f", "\xC2\x85", "\xD8\x9C", "\xE2\x80\x8B", "\xE2\x80\x8F",
        "\xE2\x80\xA8", "\xE2\x80\xAE", "\xE2\x81\xA0", "\xE2\x81\xA4", "\xE2\x81\xA6",
        "\xE2\x81\xA9", "\xEF\xBB\xBF", "\xFF"}) {
    EXPECT_FALSE(isSafeLogText(bad)) << testing::PrintToString(bad);
  }
}

TEST(PayloadRenderer, RandomBytesGiveSafeLogText) {
  std::mt19937 rng(20261125);
  PayloadRenderer utf8("utf-8", 1024), utf8Short("utf-8", 7);
  PayloadRenderer cp949("cp949", 1024), cp949Short("cp949", 7);
  PayloadRenderer gb18030("gb18030", 1024), gb18030Short("gb18030", 7);
  PayloadRenderer tscii("TSCII", 1024), tsciiShort("TSCII", 7);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = randomBytes(rng);
    for (PayloadRenderer* r :
         {&utf8, &utf8Short, &cp949, &cp949Short, &gb18030, &gb18030Short, &tscii, &tsciiShort}) {
      std::string out = rendered(*r, bytes, rng() % 2 == 0 ? 0 : bytes.size() + rng() % 5);
      ASSERT_TRUE(isSafeLogText(out)) << out;
    }
  }
}

TEST(AppendEscapedUtf8, RandomBytesRoundTripThroughUnescape) {
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = randomBytes(rng);
    std::string out = escaped(bytes);
    ASSERT_TRUE(isSafeLogText(out)) << out;
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

// "auto" renders each payload exactly as one fixed encoding would: UTF-8
// when it is valid, CP949 when it is Hangul and ASCII, else UTF-8 escaping.
TEST(PayloadRendererAuto, RandomPayloadsRenderAsTheChosenEncoding) {
  std::mt19937 rng(17);
  PayloadRenderer autoRenderer("auto");
  PayloadRenderer utf8("utf-8");
  PayloadRenderer cp949("cp949");
  int korean = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = randomBytes(rng);
    if (i % 3 == 0) {
      // Hangul pairs and ASCII, sometimes with one stray byte.
      bytes.clear();
      for (std::size_t k = rng() % 8; k > 0; --k) {
        if (rng() % 2) bytes += static_cast<char>(0x20 + rng() % 0x5F);
        bytes += static_cast<char>(0xB0 + rng() % 0x19);
        bytes += static_cast<char>(0xA1 + rng() % 0x5E);
      }
      if (rng() % 4 == 0) bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng()));
    }
    PayloadRenderer& expected = isValidUtf8(bytes)                     ? utf8
                                : looksLikeKoreanCp949(asBytes(bytes)) ? cp949
                                                                       : utf8;
    korean += &expected == &cp949;
    ASSERT_EQ(rendered(autoRenderer, bytes), rendered(expected, bytes)) << escaped(bytes);
  }
  EXPECT_GT(korean, 500);
}

}  // namespace
}  // namespace uvframe
