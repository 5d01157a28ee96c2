// Type=notify: a server started by systemd (NOTIFY_SOCKET set) says READY=1
// once it listens, STATUS= with its stats lines, and STOPPING=1 when the
// drain begins. The test plays systemd: a datagram socket of its own.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

using namespace std::chrono_literals;

/// A unix datagram socket at a fresh path, as systemd's notify socket.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = (std::filesystem::temp_directory_path() /
             ("uvframe-notify-" + std::to_string(::getpid()) + ".sock"))
                .string();
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot bind the notify socket " + path_);
    }
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  /// The next datagram that contains text, or nullopt at the deadline.
  std::optional<std::string> waitFor(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (waitReadable(fd_, deadline)) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string message(buf, static_cast<std::size_t>(n));
      if (message.find(text) != std::string::npos) return message;
    }
    return std::nullopt;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(ServiceNotify, ReadyOnceListeningStatusWithStatsStoppingOnDrain) {
  NotifySocket systemd;
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  ServerProcess server({"--workers", "2", "--stats-interval", "1"});
  ::unsetenv("NOTIFY_SOCKET");
  auto ready = systemd.waitFor("READY=1", 10s);
  ASSERT_TRUE(ready) << server.process().output();
  EXPECT_NE(ready->find("STATUS=listening on 127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << *ready;
  {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    s.sendFrame("counted");
  }
  auto status = systemd.waitFor("STATUS=connections=", 10s);
  ASSERT_TRUE(status) << server.process().output();
  EXPECT_NE(status->find("frames="), std::string::npos) << *status;
  ASSERT_EQ(server.stop(), 0);
  // The datagrams wait in the socket, in order, after the server is gone.
  auto stopping = systemd.waitFor("STOPPING=1", 10s);
  ASSERT_TRUE(stopping) << server.process().output();
  EXPECT_NE(stopping->find("STATUS=draining after SIGTERM"), std::string::npos) << *stopping;
}

TEST(ServiceNotify, WithoutNotifySocketNothingIsSentAndNothingBreaks) {
  ::unsetenv("NOTIFY_SOCKET");
  ServerProcess server({"--workers", "1"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendFrame("plain start");
  EXPECT_TRUE(server.process().waitForText("] plain start"));
}

}  // namespace
}  // namespace uvframe::test
