// HaproxyProcess: a real HAProxy (`haproxy -db -f <cfg>`) in front of
// uvframe-servers for integration tests. The test writes the whole
// configuration (tcpBalancerConfig builds the usual one); the class stores it
// in a temp dir, validates it with `haproxy -c`, runs HAProxy as a child with
// its output captured, and waits (polling with a deadline) until the frontend
// port is listening. Never touches a system HAProxy service. (Clients from distinct
// loopback addresses: TestSocket::connectFrom.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "peer_address.h"

namespace uvframe::test {

/// Absolute path of the haproxy binary (PATH, then /usr/sbin and
/// /usr/local/sbin, where Debian puts it), or nullopt when not installed.
/// UVFRAME_HAPROXY=<path> overrides the search (a path that is not an
/// executable makes it nullopt: how to see the tests skip).
std::optional<std::string> haproxyBinary();

/// A config for HAProxy in `mode tcp`: one frontend bound to bindAddress
/// ("127.0.0.1:8000", "[::1]:8000"), one backend with `balance roundrobin` and
/// the given `server` lines (the text after "server "), HAProxy's own log on
/// its stdout (captured with the output; health-check results included),
/// timeouts set.
std::string tcpBalancerConfig(const std::string& bindAddress,
                              const std::vector<std::string>& serverLines);

/// A running HAProxy. Not copyable; the destructor stops it.
class HaproxyProcess {
 public:
  /// Writes config, checks it (`haproxy -c`), starts `haproxy -db -f` and
  /// waits until frontendPort is listening. Throws std::runtime_error with
  /// HAProxy's output if the config is refused, HAProxy exits or the port is
  /// not listening within the deadline.
  HaproxyProcess(const std::string& binary, const std::string& config, std::uint16_t frontendPort);
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  ChildProcess& process() { return *process_; }
  const std::string& configPath() const { return configPath_; }

  /// Hard-stops HAProxy (SIGTERM) and waits for it: its exit status, or
  /// nullopt if it did not exit in time (the destructor then kills it).
  std::optional<int> stop(std::chrono::milliseconds timeout = 10s);

 private:
  TempDir dir_;
  std::string configPath_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace uvframe::test
