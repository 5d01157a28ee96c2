// Who may connect, and how much: --allow/--deny (with and without PROXY
// protocol), --max-connections-per-ip across workers, and the per-connection
// rate limits that push back through TCP without dropping anything. Clients
// come from several loopback addresses (127.0.0.x; every 127/8 address is
// this host's on Linux) and ::1.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string refusedText(const TestSocket& s, const std::string& reason) {
  return "connection refused: ip=" +
         std::string(s.localHostPort().substr(0, s.localHostPort().rfind(':'))) +
         ", port=" + std::to_string(s.localPort()) + " (reason=" + reason;
}

// One refusal per server below: refusal lines are rate-limited per reason
// (about one a second), so a second "not allowed" at once would be counted,
// not logged.
void expectRefusedAndSilent(ServerProcess& server, const TestSocket& s, const std::string& why) {
  auto line = server.process().waitForText(refusedText(s, why));
  ASSERT_TRUE(line) << server.process().output();
  std::string level;
  withoutPrefix(*line, &level);
  EXPECT_EQ(level, "warning") << *line;
  const std::string ip = s.localHostPort().substr(0, s.localHostPort().rfind(':'));
  EXPECT_TRUE(server.messagesFrom(s.localHostPort()).empty());
  EXPECT_TRUE(server.process().linesContaining("client connected: ip=" + ip + ",").empty())
      << "a refused peer gets no connected line";
}

TEST(AccessControl, DenyListRefusesItsAddressesAndServesTheRest) {
  ServerProcess server({"--workers", "2", "--deny", "127.0.0.2"});
  TestSocket denied = TestSocket::connectFrom("127.0.0.2", "127.0.0.1", server.port());
  TestSocket welcome = TestSocket::connectFrom("127.0.0.3", "127.0.0.1", server.port());
  denied.sendFrame("from a denied address");
  welcome.sendFrame("from an allowed address");
  EXPECT_TRUE(denied.waitClosedByPeer()) << server.process().output();
  ASSERT_TRUE(server.process().waitForText("[tcp/" + welcome.localHostPort() +
                                           "] from an allowed address"));
  expectRefusedAndSilent(server, denied, "not allowed: in --deny");
  welcome.close();
  ASSERT_EQ(server.stop(), 0);
  EXPECT_TRUE(server.process().waitForText("refused=1,")) << server.process().output();
}

TEST(AccessControl, AllowListRefusesOutsiders) {
  ServerProcess server({"--workers", "2", "--allow", "127.0.0.0/24,::1"});
  TestSocket outside = TestSocket::connectFrom("127.0.1.5", "127.0.0.1", server.port());
  TestSocket inside = TestSocket::connectFrom("127.0.0.9", "127.0.0.1", server.port());
  outside.sendFrame("from outside");
  inside.sendFrame("from inside");
  EXPECT_TRUE(outside.waitClosedByPeer()) << server.process().output();
  ASSERT_TRUE(server.process().waitForText("[tcp/" + inside.localHostPort() + "] from inside"));
  expectRefusedAndSilent(server, outside, "not allowed: not in --allow");
}

TEST(AccessControl, Ipv6PeersAreMatchedToo) {
  if (!hasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  ServerProcess server({"--host", "::1", "--workers", "1", "--deny", "::1/128"});
  TestSocket s = TestSocket::connect("::1", server.port());
  EXPECT_TRUE(s.waitClosedByPeer()) << server.process().output();
  EXPECT_TRUE(server.process().waitForText(
      "connection refused: ip=::1, port=" + std::to_string(s.localPort()) + " (reason=not allowed"))
      << server.process().output();
}

TEST(AccessControl, WithProxyProtocolTheRulesApplyToTheClientTheHeaderNames) {
  ServerProcess server({"--workers", "1", "--proxy-protocol", "v1", "--deny", "203.0.113.0/24"});
  TestSocket bad = TestSocket::connect("127.0.0.1", server.port());
  bad.sendAll("PROXY TCP4 203.0.113.7 192.0.2.1 41000 9000\r\n" + frameBytes("denied client"));
  TestSocket good = TestSocket::connect("127.0.0.1", server.port());
  good.sendAll("PROXY TCP4 198.51.100.1 192.0.2.1 41001 9000\r\n" + frameBytes("fine client"));
  EXPECT_TRUE(bad.waitClosedByPeer()) << server.process().output();
  EXPECT_TRUE(server.process().waitForText(
      "connection refused: ip=203.0.113.7, port=41000 (reason=not allowed"))
      << server.process().output();
  EXPECT_TRUE(server.process().waitForText("[tcp/198.51.100.1:41001] fine client"))
      << server.process().output();
  EXPECT_TRUE(server.messagesFrom("203.0.113.7:41000").empty());
}

TEST(AccessControl, MaxConnectionsPerIpCountsAcrossWorkers) {
  ServerProcess server({"--workers", "2", "--max-connections-per-ip", "3"});
  std::vector<TestSocket> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(TestSocket::connectFrom("127.0.0.2", "127.0.0.1", server.port()));
    mine.back().sendFrame("kept " + std::to_string(i));
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(server.process().waitForText("] kept " + std::to_string(i)))
        << server.process().output();
  }
  TestSocket fourth = TestSocket::connectFrom("127.0.0.2", "127.0.0.1", server.port());
  EXPECT_TRUE(fourth.waitClosedByPeer()) << server.process().output();
  EXPECT_TRUE(server.process().waitForText(
      refusedText(fourth, "too many from ip: max-connections-per-ip=3")))
      << server.process().output();
  // Another address is not limited by this one's count.
  TestSocket other = TestSocket::connectFrom("127.0.0.3", "127.0.0.1", server.port());
  other.sendFrame("another address");
  EXPECT_TRUE(server.process().waitForText("] another address"));
  // A closed connection frees its slot.
  const std::uint16_t firstPort = mine[0].localPort();
  mine[0].close();
  ASSERT_TRUE(server.process().waitForText("client disconnected: ip=127.0.0.2, port=" +
                                           std::to_string(firstPort)));
  TestSocket again = TestSocket::connectFrom("127.0.0.2", "127.0.0.1", server.port());
  again.sendFrame("after a slot freed");
  EXPECT_TRUE(server.process().waitForText("] after a slot freed")) << server.process().output();
}

TEST(RateLimits, ALimitedPeerIsSlowedWhileItsNeighbourIsNot) {
  // One worker: both peers share the loop. Frame rate 100/s, burst 100.
  ServerProcess server({"--workers", "1", "--max-frame-rate", "100"});
  TestSocket greedy = TestSocket::connect("127.0.0.1", server.port());
  std::string burst;
  for (int i = 0; i < 300; ++i)
    burst += frameBytes("greedy " + std::to_string(i));
  const auto sent = Clock::now();
  greedy.sendAll(burst);
  ASSERT_TRUE(server.process().waitForText("] greedy 0"));
  TestSocket modest = TestSocket::connect("127.0.0.1", server.port());
  for (int i = 0; i < 20; ++i)
    modest.sendFrame("modest " + std::to_string(i));
  // The neighbour's 20 frames are within its own budget: all logged while
  // the greedy peer is still held back (its last frame is ~2 s away).
  ASSERT_TRUE(server.process().waitForText("] modest 19")) << server.process().output();
  EXPECT_TRUE(server.process().linesContaining("] greedy 299").empty())
      << "the greedy peer was not slowed";
  // Nothing is dropped: every greedy frame arrives, no sooner than the rate allows.
  ASSERT_TRUE(server.process().waitForText("] greedy 299", 30s)) << server.process().output();
  EXPECT_GE(Clock::now() - sent, 1500ms) << "300 frames at 100/s with a burst of 100 take ~2 s";
  EXPECT_EQ(server.messagesFrom(greedy.localHostPort()).size(), 300u);
  greedy.close();
  modest.close();
  ASSERT_EQ(server.stop(), 0);
  auto stats = server.process().linesContaining("final=true");
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats.back().find("rate_pauses=0,"), std::string::npos) << stats.back();
}

TEST(RateLimits, ByteRateSlowsAFrameWithoutAFrameTimeout) {
  // 40,000 bytes at 10,000 B/s (burst 10,000): ~3 s, while --frame-timeout
  // is 1 s. Time the server chose not to read does not count against the peer.
  ServerProcess server({"--workers", "1", "--max-byte-rate", "10000", "--frame-timeout", "1",
                        "--max-logged-bytes", "16"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  const auto sent = Clock::now();
  s.sendAll(frameBytes(std::string(40000, 'b')));
  s.sendFrame("after it");
  ASSERT_TRUE(server.process().waitForText("] after it", 30s)) << server.process().output();
  EXPECT_GE(Clock::now() - sent, 2000ms);
  EXPECT_TRUE(server.process().linesContaining("frame timeout").empty())
      << server.process().output();
  EXPECT_EQ(server.messagesFrom(s.localHostPort()).size(), 2u);
}

TEST(RateLimits, FramesHeldBackByTheRateAreLoggedAtShutdown) {
  // 100 frames in one write at 10 frames/s: the burst (10) is logged, the
  // rest wait in the server's buffer. A shutdown must log them all anyway.
  ServerProcess server({"--workers", "1", "--max-frame-rate", "10"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  std::string burst;
  for (int i = 0; i < 100; ++i)
    burst += frameBytes("held " + std::to_string(i));
  s.sendAll(burst);
  ASSERT_TRUE(server.process().waitForText("] held 9")) << server.process().output();
  ASSERT_EQ(server.stop(), 0) << server.process().output();
  EXPECT_EQ(server.messagesFrom(s.localHostPort()).size(), 100u) << server.process().output();
}

TEST(RateLimits, APeerThatClosesRightAfterSendingLosesNothing) {
  ServerProcess server({"--workers", "1", "--max-frame-rate", "20"});
  std::string hostPort;
  {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    hostPort = s.localHostPort();
    std::string burst;
    for (int i = 0; i < 50; ++i)
      burst += frameBytes("then closed " + std::to_string(i));
    s.sendAll(burst);
  }  // closed at once: the EOF waits behind the frames the rate holds back
  auto line = server.process().waitForText("client disconnected: ip=127.0.0.1", 20s);
  ASSERT_TRUE(line) << server.process().output();
  EXPECT_NE(line->find("reason=peer closed, frames=50,"), std::string::npos) << *line;
  EXPECT_EQ(server.messagesFrom(hostPort).size(), 50u);
}

}  // namespace
}  // namespace uvframe::test
