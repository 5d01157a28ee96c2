// HaproxyProcess: a real HAProxy (`haproxy -db -f <cfg>`) in front of
// uvframe-servers for integration tests. The test writes the whole
// configuration (tcpBalancerConfig builds the usual one); the class stores it
// in a temp dir, validates it with `haproxy -c`, runs HAProxy as a child with
// its output captured, and waits (polling with a deadline) until the frontend
// port is listening. Never touches a system HAProxy service. SourceBoundClient
// connects from a chosen loopback address, so each client is a distinct host.
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

/// A port that is free on host right now ("127.0.0.1" or "::1"): bind port 0,
/// read it, close. Throws std::runtime_error if host cannot be bound.
std::uint16_t unusedLoopbackPort(const std::string& host = "127.0.0.1");

/// True if a socket can be bound to [::1] (the machine has IPv6 loopback).
bool hasIpv6Loopback();

/// A blocking client socket bound to a chosen source address (127.0.0.2,
/// 127.0.0.3, ...: distinct clients in front of a balancer) before it
/// connects, which TestSocket::connect cannot do. Closes on destruction.
class SourceBoundClient {
 public:
  /// Throws std::runtime_error if the bind or the connect fails.
  SourceBoundClient(const std::string& source, const std::string& host, std::uint16_t port);
  ~SourceBoundClient();
  SourceBoundClient(const SourceBoundClient&) = delete;
  SourceBoundClient& operator=(const SourceBoundClient&) = delete;

  void sendAll(std::string_view bytes);
  /// True once the peer closed (EOF or reset) within the timeout.
  bool waitClosedByPeer(std::chrono::milliseconds timeout = 10s);
  void close();
  /// The client's own address, as a server names it behind the balancer.
  const PeerAddress& local() const { return local_; }

 private:
  int fd_ = -1;
  PeerAddress local_;
};

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
