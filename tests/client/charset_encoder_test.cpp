// CharsetEncoder: UTF-8 input to CP949 bytes, pass-through, and errors.
#include "charset_encoder.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace uvframe {
namespace {

TEST(CharsetEncoder, Cp949BytesOfKoreanGreeting) {
  CharsetEncoder enc("cp949");
  std::string error;
  auto bytes = enc.encode("안녕하세요", error);
  ASSERT_TRUE(bytes) << error;
  EXPECT_EQ(*bytes, "\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4");
}

TEST(CharsetEncoder, Utf8PassesThroughUnchanged) {
  CharsetEncoder enc("utf-8");
  std::string error;
  EXPECT_EQ(enc.encode("안녕 \xFF", error), std::string("안녕 \xFF"));
}

TEST(CharsetEncoder, InvalidUtf8IsAnError) {
  CharsetEncoder enc("cp949");
  std::string error;
  EXPECT_FALSE(enc.encode("ab\xFF", error));
  EXPECT_NE(error.find("byte 2"), std::string::npos) << error;
}

TEST(CharsetEncoder, CharacterOutsideTheCharsetIsAnError) {
  CharsetEncoder enc("euc-kr");
  std::string error;
  EXPECT_FALSE(enc.encode("smile \xF0\x9F\x98\x80", error));
  EXPECT_FALSE(error.empty());
}

TEST(CharsetEncoder, UnknownEncodingThrows) {
  EXPECT_THROW(CharsetEncoder("no-such-charset"), std::invalid_argument);
}

}  // namespace
}  // namespace uvframe
