// Unit tests for common/cidr: parsing CIDR lists (IPv4, IPv6, bare addresses,
// whitespace, errors naming the bad item), matching sockaddrs and PeerAddress
// text (IPv4-mapped IPv6 peers match IPv4 entries) and the normalised text.
#include "cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace uvframe {
namespace {

CidrList mustParse(std::string_view text) {
  std::string error;
  auto list = CidrList::parse(text, &error);
  EXPECT_TRUE(list) << text << ": " << error;
  return list ? *list : CidrList{};
}

std::string parseError(std::string_view text) {
  std::string error;
  auto list = CidrList::parse(text, &error);
  EXPECT_FALSE(list) << text;
  return error;
}

PeerAddress peer(const char* ip) {
  return PeerAddress{ip, 1234, std::string_view(ip).find(':') != std::string_view::npos};
}

sockaddr_in ipv4(const char* text) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &sa.sin_addr), 1);
  return sa;
}

sockaddr_in6 ipv6(const char* text) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
  return sa;
}

template <typename T>
const sockaddr* sa(const T& s) {
  return reinterpret_cast<const sockaddr*>(&s);
}

TEST(CidrList, EmptyTextIsEmptyList) {
  EXPECT_TRUE(mustParse("").empty());
  EXPECT_TRUE(mustParse("  \t ").empty());
  EXPECT_EQ(mustParse("").text(), "");
  EXPECT_FALSE(mustParse("").contains(peer("127.0.0.1")));
}

TEST(CidrList, DefaultTrustedProxies) {
  CidrList list = mustParse("127.0.0.0/8,::1/128");
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.contains(peer("127.0.0.1")));
  EXPECT_TRUE(list.contains(peer("127.255.0.9")));
  EXPECT_TRUE(list.contains(peer("::1")));
  EXPECT_FALSE(list.contains(peer("128.0.0.1")));
  EXPECT_FALSE(list.contains(peer("::2")));
  EXPECT_FALSE(list.contains(peer("10.0.0.1")));
  EXPECT_EQ(list.text(), "127.0.0.0/8,::1/128");
}

TEST(CidrList, BareAddressesAreHostRoutes) {
  CidrList list = mustParse("10.1.2.3, 2001:db8::7");
  EXPECT_TRUE(list.contains(peer("10.1.2.3")));
  EXPECT_FALSE(list.contains(peer("10.1.2.4")));
  EXPECT_TRUE(list.contains(peer("2001:db8::7")));
  EXPECT_FALSE(list.contains(peer("2001:db8::8")));
  EXPECT_EQ(list.text(), "10.1.2.3/32,2001:db8::7/128");
}

TEST(CidrList, WhitespaceAroundItemsIsTolerated) {
  CidrList list = mustParse(" 192.168.0.0/16 ,\t10.0.0.0/8\n");
  EXPECT_EQ(list.text(), "192.168.0.0/16,10.0.0.0/8");
  EXPECT_TRUE(list.contains(peer("192.168.44.1")));
}

TEST(CidrList, NonOctetPrefixes) {
  CidrList list = mustParse("198.18.0.0/15,2001:db8:80::/41");
  EXPECT_TRUE(list.contains(peer("198.18.0.0")));
  EXPECT_TRUE(list.contains(peer("198.19.255.255")));
  EXPECT_FALSE(list.contains(peer("198.20.0.0")));
  EXPECT_FALSE(list.contains(peer("198.17.255.255")));
  EXPECT_TRUE(list.contains(peer("2001:db8:80::1")));
  EXPECT_TRUE(list.contains(peer("2001:db8:ff:ffff::1")));
  EXPECT_FALSE(list.contains(peer("2001:db8:100::1")));
  EXPECT_FALSE(list.contains(peer("2001:db8:7f::1")));
}

TEST(CidrList, ZeroPrefixMatchesTheWholeFamily) {
  CidrList v4 = mustParse("0.0.0.0/0");
  EXPECT_TRUE(v4.contains(peer("1.2.3.4")));
  EXPECT_TRUE(v4.contains(peer("255.255.255.255")));
  EXPECT_FALSE(v4.contains(peer("::1")));
  CidrList v6 = mustParse("::/0");
  EXPECT_TRUE(v6.contains(peer("fe80::1")));
  EXPECT_FALSE(v6.contains(peer("1.2.3.4")));
}

TEST(CidrList, HostBitsAreCleared) {
  CidrList list = mustParse("10.1.2.3/8,2001:db8::1/32");
  EXPECT_EQ(list.text(), "10.0.0.0/8,2001:db8::/32");
  EXPECT_TRUE(list.contains(peer("10.200.0.1")));
}

TEST(CidrList, BadItemsAreNamed) {
  EXPECT_EQ(parseError("10.0.0.0/33"), "bad CIDR \"10.0.0.0/33\"");
  EXPECT_EQ(parseError("127.0.0.0/8, ::1/129"), "bad CIDR \"::1/129\"");
  EXPECT_EQ(parseError("10.0.0.0/8,localhost"), "bad CIDR \"localhost\"");
  EXPECT_EQ(parseError("10.0.0.0/"), "bad CIDR \"10.0.0.0/\"");
  EXPECT_EQ(parseError("10.0.0.0/-1"), "bad CIDR \"10.0.0.0/-1\"");
  EXPECT_EQ(parseError("10.0.0.0/8x"), "bad CIDR \"10.0.0.0/8x\"");
  EXPECT_EQ(parseError("10.0.0/8"), "bad CIDR \"10.0.0/8\"");
  EXPECT_EQ(parseError("256.0.0.1"), "bad CIDR \"256.0.0.1\"");
  EXPECT_EQ(parseError("10.0.0.0/8,,::1"), "bad CIDR \"\"");
  EXPECT_EQ(parseError("10.0.0.0/8,"), "bad CIDR \"\"");
  EXPECT_FALSE(CidrList::parse("nope", nullptr));  // no error string wanted
}

TEST(CidrList, SockaddrIpv4AndIpv6) {
  CidrList list = mustParse("127.0.0.0/8,::1/128");
  EXPECT_TRUE(list.contains(sa(ipv4("127.0.0.1"))));
  EXPECT_FALSE(list.contains(sa(ipv4("192.0.2.1"))));
  EXPECT_TRUE(list.contains(sa(ipv6("::1"))));
  EXPECT_FALSE(list.contains(sa(ipv6("::2"))));
  EXPECT_FALSE(list.contains(static_cast<const sockaddr*>(nullptr)));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_FALSE(list.contains(sa(un)));
}

TEST(CidrList, MappedIpv6PeersMatchIpv4Entries) {
  CidrList list = mustParse("10.0.0.0/8");
  EXPECT_TRUE(list.contains(sa(ipv6("::ffff:10.9.8.7"))));
  EXPECT_FALSE(list.contains(sa(ipv6("::ffff:11.9.8.7"))));
  EXPECT_TRUE(list.contains(peer("::ffff:10.9.8.7")));
  // An IPv6 entry in the mapped range is the IPv4 network it covers.
  CidrList mapped = mustParse("::ffff:192.0.2.0/120");
  EXPECT_EQ(mapped.text(), "192.0.2.0/24");
  EXPECT_TRUE(mapped.contains(peer("192.0.2.99")));
  EXPECT_TRUE(mapped.contains(sa(ipv6("::ffff:192.0.2.1"))));
}

TEST(CidrList, NonNumericPeerTextMatchesNothing) {
  CidrList list = mustParse("0.0.0.0/0,::/0");
  EXPECT_FALSE(list.contains(peer("")));
  EXPECT_FALSE(list.contains(peer("localhost")));
}

}  // namespace
}  // namespace uvframe
