// --max-connection-age: a connection that old is closed after its current
// frame (reason=max age), so a balancer can spread long-lived clients again;
// nothing the peer sent before the close is lost, and a frame in progress is
// finished first.
#include <gtest/gtest.h>

#include <chrono>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

using namespace std::chrono_literals;

TEST(ConnectionAge, AnIdleConnectionIsClosedWhenItsAgeIsReached) {
  ServerProcess server({"--workers", "1", "--max-connection-age", "1"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("before the age");
  const std::string tag = "port=" + std::to_string(s.localPort());
  EXPECT_TRUE(s.waitClosedByPeer(15s)) << server.process().output();
  auto line = server.process().waitForText("client disconnected: ip=127.0.0.1, " + tag);
  ASSERT_TRUE(line) << server.process().output();
  EXPECT_NE(line->find("reason=max age, frames=1,"), std::string::npos) << *line;
  EXPECT_EQ(server.messagesFrom(s.localHostPort()), std::vector<std::string>{"before the age"});
}

TEST(ConnectionAge, AFrameInProgressIsFinishedBeforeTheClose) {
  ServerProcess server({"--workers", "1", "--max-connection-age", "1", "--frame-timeout", "60"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  const std::string frame = frameBytes("a frame that straddles the age");
  s.sendAll(frame.substr(0, 6));
  // The age (1 s) passes while the frame is unfinished: the server must not
  // close the connection under it.
  EXPECT_FALSE(server.process().waitForText("reason=max age", 1500ms)) << server.process().output();
  s.sendAll(frame.substr(6));
  EXPECT_TRUE(s.waitClosedByPeer(15s)) << server.process().output();
  const std::string tag = "port=" + std::to_string(s.localPort());
  auto line = server.process().waitForText("client disconnected: ip=127.0.0.1, " + tag);
  ASSERT_TRUE(line) << server.process().output();
  EXPECT_NE(line->find("reason=max age, frames=1,"), std::string::npos) << *line;
  EXPECT_EQ(server.messagesFrom(s.localHostPort()),
            std::vector<std::string>{"a frame that straddles the age"});
}

TEST(ConnectionAge, OffByDefault) {
  ServerProcess server({"--workers", "1", "--idle-timeout", "0"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("hello");
  ASSERT_TRUE(server.process().waitForText("] hello"));
  // No age: the connection stays open until the client closes it.
  EXPECT_FALSE(s.waitClosedByPeer(1500ms));
}

}  // namespace
}  // namespace uvframe::test
