// Unit tests for common/peer_address: how IPv4, IPv6 and IPv4-mapped IPv6
// peers are shown in log lines, and parsing of numeric host names.
#include "peer_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace uvframe {
namespace {

sockaddr_in ipv4(const char* text, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, text, &sa.sin_addr), 1);
  return sa;
}

sockaddr_in6 ipv6(const char* text, std::uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
  return sa;
}

TEST(PeerAddress, Ipv4PeerShowsDottedQuad) {
  sockaddr_in sa = ipv4("127.0.0.1", 55244);
  auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->ip, "127.0.0.1");
  EXPECT_EQ(peer->port, 55244);
  EXPECT_FALSE(peer->isIpv6);
  EXPECT_EQ(peer->hostPort(), "127.0.0.1:55244");
}

TEST(PeerAddress, Ipv6PeerIsBracketedInHostPort) {
  sockaddr_in6 sa = ipv6("::1", 55244);
  auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->ip, "::1");
  EXPECT_EQ(peer->port, 55244);
  EXPECT_TRUE(peer->isIpv6);
  EXPECT_EQ(peer->hostPort(), "[::1]:55244");
}

TEST(PeerAddress, Ipv6PeerUsesCompressedForm) {
  sockaddr_in6 sa = ipv6("2001:db8:0:0:0:0:0:42", 1);
  auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->hostPort(), "[2001:db8::42]:1");
}

TEST(PeerAddress, Ipv4MappedIpv6PeerShowsAsIpv4) {
  sockaddr_in6 sa = ipv6("::ffff:10.1.2.3", 9000);
  auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->ip, "10.1.2.3");
  EXPECT_FALSE(peer->isIpv6);
  EXPECT_EQ(peer->hostPort(), "10.1.2.3:9000");
}

TEST(PeerAddress, OtherFamiliesAndNullGiveNothing) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_FALSE(peerFromSockaddr(reinterpret_cast<const sockaddr*>(&un)));
  EXPECT_FALSE(peerFromSockaddr(nullptr));
}

TEST(PeerAddress, ParseNumericIpv4) {
  sockaddr_storage ss{};
  ASSERT_TRUE(parseNumericAddress("192.168.1.20", 9000, &ss, sizeof ss));
  ASSERT_EQ(ss.ss_family, AF_INET);
  auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->hostPort(), "192.168.1.20:9000");
}

TEST(PeerAddress, ParseNumericIpv6WithAndWithoutBrackets) {
  for (const char* text : {"::1", "[::1]"}) {
    sockaddr_storage ss{};
    ASSERT_TRUE(parseNumericAddress(text, 443, &ss, sizeof ss)) << text;
    ASSERT_EQ(ss.ss_family, AF_INET6) << text;
    auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->hostPort(), "[::1]:443");
  }
}

TEST(PeerAddress, ParseRejectsNamesAndMalformedText) {
  for (const char* text :
       {"localhost", "example.com", "", "[]", "1.2.3", "1.2.3.256", "[::1", "::1]", "::g"}) {
    sockaddr_storage ss{};
    EXPECT_FALSE(parseNumericAddress(text, 80, &ss, sizeof ss)) << text;
  }
}

TEST(PeerAddress, ParseRefusesIpv6IntoTooSmallStorage) {
  sockaddr_in small{};
  EXPECT_FALSE(parseNumericAddress("::1", 80, &small, sizeof small));
  EXPECT_TRUE(parseNumericAddress("127.0.0.1", 80, &small, sizeof small));
  EXPECT_EQ(ntohs(small.sin_port), 80);
}

}  // namespace
}  // namespace uvframe
