// LoadgenOptions: parsing, defaults that depend on other options, and the
// checks CLI11 cannot do.
#include "loadgen_options.h"
#include "loadgen_parse.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <utility>
#include <vector>

namespace uvframe {
namespace {

using test::parseLoadgenArgs;

TEST(LoadgenOptions, SizeRange) {
  std::uint32_t lo = 0, hi = 0;
  EXPECT_TRUE(parseSizeRange("64", lo, hi));
  EXPECT_EQ(lo, 64u);
  EXPECT_EQ(hi, 64u);
  EXPECT_TRUE(parseSizeRange("10-100", lo, hi));
  EXPECT_EQ(lo, 10u);
  EXPECT_EQ(hi, 100u);
  EXPECT_TRUE(parseSizeRange("0", lo, hi));
  for (const char* bad : {"", "abc", "100-10", "-5", "5-", "1-2-3", "99999999999"}) {
    EXPECT_FALSE(parseSizeRange(bad, lo, hi)) << bad;
  }
}

TEST(LoadgenOptions, DefaultsDependOnEcho) {
  LoadgenOptions plain;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "10"}, plain), "");
  EXPECT_EQ(plain.pipeline, 65536u / 68) << "about 64 KiB of 64-byte frames in flight";
  LoadgenOptions big;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "10", "--size", "100000"}, big), "");
  EXPECT_EQ(big.pipeline, 16u) << "never fewer than 16";
  EXPECT_EQ(plain.durationS, 10.0) << "no duration and no frame count: 10 s";
  LoadgenOptions echo;
  ASSERT_EQ(
      parseLoadgenArgs({"--connections", "10", "--echo", "--frames-per-connection", "5"}, echo),
      "");
  EXPECT_EQ(echo.pipeline, 1u);
  EXPECT_EQ(echo.durationS, 0.0);
}

TEST(LoadgenOptions, ConnectionsAreRequired) {
  LoadgenOptions o;
  EXPECT_NE(parseLoadgenArgs({"--duration", "1"}, o), "");
}

TEST(LoadgenOptions, SizeAboveMaxFrameIsRejected) {
  LoadgenOptions o;
  std::string error =
      parseLoadgenArgs({"--connections", "1", "--size", "2000", "--max-frame", "1000"}, o);
  EXPECT_NE(error.find("--size"), std::string::npos) << error;
}

TEST(LoadgenOptions, SourceAddressesSplitOnCommas) {
  LoadgenOptions o;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "4", "--source-address", "127.0.0.1,127.0.0.2"}, o),
            "");
  EXPECT_EQ(o.sourceAddresses, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  LoadgenOptions bad;
  EXPECT_NE(parseLoadgenArgs({"--connections", "4", "--source-address", "localhost"}, bad), "");
}

TEST(LoadgenOptions, ThreadsDefaultToCpusAndNeverExceedConnections) {
  LoadgenOptions o;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "3"}, o, 8), "");
  EXPECT_EQ(o.threads, 3u);
  LoadgenOptions many;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "100"}, many, 8), "");
  EXPECT_EQ(many.threads, 8u);
}

TEST(LoadgenOptions, RateSelectsOpenLoop) {
  LoadgenOptions o;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "2", "--rate", "500"}, o), "");
  EXPECT_TRUE(o.openLoop());
  LoadgenOptions negative;
  EXPECT_NE(parseLoadgenArgs({"--connections", "2", "--rate", "-1"}, negative), "");
}

TEST(LoadgenOptions, ProxyProtocolIsOffUnlessAsked) {
  LoadgenOptions none;
  ASSERT_EQ(parseLoadgenArgs({"--connections", "2"}, none), "");
  EXPECT_EQ(none.proxyProtocol, ProxyProtocolVersion::kOff);
  for (auto [text, version] :
       {std::pair{"v1", ProxyProtocolVersion::kV1}, std::pair{"v2", ProxyProtocolVersion::kV2},
        std::pair{"off", ProxyProtocolVersion::kOff}}) {
    LoadgenOptions o;
    ASSERT_EQ(parseLoadgenArgs({"--connections", "2", "--proxy-protocol", text}, o), "") << text;
    EXPECT_EQ(o.proxyProtocol, version) << text;
    EXPECT_EQ(toString(o.proxyProtocol), text);
  }
  for (const char* bad : {"v3", "V1", "", "any"}) {
    LoadgenOptions o;
    std::string error = parseLoadgenArgs({"--connections", "2", "--proxy-protocol", bad}, o);
    EXPECT_NE(error.find("--proxy-protocol"), std::string::npos) << bad << ": " << error;
  }
}

}  // namespace
}  // namespace uvframe
