// One client at a time against the real server: the classic Windows client
// session, the log line format, escaping, both byte orders, echo and IPv6.
#include <gtest/gtest.h>

#include <regex>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

// With no --payload-encoding (auto), each payload is judged as a whole: the
// classic Windows client's CP949 Korean reads as Korean, UTF-8 as UTF-8, and
// bytes that are neither stay escaped — never a mix within one line.
TEST(ServerSession, AutoEncodingReadsCp949AndUtf8KoreanWithNoFlag) {
  ServerProcess server({"--workers", "1"});
  auto listening = server.process().waitForText("listening on");
  ASSERT_TRUE(listening);
  EXPECT_NE(listening->find("payload-encoding=auto"), std::string::npos) << *listening;
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame(toCp949("안녕하세요"));
  s.sendFrame("안녕하세요");
  s.sendFrame("cp949 mixed: " + toCp949("반갑습니다") + " ok");
  s.sendFrame(
      std::string("\xff\xfe\x00"
                  "binary",
                  9));
  s.sendFrame("plain ascii");
  const std::string me = s.localHostPort();
  ASSERT_TRUE(server.process().waitForText("[tcp/" + me + "] plain ascii"));
  EXPECT_EQ(server.messagesFrom(me),
            (std::vector<std::string>{"안녕하세요", "안녕하세요", "cp949 mixed: 반갑습니다 ok",
                                      "\\xff\\xfe\\x00binary", "plain ascii"}));
}

TEST(ServerSession, ClassicCp949ClientGivesExactlyTheSpecLines) {
  ServerProcess server({"--payload-encoding", "cp949", "--workers", "1"});
  const std::vector<std::string> messages = {"안녕하세요", "반갑습니다", "classic client", "끝"};
  std::uint16_t port = 0;
  std::uint64_t wireBytes = 0;
  {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    port = s.localPort();
    for (const auto& m : messages) {
      std::string body = toCp949(m);
      std::string frame = frameBytes(body);
      // The classic client: send(len) then send(body), two separate writes.
      s.sendAll(frame.substr(0, 4));
      s.sendAll(frame.substr(4));
      wireBytes += frame.size();
    }
  }
  std::string tag = "port=" + std::to_string(port);
  ASSERT_TRUE(server.process().waitForText("client disconnected: ip=127.0.0.1, " + tag))
      << server.process().output();

  std::vector<std::string> mine;
  for (const auto& line : server.process().lines()) {
    if (line.find(tag) != std::string::npos ||
        line.find(":" + std::to_string(port) + "]") != std::string::npos) {
      std::string level;
      std::string body = withoutPrefix(line, &level);
      ASSERT_FALSE(body.empty()) << "no spdlog prefix: " << line;
      EXPECT_EQ(level, "info") << line;
      mine.push_back(body);
    }
  }
  ASSERT_EQ(mine.size(), 6u) << server.process().output();
  EXPECT_EQ(mine[0], "[tcp server] client connected: ip=127.0.0.1, port=" + std::to_string(port));
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(mine[i + 1], "[tcp/127.0.0.1:" + std::to_string(port) + "] " + messages[i]);
  }
  std::regex disconnected(
      "^\\[tcp server\\] client disconnected: ip=127\\.0\\.0\\.1, port=" + std::to_string(port) +
      " \\(reason=peer closed, frames=4, bytes=" + std::to_string(wireBytes) +
      ", duration=\\d+\\.\\d{3}s\\)$");
  EXPECT_TRUE(std::regex_match(mine[5], disconnected)) << mine[5];
}

TEST(ServerSession, ListeningLineShowsTheRealPort) {
  ServerProcess server;
  EXPECT_NE(server.port(), 0);
  auto line = server.process().waitForText("listening on");
  ASSERT_TRUE(line);
  EXPECT_EQ(withoutPrefix(*line).rfind(
                "[tcp server] listening on 127.0.0.1:" + std::to_string(server.port()) + " (", 0),
            0u)
      << *line;
}

TEST(ServerSession, FramesSplitAtEveryByteAndBatchedAreReassembledExactly) {
  ServerProcess server({"--workers", "1"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  std::string stream = frameBytes("one-byte-at-a-time") + frameBytes("") + frameBytes("third");
  for (char c : stream)
    s.sendAll(std::string(1, c));
  // Many frames in one write.
  std::string batch;
  for (int i = 0; i < 50; ++i)
    batch += frameBytes("batched " + std::to_string(i));
  s.sendAll(batch);
  s.close();
  ASSERT_TRUE(server.process().waitForText("client disconnected"));
  auto msgs = messagesByPeer(server.process().lines());
  ASSERT_EQ(msgs.size(), 1u);
  const auto& got = msgs.begin()->second;
  ASSERT_EQ(got.size(), 53u);
  EXPECT_EQ(got[0], "one-byte-at-a-time");
  EXPECT_EQ(got[1], "");
  EXPECT_EQ(got[2], "third");
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(got[3 + i], "batched " + std::to_string(i));
}

TEST(ServerSession, BigEndianByteOrder) {
  ServerProcess server({"--byte-order", "big"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("network order", ByteOrder::kBig);
  ASSERT_TRUE(server.process().waitForText("] network order")) << server.process().output();
}

TEST(ServerSession, PayloadsCannotForgeOrBreakLogLines) {
  ServerProcess server;
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  std::string evil =
      "a\nb\r[2026-01-01 00:00:00.000] [info] [tcp server] client connected: ip=6.6.6.6\t"
      "\x1b[31mred\x1b[0m back\\slash nul:" +
      std::string(1, '\0') + " bad:\xff\xc0\xaf c1:\xc2\x9b ls:\xe2\x80\xa8 end";
  s.sendFrame(evil);
  s.sendFrame("after");
  ASSERT_TRUE(server.process().waitForText("] after")) << server.process().output();
  auto msgs = messagesByPeer(server.process().lines());
  ASSERT_EQ(msgs.size(), 1u);
  const auto& got = msgs.begin()->second;
  ASSERT_EQ(got.size(), 2u) << server.process().output();
  EXPECT_EQ(got[0],
            "a\\nb\\r[2026-01-01 00:00:00.000] [info] [tcp server] client connected: "
            "ip=6.6.6.6\\t\\x1b[31mred\\x1b[0m back\\\\slash nul:\\x00 bad:\\xff\\xc0\\xaf "
            "c1:\\u009b ls:\\u2028 end");
  EXPECT_EQ(server.process().linesContaining("ip=6.6.6.6").size(), 1u);
}

TEST(ServerSession, LongPayloadIsCutWithCount) {
  ServerProcess server({"--max-logged-bytes", "10"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame(std::string(25, 'z'));
  auto line = server.process().waitForText("zzzz");
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("] zzzzzzzzzz \xE2\x80\xA6(+15 bytes)"), std::string::npos) << *line;
}

TEST(ServerSession, EchoSendsEachFrameBackAfterLoggingIt) {
  ServerProcess server({"--echo"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  std::vector<std::string> sent = {"ping", "", std::string(100000, 'x'), "안녕하세요"};
  for (const auto& m : sent)
    s.sendFrame(m);
  for (const auto& m : sent) {
    auto back = s.recvFrame();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, m);
  }
  ASSERT_TRUE(server.process().waitForText("] ping"));
}

TEST(ServerSession, EchoKeepsBigEndianFormat) {
  ServerProcess server({"--echo", "--byte-order", "big"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("big echo", ByteOrder::kBig);
  auto back = s.recvFrame(ByteOrder::kBig);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, "big echo");
}

TEST(ServerSession, Ipv6LoopbackPeersAreBracketed) {
  std::unique_ptr<ServerProcess> server;
  try {
    server = std::make_unique<ServerProcess>(std::vector<std::string>{"--host", "::1"});
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  TestSocket s = TestSocket::connect("::1", server->port());
  std::uint16_t port = s.localPort();
  s.sendFrame("over six");
  s.close();
  std::string p = std::to_string(port);
  ASSERT_TRUE(server->process().waitForText("client disconnected: ip=::1, port=" + p))
      << server->process().output();
  EXPECT_EQ(server->process().linesContaining("client connected: ip=::1, port=" + p).size(), 1u);
  EXPECT_EQ(server->process().linesContaining("[tcp/[::1]:" + p + "] over six").size(), 1u);
  EXPECT_EQ(server->process().linesContaining("listening on [::1]:").size(), 1u);
}

TEST(ServerSession, ResetByPeerIsReportedAsReset) {
  ServerProcess server;
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("before reset");
  ASSERT_TRUE(server.process().waitForText("] before reset"));
  s.setResetOnClose();
  s.close();
  auto line = server.process().waitForText("client disconnected");
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("reason=reset, frames=1"), std::string::npos) << *line;
}

}  // namespace
}  // namespace uvframe::test
