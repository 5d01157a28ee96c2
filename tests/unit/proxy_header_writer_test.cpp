// Unit tests for common/proxy_header_writer: exact bytes of v1 and v2 PROXY
// headers against the layout and examples of HAProxy's proxy-protocol.txt.
#include "proxy_header_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace uvframe {
namespace {

PeerAddress addr(const char* ip, std::uint16_t port) {
  return PeerAddress{ip, port, std::string_view(ip).find(':') != std::string_view::npos};
}

std::string bytes(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list)
    out.push_back(static_cast<char>(b));
  return out;
}

const std::string kSig =
    bytes({0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});

TEST(ProxyHeaderWriter, V1Ipv4MatchesTheDocExample) {
  EXPECT_EQ(proxyHeaderV1(addr("192.168.0.1", 56324), addr("192.168.0.11", 443)),
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}

TEST(ProxyHeaderWriter, V1LongestIpv4LineIs56Bytes) {
  std::string h = proxyHeaderV1(addr("255.255.255.255", 65535), addr("255.255.255.255", 65535));
  EXPECT_EQ(h, "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
  EXPECT_EQ(h.size(), 56u);
}

TEST(ProxyHeaderWriter, V1Ipv6UsesCanonicalText) {
  EXPECT_EQ(proxyHeaderV1(addr("2001:DB8:0:0::1", 0), addr("::1", 9000)),
            "PROXY TCP6 2001:db8::1 ::1 0 9000\r\n");
  std::string longest = proxyHeaderV1(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
                                      addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535));
  EXPECT_EQ(longest.size(), 104u);
}

TEST(ProxyHeaderWriter, V1MixedFamiliesMapIpv4IntoIpv6) {
  EXPECT_EQ(proxyHeaderV1(addr("198.18.0.1", 40000), addr("::1", 9000)),
            "PROXY TCP6 ::ffff:198.18.0.1 ::1 40000 9000\r\n");
  EXPECT_EQ(proxyHeaderV1(addr("2001:db8::5", 1), addr("127.0.0.1", 2)),
            "PROXY TCP6 2001:db8::5 ::ffff:127.0.0.1 1 2\r\n");
}

TEST(ProxyHeaderWriter, V1Unknown) {
  EXPECT_EQ(proxyHeaderV1Unknown(), "PROXY UNKNOWN\r\n");
}

TEST(ProxyHeaderWriter, BadAddressGivesEmptyHeader) {
  EXPECT_EQ(proxyHeaderV1(addr("localhost", 1), addr("127.0.0.1", 2)), "");
  EXPECT_EQ(proxyHeaderV2(addr("127.0.0.1", 1), addr("", 2)), "");
}

TEST(ProxyHeaderWriter, V2Ipv4Layout) {
  std::string h = proxyHeaderV2(addr("192.168.0.1", 56324), addr("192.168.0.11", 443));
  std::string expected = kSig + bytes({0x21, 0x11, 0x00, 0x0C,  // v2 PROXY, TCP4, len 12
                                       192, 168, 0, 1,          // src addr
                                       192, 168, 0, 11,         // dst addr
                                       0xDC, 0x04,              // 56324
                                       0x01, 0xBB});            // 443
  EXPECT_EQ(h, expected);
  EXPECT_EQ(h.size(), 28u);
}

TEST(ProxyHeaderWriter, V2Ipv6Layout) {
  std::string h = proxyHeaderV2(addr("2001:db8::1", 41000), addr("::1", 9000));
  std::string expected = kSig + bytes({0x21, 0x21, 0x00, 0x24}) +  // v2 PROXY, TCP6, len 36
                         bytes({0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) +
                         bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) +
                         bytes({0xA0, 0x28, 0x23, 0x28});  // 41000, 9000
  EXPECT_EQ(h, expected);
  EXPECT_EQ(h.size(), 52u);
}

TEST(ProxyHeaderWriter, V2MixedFamiliesMapIpv4IntoIpv6) {
  std::string h = proxyHeaderV2(addr("198.18.0.1", 1), addr("::1", 2));
  ASSERT_EQ(h.size(), 52u);
  EXPECT_EQ(h.substr(12, 4), bytes({0x21, 0x21, 0x00, 0x24}));
  EXPECT_EQ(h.substr(16, 16), bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 18, 0, 1}));
}

TEST(ProxyHeaderWriter, V2Local) {
  EXPECT_EQ(proxyHeaderV2Local(), kSig + bytes({0x20, 0x00, 0x00, 0x00}));
  EXPECT_EQ(proxyHeaderV2Local().size(), 16u);
}

}  // namespace
}  // namespace uvframe
