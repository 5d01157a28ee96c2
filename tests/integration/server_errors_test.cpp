// Misbehaving peers against the real server: each gets a clear log line and
// at worst the closing of its own connection; everyone else keeps going.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <regex>
#include <thread>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

TEST(ServerErrors, OversizedLengthClosesOnlyThatPeer) {
  ServerProcess server({"--max-frame", "1000"});
  TestSocket good = TestSocket::connect("127.0.0.1", server.port());
  TestSocket bad = TestSocket::connect("127.0.0.1", server.port());
  good.sendFrame("before");
  bad.sendFrame(std::string(1000, 'm'));  // exactly the limit: fine
  bad.sendAll(frameBytes(std::string(1001, 'M')));
  EXPECT_TRUE(bad.waitClosedByPeer()) << server.process().output();
  auto warn = server.process().waitForText("frame too large");
  ASSERT_TRUE(warn);
  std::string level;
  withoutPrefix(*warn, &level);
  EXPECT_EQ(level, "warning");
  EXPECT_NE(warn->find("port=" + std::to_string(bad.localPort()) + ", length=1001"),
            std::string::npos)
      << *warn;
  auto closed = server.process().waitForText("port=" + std::to_string(bad.localPort()) +
                                             " (reason=frame too large, frames=1");
  EXPECT_TRUE(closed) << server.process().output();
  good.sendFrame("after");
  ASSERT_TRUE(server.process().waitForText("] after")) << server.process().output();
  EXPECT_EQ(server.messagesFrom(good.localHostPort()),
            (std::vector<std::string>{"before", "after"}));
}

TEST(ServerErrors, HttpClientIsNamedInTheProtocolError) {
  ServerProcess server;
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendAll("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_TRUE(s.waitClosedByPeer());
  auto warn = server.process().waitForText("frame too large");
  ASSERT_TRUE(warn);
  EXPECT_NE(warn->find("looks like HTTP"), std::string::npos) << *warn;
  EXPECT_NE(warn->find("GET / HTTP/1.1\\r\\n"), std::string::npos) << *warn;
}

TEST(ServerErrors, TlsClientHelloIsNamed) {
  ServerProcess server;
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendAll(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  EXPECT_TRUE(s.waitClosedByPeer());
  auto warn = server.process().waitForText("frame too large");
  ASSERT_TRUE(warn);
  EXPECT_NE(warn->find("looks like TLS"), std::string::npos) << *warn;
}

TEST(ServerErrors, StalledPartialFrameIsClosedAfterFrameTimeout) {
  ServerProcess server({"--frame-timeout", "0.5"});
  TestSocket stalled = TestSocket::connect("127.0.0.1", server.port());
  TestSocket quiet = TestSocket::connect("127.0.0.1", server.port());
  stalled.sendFrame("complete");
  std::string partial = frameBytes("never finished");
  stalled.sendAll(partial.substr(0, 7));
  EXPECT_TRUE(stalled.waitClosedByPeer(10s));
  auto closed = server.process().waitForText("port=" + std::to_string(stalled.localPort()) +
                                             " (reason=frame timeout, frames=1");
  ASSERT_TRUE(closed) << server.process().output();
  EXPECT_NE(closed->find("unfinished=7 bytes"), std::string::npos) << *closed;
  // A peer that is merely quiet (no started frame) is not affected.
  quiet.sendFrame("still here");
  EXPECT_TRUE(server.process().waitForText("] still here"));
}

TEST(ServerErrors, SilentPeerIsClosedAfterIdleTimeout) {
  ServerProcess server({"--idle-timeout", "0.5"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("hello then silence");
  EXPECT_TRUE(s.waitClosedByPeer(10s));
  auto closed = server.process().waitForText("reason=idle timeout, frames=1");
  EXPECT_TRUE(closed) << server.process().output();
}

TEST(ServerErrors, ConnectionsBeyondTheLimitAreRefusedWithALogLine) {
  ServerProcess server({"--max-connections", "2", "--workers", "1"});
  TestSocket a = TestSocket::connect("127.0.0.1", server.port());
  TestSocket b = TestSocket::connect("127.0.0.1", server.port());
  ASSERT_TRUE(server.process().waitUntil([](const std::vector<std::string>& lines) {
    int n = 0;
    for (const auto& l : lines)
      n += l.find("client connected") != std::string::npos;
    return n == 2;
  }));
  TestSocket c = TestSocket::connect("127.0.0.1", server.port());
  EXPECT_TRUE(c.waitClosedByPeer());
  auto refused = server.process().waitForText("connection refused");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("max-connections=2"), std::string::npos) << *refused;
  // Once one leaves, a newcomer is welcome again.
  a.close();
  ASSERT_TRUE(server.process().waitForText("client disconnected"));
  TestSocket d = TestSocket::connect("127.0.0.1", server.port());
  d.sendFrame("newcomer");
  EXPECT_TRUE(server.process().waitForText("] newcomer")) << server.process().output();
}

TEST(ServerErrors, InputMemoryBudgetPausesReadersWithoutLosingFrames) {
  // --echo keeps each frame whole in memory. Three peers each send all but
  // the last byte of a 900 KiB frame: the 2 MiB budget holds two such frames
  // (960 KiB blocks) but not three, so at least one peer must wait for memory
  // until the others complete. Each peer sends from its own thread, because
  // the waiting peer's send blocks once the socket buffers fill.
  ServerProcess server({"--echo", "--max-input-memory", "2MiB", "--workers", "1",
                        "--max-logged-bytes", "16", "--read-buffer", "64KiB", "--stats-interval",
                        "0.1"});
  const std::string body(900 * 1024, 'b');
  const std::string frame = frameBytes(body);
  std::vector<TestSocket> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(TestSocket::connect("127.0.0.1", server.port()));
  std::atomic<bool> stalled{false};
  std::vector<std::thread> senders;
  for (auto& p : peers) {
    senders.emplace_back([&p, &frame, &stalled] {
      p.sendAll(std::string_view(frame).substr(0, frame.size() - 1));
      while (!stalled)
        std::this_thread::yield();
      p.sendAll(std::string_view(frame).substr(frame.size() - 1));
      p.sendFrame("done");
    });
  }
  auto stall = server.process().waitForLine(
      [](const std::string& l) {
        return l.find("stats: ") != std::string::npos &&
               l.find("memory_stalls=0,") == std::string::npos;
      },
      30s);
  stalled = true;
  for (auto& t : senders)
    t.join();
  ASSERT_TRUE(stall) << server.process().output();
  for (auto& p : peers) {
    auto echoed = p.recvFrame(ByteOrder::kLittle, 30s);
    ASSERT_TRUE(echoed.has_value()) << server.process().output();
    EXPECT_EQ(*echoed, body);
    EXPECT_EQ(p.recvFrame(ByteOrder::kLittle, 30s), std::optional<std::string>("done"));
  }
  ASSERT_TRUE(server.process().waitUntil([](const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
             return l.find("] done") != std::string::npos;
           }) == 3;
  })) << server.process().output();
  for (auto& p : peers) {
    auto msgs = server.messagesFrom(p.localHostPort());
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_NE(msgs[0].find("(+921584 bytes)"), std::string::npos) << msgs[0];
  }
}

TEST(ServerErrors, FramesLargerThanTheBufferAreSkimmedNotStored) {
  // Without --echo only the logged head of a large frame is kept: frames of
  // up to 900 KiB pass through a 64 KiB buffer and a 1 MiB budget.
  ServerProcess server({"--max-input-memory", "1MiB", "--workers", "1", "--max-logged-bytes", "8",
                        "--read-buffer", "64KiB"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  std::string stream;
  std::vector<std::string> expected;
  std::mt19937 rng(7);
  for (int i = 0; i < 12; ++i) {
    std::size_t size = i % 3 == 0 ? 5 : 100000 + rng() % 800000;
    std::string body = std::to_string(i) + std::string(size - std::to_string(i).size(), 'k');
    stream += frameBytes(body);
    expected.push_back(size <= 8 ? body
                                 : body.substr(0, 8) + " \xE2\x80\xA6(+" +
                                       std::to_string(size - 8) + " bytes)");
  }
  // Random write sizes, so frame ends fall anywhere within a read.
  for (std::size_t pos = 0; pos < stream.size();) {
    std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + rng() % 200000);
    s.sendAll(stream.substr(pos, n));
    pos += n;
  }
  s.sendFrame("end");
  ASSERT_TRUE(server.process().waitForText("] end", 30s)) << server.process().output();
  auto msgs = server.messagesFrom(s.localHostPort());
  ASSERT_EQ(msgs.size(), expected.size() + 1);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(msgs[i], expected[i]) << i;
}

TEST(ServerErrors, PeersStalledMidFrameGiveTheirBufferBack) {
  // 50 peers each send part of a frame and stop; after a second of silence
  // their bytes are parked in small blocks instead of 64 KiB chunks.
  ServerProcess server({"--stats-interval", "0.3", "--workers", "1"});
  std::vector<TestSocket> peers;
  std::string partial = frameBytes(std::string(1000, 'p')).substr(0, 100);
  for (int i = 0; i < 50; ++i) {
    peers.push_back(TestSocket::connect("127.0.0.1", server.port()));
    peers.back().sendAll(partial);
  }
  std::regex parked(R"(stats: connections=50, .*input_memory=(\d+),)");
  auto line = server.process().waitForLine(
      [&](const std::string& l) {
        std::smatch m;
        // Each parked tail sits in a 256-byte block (a chunk would be 64 KiB).
        return std::regex_search(l, m, parked) && std::stoul(m[1].str()) <= 50 * 256;
      },
      15s);
  ASSERT_TRUE(line) << server.process().output();
  // Parked peers finish their frames normally.
  std::string rest = frameBytes(std::string(1000, 'p')).substr(100);
  for (auto& p : peers)
    p.sendAll(rest);
  ASSERT_TRUE(server.process().waitUntil([](const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
             return l.find("] pppp") != std::string::npos;
           }) == 50;
  })) << server.process().output();
}

TEST(ServerErrors, EchoPeerThatNeverReadsIsClosedAfterWriteTimeout) {
  ServerProcess server({"--echo", "--write-timeout", "1", "--echo-high-water", "256KiB"});
  TestSocket hog = TestSocket::connect("127.0.0.1", server.port());
  std::uint16_t hogPort = hog.localPort();
  std::thread sender([&hog] {
    std::string frames;
    for (int i = 0; i < 64; ++i)
      frames += frameBytes(std::string(16 * 1024, 'h'));
    try {
      // Bounded: about 100 MiB at most; the server closes the socket long before.
      for (int round = 0; round < 100; ++round)
        hog.sendAll(frames);
    } catch (const std::exception&) {
      // Closed by the server: expected.
    }
  });
  auto closed = server.process().waitForText(
      "port=" + std::to_string(hogPort) + " (reason=write timeout", 30s);
  sender.join();
  ASSERT_TRUE(closed) << server.process().output();
  EXPECT_EQ(server.process().linesContaining("[tcp server] write timeout: ip=127.0.0.1").size(),
            1u);
}

}  // namespace
}  // namespace uvframe::test
