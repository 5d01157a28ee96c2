// Finding and waiting for system daemons: see system_daemon.h.
#include "system_daemon.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

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

}  // namespace

std::optional<std::string> systemBinary(const std::string& name,
                                        const std::string& overrideVariable) {
  if (const char* chosen = std::getenv(overrideVariable.c_str())) {
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
    if (!dir.empty() && isExecutable(dir + "/" + name)) return dir + "/" + name;
  }
  return std::nullopt;
}

bool portListening(std::uint16_t port) {
  return listeningIn("tcp", port) || listeningIn("tcp6", port);
}

void waitUntilListening(ChildProcess& child, const std::string& what, std::uint16_t port,
                        std::chrono::milliseconds timeout) {
  // There is no event for "the daemon is listening": poll /proc with a short
  // pause (waitExit doubles as the pause and notices an early exit).
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!portListening(port)) {
    if (child.waitExit(std::chrono::milliseconds(20))) {
      throw std::runtime_error(what + " exited before listening on port " + std::to_string(port) +
                               "; output:\n" + child.output());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error(what + " not listening on port " + std::to_string(port) +
                               " in time; output:\n" + child.output());
    }
  }
}

}  // namespace uvframe::test
