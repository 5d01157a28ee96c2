// ServerProcess: the real uvframe-server started on an ephemeral loopback
// port (--port 0), ready once its listening line names the port.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "child_process.h"

namespace uvframe::test {

/// A running uvframe-server. The constructor throws std::runtime_error (with
/// the server's output) if no listening line appears in time.
class ServerProcess {
 public:
  /// Starts uvframe-server with --port 0, --host 127.0.0.1 (unless args name
  /// a --host) and args. With --no-console and --log-file, the listening
  /// line is read from the log file.
  explicit ServerProcess(std::vector<std::string> args = {}, ChildProcess::Options options = {});

  /// Stops a server that is still running with SIGTERM and records a test
  /// failure unless it exits 0 (so a sanitizer report in the server, or a
  /// shutdown that hangs, fails the test that started it).
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  ChildProcess& process() { return process_; }

  /// Sends SIGTERM and returns the exit code (nullopt if it did not exit).
  std::optional<int> stop(std::chrono::milliseconds timeout = 30s);

  /// Lines logged for one peer's messages: the text after "[tcp/<hostPort>] ".
  std::vector<std::string> messagesFrom(const std::string& hostPort) const;

 private:
  static std::vector<std::string> commandLine(std::vector<std::string> args, std::string& host);

  std::string logFile_;
  bool noConsole_;
  std::string host_;
  ChildProcess process_;
  std::uint16_t port_ = 0;
};

}  // namespace uvframe::test
