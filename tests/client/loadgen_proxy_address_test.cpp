// uvframe-loadgen --proxy-protocol's made-up client addresses: inside
// 198.18.0.0/15, distinct per connection far beyond 100,000 connections, and
// the exact header a connection sends first.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "cidr.h"
#include "loadgen_proxy.h"

namespace uvframe {
namespace {

TEST(LoadgenProxy, ClientAddressesLieIn198_18Slash15) {
  auto range = CidrList::parse("198.18.0.0/15", nullptr);
  ASSERT_TRUE(range);
  for (std::uint64_t id : {0ull, 1ull, 255ull, 65535ull, 131069ull, 131070ull, 999999ull}) {
    PeerAddress p = proxyClientAddress(id);
    EXPECT_TRUE(range->contains(p)) << id << ": " << p.ip;
    EXPECT_FALSE(p.isIpv6);
    EXPECT_GE(p.port, 1024) << id;
  }
  EXPECT_EQ(proxyClientAddress(0).ip, "198.18.0.1");
  EXPECT_EQ(proxyClientAddress(0).port, 1024);
  EXPECT_EQ(proxyClientAddress(131069).ip, "198.19.255.254") << "the last host address";
  EXPECT_EQ(proxyClientAddress(131070).ip, "198.18.0.1") << "then the addresses wrap";
}

TEST(LoadgenProxy, DistinctAddressesForTheFirst131070AndPairsFarBeyond) {
  std::set<std::string> ips;
  std::set<std::pair<std::string, std::uint16_t>> pairs;
  for (std::uint64_t id = 0; id < 300000; ++id) {
    PeerAddress p = proxyClientAddress(id);
    if (id < 131070) ips.insert(p.ip);
    pairs.emplace(p.ip, p.port);
  }
  EXPECT_EQ(ips.size(), 131070u);
  EXPECT_EQ(pairs.size(), 300000u);
}

TEST(LoadgenProxy, HeadersCarryTheMadeUpSourceAndTheServerAsDestination) {
  PeerAddress server{"127.0.0.1", 9000, false};
  EXPECT_EQ(proxyHeaderForConnection(ProxyProtocolVersion::kV1, 7, server),
            "PROXY TCP4 198.18.0.8 127.0.0.1 1031 9000\r\n");
  std::string v2 = proxyHeaderForConnection(ProxyProtocolVersion::kV2, 256, server);
  ASSERT_EQ(v2.size(), 28u);
  EXPECT_EQ(v2.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
  EXPECT_EQ(v2.substr(12, 4), std::string("\x21\x11\x00\x0c", 4));
  EXPECT_EQ(v2.substr(16, 4), std::string("\xc6\x12\x01\x01", 4)) << "198.18.1.1";
  EXPECT_EQ(v2.substr(20, 4), std::string("\x7f\x00\x00\x01", 4));
  EXPECT_EQ(v2.substr(24, 4), std::string("\x05\x00\x23\x28", 4)) << "1280, 9000";
  EXPECT_EQ(proxyHeaderForConnection(ProxyProtocolVersion::kOff, 7, server), "");
  PeerAddress server6{"::1", 9000, true};
  EXPECT_EQ(proxyHeaderForConnection(ProxyProtocolVersion::kV1, 0, server6),
            "PROXY TCP6 ::ffff:198.18.0.1 ::1 1024 9000\r\n");
}

}  // namespace
}  // namespace uvframe
