// Slowloris: a thousand peers each send two bytes of a frame header and
// stall. Meanwhile a normal client's frames are still logged, and every
// stalled peer is closed after --frame-timeout with reason=frame timeout.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(AbuseSlowloris, ThousandStalledHeadersAreTimedOutWhileANormalClientIsServed) {
  const int kPeers = scaledCount(1000, 50);
  raiseOpenFileLimit(static_cast<unsigned long>(kPeers) + 256);
  ServerProcess server({"--frame-timeout", "1", "--workers", "2"});
  ChildProcess& out = server.process();

  TestSocket normal = TestSocket::connect("127.0.0.1", server.port());
  normal.sendFrame("before the stall");
  ASSERT_TRUE(out.waitForText("] before the stall"));

  std::vector<TestSocket> peers;
  std::vector<int> fds;
  std::vector<Clock::time_point> stalledAt;
  peers.reserve(static_cast<std::size_t>(kPeers));
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(TestSocket::connect("127.0.0.1", server.port()));
    // Two of the four header bytes: the frame has begun and never ends.
    peers.back().sendAll(std::string("\x10\x00", 2));
    fds.push_back(peers.back().fd());
    stalledAt.push_back(Clock::now());
  }

  // The normal client is served while all of them hold their connections.
  auto sent = Clock::now();
  normal.sendFrame("during the stall");
  ASSERT_TRUE(out.waitForText("] during the stall", 20s)) << "normal client starved";
  double servedS = seconds(Clock::now() - sent);

  auto closedAt = waitAllClosedByPeer(fds, 60s);
  double minHeldS = 1e9;
  double maxHeldS = 0;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    ASSERT_TRUE(closedAt[i]) << "stalled peer " << i << " was never closed";
    double held = seconds(*closedAt[i] - stalledAt[i]);
    minHeldS = std::min(minHeldS, held);
    maxHeldS = std::max(maxHeldS, held);
  }
  // Not before the timeout (a lower bound is safe on a slow machine; the
  // server's loop clock may lag a little, hence 0.5 s for a 1 s timeout).
  EXPECT_GE(minHeldS, 0.5);

  // One disconnected line per stalled peer, with the right reason.
  std::map<std::string, const TestSocket*> byPort;
  for (const auto& p : peers)
    byPort[std::to_string(p.localPort())] = &p;
  ASSERT_TRUE(out.waitUntil(
      [&](const std::vector<std::string>& lines) {
        return countContaining(lines, "(reason=frame timeout, frames=0, bytes=2,") ==
               static_cast<std::size_t>(kPeers);
      },
      30s))
      << countContaining(out.lines(), "reason=frame timeout") << " of " << kPeers;
  for (const auto& p : peers) {
    auto mine = out.linesContaining(
        "client disconnected: ip=127.0.0.1, port=" + std::to_string(p.localPort()) + " (");
    ASSERT_EQ(mine.size(), 1u) << p.localPort();
    EXPECT_NE(mine[0].find("reason=frame timeout, frames=0, bytes=2,"), std::string::npos)
        << mine[0];
    EXPECT_NE(mine[0].find("unfinished=2 bytes"), std::string::npos) << mine[0];
  }

  // The normal client was never mistaken for one of them.
  normal.sendFrame("after the storm");
  ASSERT_TRUE(out.waitForText("] after the storm"));
  EXPECT_TRUE(out.linesContaining("port=" + std::to_string(normal.localPort()) + " (").empty());

  ASSERT_EQ(server.stop(), 0) << out.output();
  auto stats = out.linesContaining("final=true");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_NE(stats[0].find("timeouts=" + std::to_string(kPeers) + ","), std::string::npos)
      << stats[0];
  std::cout << "[ measured ] " << kPeers << " slowloris peers: normal frame logged after "
            << servedS << " s; stalled peers closed after " << minHeldS << " .. " << maxHeldS
            << " s (--frame-timeout 1)\n";
}

}  // namespace
}  // namespace uvframe::test
