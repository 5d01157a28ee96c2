// Many clients, the log file, and signals against the real server: every
// complete frame is logged exactly once and in order per connection, also
// across a SIGTERM under load; SIGHUP reopens the log file.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

// Polls a file (there is no event for "a line reached the file") until pred
// holds for its lines or the deadline passes.
bool waitForFile(const std::string& path,
                 const std::function<bool(const std::vector<std::string>&)>& pred,
                 std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(readLines(path))) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred(readLines(path));
}

bool containsText(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(ServerLoad, ThousandClientsTwentyFramesEachAllLoggedOnceInOrder) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console", "--workers", "2"});
  constexpr int kClients = 1000;
  constexpr int kFrames = 20;
  std::vector<TestSocket> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i)
    clients.push_back(TestSocket::connect("127.0.0.1", server.port()));
  for (int f = 0; f < kFrames; ++f) {
    for (int i = 0; i < kClients; ++i) {
      clients[i].sendFrame("conn=" + std::to_string(i) + " seq=" + std::to_string(f));
    }
  }
  std::map<std::string, int> index;
  for (int i = 0; i < kClients; ++i)
    index[clients[i].localHostPort()] = i;
  for (auto& c : clients)
    c.close();
  ASSERT_EQ(server.stop(), 0);

  auto lines = readLines(log);
  auto byPeer = messagesByPeer(lines);
  ASSERT_EQ(byPeer.size(), static_cast<std::size_t>(kClients));
  for (const auto& [peer, msgs] : byPeer) {
    ASSERT_TRUE(index.count(peer)) << peer;
    int i = index[peer];
    ASSERT_EQ(msgs.size(), static_cast<std::size_t>(kFrames)) << peer;
    for (int f = 0; f < kFrames; ++f) {
      EXPECT_EQ(msgs[f], "conn=" + std::to_string(i) + " seq=" + std::to_string(f));
    }
  }
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return l.find("client disconnected") != std::string::npos &&
                                   l.find("frames=20,") != std::string::npos;
                          }),
            kClients);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("[tcp server] stats: connections=0, accepted=1000"),
            std::string::npos)
      << lines.back();
  EXPECT_NE(lines.back().find("frames=20000,"), std::string::npos) << lines.back();
  // --no-console: nothing on standard output.
  EXPECT_TRUE(server.process().lines().empty()) << server.process().output();
}

TEST(ServerLoad, SigtermUnderLoadLogsEveryReceivedFrameAndExitsZero) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console", "--workers", "2"});

  // Blasters keep sending until the server goes away; what they sent is
  // known only up to the moment of the signal, so for them we check that the
  // log holds an in-order prefix with no duplicate.
  std::atomic<bool> stop{false};
  std::vector<std::thread> blasters;
  std::vector<std::string> blasterPeers(4);
  for (int b = 0; b < 4; ++b) {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    blasterPeers[b] = s.localHostPort();
    blasters.emplace_back([s = std::move(s), b, &stop]() mutable {
      try {
        for (int seq = 0; !stop && seq < 2000000; ++seq) {
          s.sendFrame("blaster=" + std::to_string(b) + " seq=" + std::to_string(seq));
        }
      } catch (const std::exception&) {
        // The server closed the connection at shutdown.
      }
    });
  }
  // Steady clients: every frame is written before the signal, so every one
  // must be logged.
  constexpr int kSteady = 100;
  constexpr int kFrames = 50;
  std::vector<TestSocket> steady;
  for (int i = 0; i < kSteady; ++i)
    steady.push_back(TestSocket::connect("127.0.0.1", server.port()));
  for (int f = 0; f < kFrames; ++f) {
    for (int i = 0; i < kSteady; ++i)
      steady[i].sendFrame("steady=" + std::to_string(i) + " seq=" + std::to_string(f));
  }
  server.process().sendSignal(SIGTERM);
  auto rc = server.process().waitExit(60s);
  stop = true;
  for (auto& t : blasters)
    t.join();
  ASSERT_EQ(rc, 0);

  auto lines = readLines(log);
  auto byPeer = messagesByPeer(lines);
  for (int i = 0; i < kSteady; ++i) {
    const auto& msgs = byPeer[steady[i].localHostPort()];
    ASSERT_EQ(msgs.size(), static_cast<std::size_t>(kFrames)) << "steady client " << i;
    for (int f = 0; f < kFrames; ++f) {
      EXPECT_EQ(msgs[f], "steady=" + std::to_string(i) + " seq=" + std::to_string(f));
    }
  }
  for (int b = 0; b < 4; ++b) {
    const auto& msgs = byPeer[blasterPeers[b]];
    for (std::size_t seq = 0; seq < msgs.size(); ++seq) {
      ASSERT_EQ(msgs[seq], "blaster=" + std::to_string(b) + " seq=" + std::to_string(seq));
    }
  }
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("[tcp server] stats: "), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("final=true"), std::string::npos) << lines.back();
  EXPECT_TRUE(containsText(lines, "reason=server shutdown"));
}

TEST(ServerLoad, LogLinesReachTheFileWithinASecondWhenTheServerGoesQuiet) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  auto sent = std::chrono::steady_clock::now();
  s.sendFrame("quiet afterwards");
  ASSERT_TRUE(
      waitForFile(log, [](const auto& l) { return containsText(l, "] quiet afterwards"); }));
  // Generous bound for a noisy machine; the flush interval is 100 ms.
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 5s);
}

TEST(ServerLoad, SighupReopensTheLogFile) {
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string rotated = dir.file("server.log.1");
  ServerProcess server({"--log-file", log, "--no-console"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("before rotation");
  ASSERT_TRUE(waitForFile(log, [](const auto& l) { return containsText(l, "] before rotation"); }));
  std::filesystem::rename(log, rotated);
  server.process().sendSignal(SIGHUP);
  ASSERT_TRUE(waitForFile(log, [](const auto& l) { return containsText(l, "SIGHUP"); }));
  s.sendFrame("after rotation");
  ASSERT_TRUE(waitForFile(log, [](const auto& l) { return containsText(l, "] after rotation"); }));
  EXPECT_FALSE(containsText(readLines(log), "before rotation"));
  EXPECT_FALSE(containsText(readLines(rotated), "after rotation"));
}

TEST(ServerLoad, PeriodicStatsLinesHaveKeyValuePairs) {
  ServerProcess server({"--stats-interval", "0.2"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("counted");
  auto line = server.process().waitForLine([](const std::string& l) {
    return l.find("[tcp server] stats: ") != std::string::npos &&
           l.find("frames=1,") != std::string::npos;
  });
  ASSERT_TRUE(line) << server.process().output();
  for (const char* key : {"connections=1", "accepted=1", "frames=1", "bytes=11", "errors=0"}) {
    EXPECT_NE(line->find(key), std::string::npos) << key << " in " << *line;
  }
}

}  // namespace
}  // namespace uvframe::test
