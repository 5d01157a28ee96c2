// PayloadPattern: the "conn=<id> seq=<n> " prefix, the filler, and matching.
#include "payload_pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace uvframe {
namespace {

std::string make(const PayloadPattern& p, std::uint64_t conn, std::uint64_t seq,
                 std::uint32_t size) {
  std::string out(size, '\0');
  p.write(conn, seq, size, out.data());
  return out;
}

bool matches(const PayloadPattern& p, const std::string& bytes, std::uint64_t conn,
             std::uint64_t seq, std::uint32_t size) {
  return p.matches(std::as_bytes(std::span(bytes.data(), bytes.size())), conn, seq, size);
}

TEST(PayloadPattern, PrefixNamesConnectionAndSequenceThenPrintableFiller) {
  PayloadPattern p(256);
  std::string s = make(p, 7, 42, 100);
  ASSERT_EQ(s.size(), 100u);
  EXPECT_EQ(s.rfind("conn=7 seq=42 ", 0), 0u) << s;
  for (char c : s)
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << s;
  EXPECT_EQ(s.find(' ', 14), std::string::npos) << "no space in the filler: " << s;
}

TEST(PayloadPattern, MatchesOnlyItsOwnFrame) {
  PayloadPattern p(1024);
  std::string s = make(p, 3, 9, 1000);
  EXPECT_TRUE(matches(p, s, 3, 9, 1000));
  EXPECT_FALSE(matches(p, s, 3, 10, 1000));
  EXPECT_FALSE(matches(p, s, 4, 9, 1000));
  EXPECT_FALSE(matches(p, s, 3, 9, 999));
  std::string corrupt = s;
  corrupt[700] ^= 0x20;
  EXPECT_FALSE(matches(p, corrupt, 3, 9, 1000));
}

TEST(PayloadPattern, FrameShorterThanPrefixCarriesItsBeginning) {
  PayloadPattern p(64);
  EXPECT_EQ(make(p, 12345, 6789, 5), "conn=");
  EXPECT_TRUE(matches(p, "conn=", 12345, 6789, 5));
  EXPECT_EQ(make(p, 1, 1, 0), "");
}

TEST(PayloadPattern, LargestNumbersFitThePrefix) {
  char buf[PayloadPattern::kMaxPrefixBytes];
  std::size_t n = PayloadPattern::writePrefix(UINT64_MAX, UINT64_MAX, buf);
  EXPECT_LE(n, PayloadPattern::kMaxPrefixBytes);
  EXPECT_EQ(std::string(buf, n), "conn=18446744073709551615 seq=18446744073709551615 ");
}

}  // namespace
}  // namespace uvframe
