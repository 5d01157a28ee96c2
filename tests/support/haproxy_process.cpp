// HaproxyProcess: see haproxy_process.h. Linux only: readiness is read from
// /proc/net/tcp{,6} (a socket in LISTEN state on the frontend port), so that
// waiting for HAProxy never opens a connection through it to a backend.
#include "haproxy_process.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "peer_address.h"
#include "test_socket.h"

namespace uvframe::test {

namespace {

bool isExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

// True if /proc/net/<table> has a socket in LISTEN state (st 0A) on port.
bool listeningIn(const std::string& table, std::uint16_t port) {
  std::ifstream in("/proc/net/" + table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    auto colon = local.rfind(':');
    if (colon == std::string::npos || state != "0A") continue;
    if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) return true;
  }
  return false;
}

bool portListening(std::uint16_t port) {
  return listeningIn("tcp", port) || listeningIn("tcp6", port);
}

}  // namespace

std::optional<std::string> haproxyBinary() {
  if (const char* chosen = std::getenv("UVFRAME_HAPROXY")) {
    if (isExecutable(chosen)) return std::string(chosen);
    return std::nullopt;
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::istringstream parts(path);
    for (std::string dir; std::getline(parts, dir, ':');)
      dirs.push_back(dir);
  }
  dirs.insert(dirs.end(), {"/usr/sbin", "/usr/local/sbin", "/sbin"});
  for (const auto& dir : dirs) {
    if (!dir.empty() && isExecutable(dir + "/haproxy")) return dir + "/haproxy";
  }
  return std::nullopt;
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

SourceBoundClient::SourceBoundClient(const std::string& source, const std::string& host,
                                     std::uint16_t port) {
  sockaddr_storage from{}, to{};
  if (!parseNumericAddress(source, 0, &from, sizeof from) ||
      !parseNumericAddress(host, port, &to, sizeof to)) {
    throw std::runtime_error("bad address " + source + " or " + host);
  }
  socklen_t len = to.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  fd_ = ::socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&from), len) != 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&to), len) != 0) {
    int err = errno;
    close();
    throw std::runtime_error("connect from " + source + " to " + host + ":" + std::to_string(port) +
                             ": " + std::strerror(err));
  }
  sockaddr_storage local{};
  socklen_t localLen = sizeof local;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &localLen);
  local_ = peerFromSockaddr(reinterpret_cast<sockaddr*>(&local)).value_or(PeerAddress{});
}

SourceBoundClient::~SourceBoundClient() {
  close();
}

void SourceBoundClient::sendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool SourceBoundClient::waitClosedByPeer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (waitReadable(fd_, deadline)) {
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;
  }
  return false;
}

void SourceBoundClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string tcpBalancerConfig(const std::string& bindAddress,
                              const std::vector<std::string>& serverLines) {
  std::string cfg =
      "# Written by uvframe's integration tests (HaproxyProcess).\n"
      "global\n"
      "  log stdout format raw local0 info\n"
      "  maxconn 1000\n"
      "\n"
      "defaults\n"
      "  mode tcp\n"
      "  log global\n"
      "  option tcplog\n"
      "  option log-health-checks\n"
      "  timeout connect 2s\n"
      "  timeout client 30s\n"
      "  timeout server 30s\n"
      "  timeout check 2s\n"
      "\n"
      "frontend uvframe_in\n"
      "  bind " +
      bindAddress +
      "\n"
      "  default_backend uvframe_servers\n"
      "\n"
      "backend uvframe_servers\n"
      "  balance roundrobin\n";
  for (const auto& s : serverLines)
    cfg += "  server " + s + "\n";
  return cfg;
}

HaproxyProcess::HaproxyProcess(const std::string& binary, const std::string& config,
                               std::uint16_t frontendPort)
    : configPath_(dir_.file("haproxy.cfg")) {
  {
    std::ofstream out(configPath_);
    out << config;
    if (!out) throw std::runtime_error("cannot write " + configPath_);
  }
  {
    ChildProcess check({binary, "-c", "-f", configPath_});
    auto rc = check.waitExit(20s);
    if (rc != 0) {
      throw std::runtime_error("haproxy -c refused the config:\n" + config + "\noutput:\n" +
                               check.output());
    }
  }
  if (portListening(frontendPort)) {
    throw std::runtime_error("port " + std::to_string(frontendPort) +
                             " is already listening before HAProxy started");
  }
  process_ =
      std::make_unique<ChildProcess>(std::vector<std::string>{binary, "-db", "-f", configPath_});
  // There is no event for "HAProxy is listening": poll /proc with a short
  // pause (waitExit doubles as the pause and notices an early exit).
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!portListening(frontendPort)) {
    if (process_->waitExit(20ms)) {
      throw std::runtime_error("haproxy exited before listening on port " +
                               std::to_string(frontendPort) + "; output:\n" + process_->output());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("haproxy not listening on port " + std::to_string(frontendPort) +
                               " after 20 s; output:\n" + process_->output());
    }
  }
}

HaproxyProcess::~HaproxyProcess() {
  if (process_) stop();
}

std::optional<int> HaproxyProcess::stop(std::chrono::milliseconds timeout) {
  // SIGTERM is HAProxy's hard stop (SIGUSR1, the soft stop, would wait for
  // the clients still connected).
  process_->sendSignal(SIGTERM);
  return process_->waitExit(timeout);
}

}  // namespace uvframe::test
