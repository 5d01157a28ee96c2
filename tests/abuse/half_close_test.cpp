// A peer that half-closes: it sends its frames, shuts down its sending side
// (FIN) and then reads. SPEC: "A peer that half-closes (shutdown of its
// sending side) after its last frame gets every echo before the server
// closes." Closing the socket on EOF would make libuv cancel the echo writes
// still queued, and the peer would lose the tail of its echoes.
//
// The peer sets a 1460-byte MSS (an Ethernet path) and a small receive buffer
// before connecting, and sends 2 MiB without reading, so when its FIN arrives
// most of the echo is still waiting in the server: on loopback's 64 KiB MSS
// the server's kernel send buffer alone would otherwise take megabytes (Linux
// sizes it by MSS x congestion window) and the server would hold nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr int kRealPathMss = 1460;
constexpr int kFrames = 32;
constexpr std::size_t kPayloadBytes = 64 * kKiB;  // 2 MiB in all

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A non-blocking loopback socket with a 1460-byte MSS and an 8 KiB receive
// buffer, set before connect (see the file comment).
int connectLikeARemotePeer(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int receiveBufferBytes = 8 * 1024;
  int mss = kRealPathMss;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBufferBytes, sizeof receiveBufferBytes);
  setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("connect: ") + std::strerror(err));
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::uint16_t localPortOf(int fd) {
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  return ntohs(local.sin_port);
}

std::string framesToSend() {
  std::string out;
  for (int seq = 0; seq < kFrames; ++seq) {
    std::string p = "seq=" + std::to_string(seq) + " ";
    for (std::size_t i = p.size(); i < kPayloadBytes; ++i)
      p.push_back(static_cast<char>('a' + (i * 3 + static_cast<std::size_t>(seq)) % 26));
    out += frameBytes(p);
  }
  return out;
}

/// How reading ended.
enum class End { kEof, kReset, kDeadline };

// Reads whatever is there without waiting; returns kEof or kReset when the
// connection has ended, else kDeadline (meaning "not ended yet").
End readAvailable(int fd, std::string& into) {
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return End::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return End::kDeadline;
    return End::kReset;
  }
}

// Sends all bytes without reading, except when the connection has taken
// nothing for a second (every buffer on the way is full: the server paused
// reading at its echo high-water mark); then it reads what has arrived so the
// server can go on. Returns false at the deadline.
bool sendReadingOnlyWhenStuck(int fd, const std::string& bytes, std::string& received,
                              Clock::time_point deadline) {
  std::size_t sent = 0;
  auto lastProgress = Clock::now();
  while (sent < bytes.size()) {
    if (Clock::now() >= deadline) return false;
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      lastProgress = Clock::now();
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (Clock::now() - lastProgress >= std::chrono::seconds(1)) {
      if (readAvailable(fd, received) != End::kDeadline) return false;
      lastProgress = Clock::now();
    }
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 100);
  }
  return true;
}

// Reads until the connection ends or the deadline.
End readToEnd(int fd, std::string& into, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    End end = readAvailable(fd, into);
    if (end != End::kDeadline) return end;
    waitReadable(fd, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)));
  }
  return End::kDeadline;
}

TEST(AbuseHalfClose, EchoesArriveAfterThePeerShutsDownItsSendingSide) {
  ServerProcess server({"--echo", "--workers", "1", "--max-logged-bytes", "32"});
  ChildProcess& out = server.process();
  int fd = connectLikeARemotePeer(server.port());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::string bytes = framesToSend();
  std::string received;
  auto start = Clock::now();
  ASSERT_TRUE(sendReadingOnlyWhenStuck(fd, bytes, received, start + 20s))
      << "could not send 2 MiB in 20 s";
  std::size_t receivedBeforeShutdown = received.size();
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);

  End end = readToEnd(fd, received, Clock::now() + 20s);
  double tookS = seconds(Clock::now() - start);
  EXPECT_TRUE(end == End::kEof) << (end == End::kReset ? "reset by the server" : "no EOF in 20 s");
  ASSERT_EQ(received.size(), bytes.size())
      << "received " << received.size() / kKiB << " of " << bytes.size() / kKiB << " KiB of echo ("
      << receivedBeforeShutdown / kKiB << " KiB before the shutdown)";
  EXPECT_TRUE(received == bytes) << "echo differs from what was sent";

  std::string tag =
      "client disconnected: ip=127.0.0.1, port=" + std::to_string(localPortOf(fd)) + " (";
  auto line = out.waitForText(tag, 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("(reason=peer closed, frames=" + std::to_string(kFrames) +
                       ", bytes=" + std::to_string(bytes.size()) + ","),
            std::string::npos)
      << *line;
  std::cout << "[ measured ] " << bytes.size() / kKiB << " KiB sent, then shutdown(SHUT_WR) having "
            << "read " << receivedBeforeShutdown / kKiB << " KiB of echo: all of it back, then "
            << "EOF, after " << tookS << " s\n";
}

}  // namespace
}  // namespace uvframe::test
