// The log file fails under the server (--log-file /dev/full: every write ends
// in ENOSPC). The server must say so clearly on stderr (not lose lines
// silently), not spin, keep serving (accepting, echoing, logging to the
// console), and still exit promptly on SIGTERM: with status 1, because log
// bytes were lost (server.cpp reports them and fails the exit status).
// ServerProcess expects exit 0, so these tests drive ChildProcess directly.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <regex>
#include <thread>

#include "abuse_support.h"
#include "child_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

std::uint16_t listeningPort(ChildProcess& server, const std::string& host) {
  const std::regex listening("\\[tcp server\\] listening on " + host + ":(\\d+)");
  auto line = server.waitForLine(
      [&](const std::string& l) { return std::regex_search(l, listening); }, 20s);
  if (!line) return 0;
  std::smatch m;
  std::regex_search(*line, m, listening);
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

TEST(AbuseLogFailure, DiskFullIsReportedOnStderrWhileTheConsoleKeepsLogging) {
  ChildProcess server({programPath("uvframe-server"), "--host", "127.0.0.1", "--port", "0",
                       "--log-file", "/dev/full", "--workers", "2"});
  std::uint16_t port = listeningPort(server, "127.0.0.1");
  ASSERT_NE(port, 0) << server.output();
  auto error = server.waitForText("cannot write log file '/dev/full'", 20s);
  ASSERT_TRUE(error) << server.output();
  EXPECT_NE(error->find("No space left on device"), std::string::npos) << *error;

  // Still accepting, still logging every frame to the console, and not
  // spinning on the failing file: a client talks for about two seconds.
  TestSocket s = TestSocket::connect("127.0.0.1", port);
  auto cpuBefore = cpuSeconds(server.pid());
  auto wallBefore = Clock::now();
  const int kFrames = 20;
  double firstLineS = 0;  // the writer may still be retrying its first block
  for (int i = 0; i < kFrames; ++i) {
    s.sendFrame("console still works " + std::to_string(i));
    ASSERT_TRUE(server.waitForText("] console still works " + std::to_string(i), 30s))
        << server.output();
    if (i == 0) firstLineS = std::chrono::duration<double>(Clock::now() - wallBefore).count();
    std::this_thread::sleep_for(100ms);  // pacing the client, not synchronisation
  }
  auto cpuAfter = cpuSeconds(server.pid());
  double wallS = std::chrono::duration<double>(Clock::now() - wallBefore).count();
  ASSERT_TRUE(cpuBefore && cpuAfter);
  double cpuS = *cpuAfter - *cpuBefore;
  // A spinning writer would burn a whole core; a healthy one almost nothing.
  EXPECT_LT(cpuS, 0.6 * wallS) << "server used " << cpuS << " s of CPU in " << wallS << " s";
  // Reported, but not once per block.
  std::size_t reports = server.linesContaining("cannot write log file").size();
  EXPECT_LE(reports, 4u) << server.output();

  auto signalled = Clock::now();
  server.sendSignal(SIGTERM);
  auto rc = server.waitExit(30s);
  double exitS = std::chrono::duration<double>(Clock::now() - signalled).count();
  ASSERT_TRUE(rc) << "no exit after SIGTERM; output:\n" << server.output();
  EXPECT_EQ(*rc, 1) << server.output();
  EXPECT_EQ(server.linesContaining("final=true").size(), 1u) << server.output();
  auto lost = server.waitForText("bytes of log could not be written to '/dev/full'", 1s);
  EXPECT_TRUE(lost) << server.output();
  std::cout << "[ measured ] --log-file /dev/full: " << reports << " stderr report(s), " << kFrames
            << " frames still on the console (the first after " << firstLineS << " s), CPU " << cpuS
            << " s in " << wallS << " s, exit " << *rc << " " << exitS << " s after SIGTERM; "
            << (lost ? *lost : std::string("no loss line")) << "\n";
}

TEST(AbuseLogFailure, DiskFullWithoutConsoleStillServesAndExitsOnSigterm) {
  ChildProcess server({programPath("uvframe-server"), "--host", "127.0.0.1", "--port", "0",
                       "--log-file", "/dev/full", "--no-console", "--echo", "--workers", "2"});
  // No console: the listening line is lost with the rest of the log, and
  // stderr is the only voice the server has left.
  ASSERT_TRUE(server.waitForText("cannot write log file '/dev/full'", 20s)) << server.output();
  // Find the port without the listening line: ask /proc which 127.0.0.1
  // listening socket the server holds.
  std::uint16_t port = listeningPortOf(server.pid(), 20s);
  ASSERT_NE(port, 0) << server.output();

  TestSocket s = TestSocket::connect("127.0.0.1", port);
  for (int i = 0; i < 10; ++i) {
    s.sendFrame("served without a log " + std::to_string(i));
    auto back = s.recvFrame(ByteOrder::kLittle, 30s);
    ASSERT_TRUE(back) << "no echo " << i << "; output:\n" << server.output();
    EXPECT_EQ(*back, "served without a log " + std::to_string(i));
  }
  auto signalled = Clock::now();
  server.sendSignal(SIGTERM);
  auto rc = server.waitExit(30s);
  ASSERT_TRUE(rc) << server.output();
  EXPECT_EQ(*rc, 1);
  EXPECT_TRUE(server.waitForText("bytes of log could not be written", 1s)) << server.output();
  std::cout << "[ measured ] --no-console --log-file /dev/full: echoes served, exit " << *rc << " "
            << std::chrono::duration<double>(Clock::now() - signalled).count()
            << " s after SIGTERM\n";
}

}  // namespace
}  // namespace uvframe::test
