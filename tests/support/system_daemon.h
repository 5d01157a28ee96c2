// Helpers for tests that run a system daemon (HAProxy, rsyslogd) as their own
// child: finding its binary where Debian installs it, and waiting until it
// listens on a port. Linux only: readiness is read from /proc/net/tcp{,6} (a
// socket in LISTEN state on the port), so waiting never opens a connection
// through the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "child_process.h"

namespace uvframe::test {

/// Absolute path of the program called name (PATH, then /usr/sbin,
/// /usr/local/sbin and /sbin, where Debian puts daemons), or nullopt when not
/// installed. When the environment variable overrideVariable is set, its value
/// is used instead (a path that is not an executable makes it nullopt: how to
/// see the tests that need it skip).
std::optional<std::string> systemBinary(const std::string& name,
                                        const std::string& overrideVariable);

/// True if a socket on this host is listening on TCP port (IPv4 or IPv6).
bool portListening(std::uint16_t port);

/// Waits until port is listening, polling; throws std::runtime_error naming
/// what (with the child's output) if the child exits first or the deadline
/// passes.
void waitUntilListening(ChildProcess& child, const std::string& what, std::uint16_t port,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace uvframe::test
