// Helpers for the client integration tests: see client_test_helpers.h.
#include "client_test_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "test_socket.h"

#ifndef UVFRAME_PYTHON
#error "UVFRAME_PYTHON must name the python3 interpreter"
#endif
#ifndef UVFRAME_SCRIPTS_DIR
#error "UVFRAME_SCRIPTS_DIR must name the scripts directory"
#endif

namespace uvframe::test {

RunResult finishProgram(ChildProcess& child, std::chrono::milliseconds timeout) {
  RunResult r;
  auto code = child.waitExit(timeout);
  r.exitCode = code ? *code : -1;
  r.lines = child.lines();
  r.output = child.output();
  return r;
}

RunResult runProgram(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(argv));
  return finishProgram(child, timeout);
}

namespace {

int listenOnLoopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

RawListener::RawListener() {
  fd_ = listenOnLoopback(port_);
}

RawListener::~RawListener() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> RawListener::acceptAndReadAll(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!waitReadable(fd_, deadline)) return std::nullopt;
  int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return std::nullopt;
  std::string bytes;
  char buf[4096];
  while (true) {
    if (!waitReadable(conn, deadline)) {
      ::close(conn);
      return std::nullopt;
    }
    ssize_t n = ::recv(conn, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  ::close(conn);
  return bytes;
}

std::optional<std::vector<std::string>> RawListener::acceptManyAndReadAll(
    std::size_t connections, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> bytes;
  std::vector<int> fds;  // -1 once the peer has half-closed
  std::size_t finished = 0;
  auto closeAll = [&fds] {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  };
  while (finished < connections) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      closeAll();
      return std::nullopt;
    }
    std::vector<pollfd> polled;
    if (fds.size() < connections) polled.push_back({fd_, POLLIN, 0});
    for (int fd : fds) {
      if (fd >= 0) polled.push_back({fd, POLLIN, 0});
    }
    int rc = ::poll(polled.data(), polled.size(), static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) {
      closeAll();
      return std::nullopt;
    }
    for (const pollfd& p : polled) {
      if (p.revents == 0) continue;
      if (p.fd == fd_) {
        int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn >= 0) {
          fds.push_back(conn);
          bytes.emplace_back();
        }
        continue;
      }
      std::size_t i = 0;
      while (fds[i] != p.fd)
        ++i;
      char buf[4096];
      ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
      if (n > 0) {
        bytes[i].append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(p.fd);
        fds[i] = -1;
        ++finished;
      }
    }
  }
  return bytes;
}

std::uint16_t unusedPort() {
  std::uint16_t port = 0;
  ::close(listenOnLoopback(port));
  return port;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json readJson(const std::string& path) {
  return nlohmann::json::parse(readFile(path));
}

std::vector<std::string> scriptCommand(const std::string& name) {
  return {UVFRAME_PYTHON, std::string(UVFRAME_SCRIPTS_DIR) + "/" + name};
}

bool pythonHasModule(const std::string& module) {
  return runProgram({UVFRAME_PYTHON, "-c", "import " + module}, 30s).exitCode == 0;
}

}  // namespace uvframe::test
