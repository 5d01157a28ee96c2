// TestSocket: see test_socket.h. POSIX only.
#include "test_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "peer_address.h"

namespace uvframe::test {

std::string frameBytes(std::string_view payload, ByteOrder order) {
  auto header = encodeHeader(static_cast<std::uint32_t>(payload.size()), order);
  std::string out(reinterpret_cast<const char*>(header.data()), header.size());
  out.append(payload);
  return out;
}

bool waitReadable(int fd, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

TestSocket TestSocket::connect(const std::string& host, std::uint16_t port) {
  return connectFrom("", host, port);
}

TestSocket TestSocket::connectFrom(const std::string& source, const std::string& host,
                                   std::uint16_t port) {
  sockaddr_storage addr{};
  if (!parseNumericAddress(host, port, &addr, sizeof addr)) {
    throw std::runtime_error("not a numeric address: " + host);
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (!source.empty()) {
    // Any 127.0.0.0/8 address is this host's on Linux: one machine plays
    // many client addresses.
    sockaddr_storage from{};
    if (!parseNumericAddress(source, 0, &from, sizeof from) || from.ss_family != addr.ss_family ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&from), len) != 0) {
      int err = errno;
      ::close(fd);
      throw std::runtime_error("bind to source " + source + ": " + std::strerror(err));
    }
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + ": " +
                             std::strerror(err));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return TestSocket(fd);
}

TestSocket::TestSocket(TestSocket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

TestSocket& TestSocket::operator=(TestSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

TestSocket::~TestSocket() {
  close();
}

void TestSocket::sendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TestSocket::sendFrame(std::string_view payload, ByteOrder order) {
  sendAll(frameBytes(payload, order));
}

std::optional<std::string> TestSocket::recvExact(std::size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  out.resize(n);
  std::size_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got < n) {
    if (!waitReadable(fd_, deadline)) return std::nullopt;
    ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    got += static_cast<std::size_t>(r);
  }
  return out;
}

std::optional<std::string> TestSocket::recvFrame(ByteOrder order,
                                                 std::chrono::milliseconds timeout) {
  auto header = recvExact(kFrameHeaderBytes, timeout);
  if (!header) return std::nullopt;
  std::uint32_t len = decodeLength(reinterpret_cast<const std::byte*>(header->data()), order);
  if (len == 0) return std::string();
  return recvExact(len, timeout);
}

bool TestSocket::waitClosedByPeer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    if (!waitReadable(fd_, deadline)) return false;
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;
  }
}

void TestSocket::setResetOnClose() {
  linger l{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

void TestSocket::shutdownWrite() {
  ::shutdown(fd_, SHUT_WR);
}

void TestSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string TestSocket::localHostPort() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
  return peer ? peer->hostPort() : std::string();
}

std::uint16_t TestSocket::localPort() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
  return peer ? peer->port : 0;
}

std::uint16_t unusedLoopbackPort(const std::string& host) {
  sockaddr_storage addr{};
  if (!parseNumericAddress(host, 0, &addr, sizeof addr)) {
    throw std::runtime_error("not a numeric address: " + host);
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("bind " + host + ":0: " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLen);
  ::close(fd);
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&bound));
  if (!peer || peer->port == 0) throw std::runtime_error("no port bound on " + host);
  return peer->port;
}

bool hasIpv6Loopback() {
  try {
    unusedLoopbackPort("::1");
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

PeerAddress TestSocket::local() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  return peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr)).value_or(PeerAddress{});
}

}  // namespace uvframe::test
