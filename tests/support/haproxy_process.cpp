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
