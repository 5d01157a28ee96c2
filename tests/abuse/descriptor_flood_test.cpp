// Descriptor flood: with RLIMIT_NOFILE at 64 the server runs out of
// descriptors long before the flood ends. It must say so (rate-limited, not a
// line per attempt), keep serving the peers it has, and accept again once
// descriptors free up.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <regex>
#include <thread>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

constexpr unsigned long kServerMaxFiles = 64;

std::size_t refusalLines(const std::vector<std::string>& lines) {
  return countContaining(lines, "connection refused") + countContaining(lines, "accept failed");
}

TEST(AbuseDescriptorFlood, ServerOutOfDescriptorsRefusesWithRateLimitedLinesAndRecovers) {
  const int kFlood = 400;
  raiseOpenFileLimit(kFlood + 256);
  ChildProcess::Options limited;
  limited.maxOpenFiles = kServerMaxFiles;
  ServerProcess server({"--workers", "2"}, limited);
  ChildProcess& out = server.process();

  TestSocket resident = TestSocket::connect("127.0.0.1", server.port());
  resident.sendFrame("resident before");
  ASSERT_TRUE(out.waitForText("] resident before"));

  // The flood: connections that are accepted by the kernel and then either
  // kept by the server or closed by it when it has no descriptor left.
  auto floodStart = Clock::now();
  std::vector<TestSocket> flood;
  std::vector<int> fds;
  for (int i = 0; i < kFlood; ++i) {
    flood.push_back(TestSocket::connect("127.0.0.1", server.port()));
    fds.push_back(flood.back().fd());
  }
  auto closedAt = waitAllClosedByPeer(fds, 10s, kFlood - kServerMaxFiles);
  int refusedByServer = 0;
  for (const auto& c : closedAt)
    refusedByServer += c.has_value();
  // 64 descriptors cannot hold 400 connections: most were turned away.
  EXPECT_GE(refusedByServer, kFlood - static_cast<int>(kServerMaxFiles)) << out.output();

  // Keep knocking for two seconds (bounded in count too), so the rate limit
  // has several intervals to show itself in.
  int knocks = 0;
  while (Clock::now() - floodStart < 2500ms && knocks < 3000) {
    TestSocket knock = TestSocket::connect("127.0.0.1", server.port());
    ASSERT_TRUE(knock.waitClosedByPeer(10s)) << "knock " << knocks << " was not turned away";
    // Pacing (not synchronisation): about 1,000 knocks a second, so the
    // ephemeral ports are not used up.
    if (++knocks % 50 == 0) std::this_thread::sleep_for(50ms);
  }
  double floodS = std::chrono::duration<double>(Clock::now() - floodStart).count();

  ASSERT_TRUE(out.waitUntil([](const auto& lines) { return refusalLines(lines) >= 2; }, 10s))
      << "refusals not logged; output:\n"
      << out.output();
  // Rate-limited: at most about one line per worker per second, never one
  // per refused connection; later lines count the ones held back.
  std::size_t lines = refusalLines(out.lines());
  EXPECT_LE(lines, static_cast<std::size_t>(2 * (floodS + 2))) << out.output();
  EXPECT_LT(lines, static_cast<std::size_t>(refusedByServer + knocks) / 20) << out.output();
  std::regex heldBack(R"(\+([1-9]\d*) more refused for this reason since the last report)");
  auto logged = out.lines();
  EXPECT_TRUE(std::any_of(logged.begin(), logged.end(), [&](const std::string& l) {
    return std::regex_search(l, heldBack);
  })) << out.output();

  // Still up and serving the peers it kept.
  resident.sendFrame("resident during");
  ASSERT_TRUE(out.waitForText("] resident during")) << out.output();

  // Descriptors free up: newcomers are accepted and served again.
  flood.clear();
  ASSERT_TRUE(out.waitUntil(
      [](const auto& all) {
        // Everyone but the resident has gone.
        return countContaining(all, "client connected") ==
               countContaining(all, "client disconnected") + 1;
      },
      20s))
      << out.output();
  std::size_t refusalsBefore = refusalLines(out.lines());
  std::vector<TestSocket> newcomers;
  for (int i = 0; i < 10; ++i) {
    newcomers.push_back(TestSocket::connect("127.0.0.1", server.port()));
    newcomers.back().sendFrame("newcomer " + std::to_string(i));
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(out.waitForText("] newcomer " + std::to_string(i))) << out.output();
  }
  EXPECT_EQ(refusalLines(out.lines()), refusalsBefore);

  ASSERT_EQ(server.stop(), 0) << out.output();
  auto stats = out.linesContaining("final=true");
  ASSERT_EQ(stats.size(), 1u);
  std::cout << "[ measured ] flood of " << kFlood << " + " << knocks
            << " knocks against max-fds=" << kServerMaxFiles << ": " << refusedByServer + knocks
            << " turned away, " << lines << " refusal line(s) in " << floodS << " s:\n  "
            << out.linesContaining("connection refused").at(0) << "\n  " << stats[0] << "\n";
}

}  // namespace
}  // namespace uvframe::test
