// Helpers for the client and load generator integration tests: run a program
// to its exit, a raw listening socket that records every byte a client sends,
// JSON and file reading, and the paths of the scripts and of python3.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"

namespace uvframe::test {

/// How a program run ended: its exit code (-1 if it did not exit in time)
/// and everything it printed (stdout and stderr, interleaved).
struct RunResult {
  int exitCode = -1;
  std::vector<std::string> lines;
  std::string output;
};

/// Runs argv to its exit (killing it at the deadline).
RunResult runProgram(std::vector<std::string> argv, std::chrono::milliseconds timeout = 60s);
/// Waits for a started child to exit and collects its output.
RunResult finishProgram(ChildProcess& child, std::chrono::milliseconds timeout = 60s);

/// A listening TCP socket on 127.0.0.1 (port 0) that takes one connection
/// and records its bytes: a stand-in server that judges nothing.
class RawListener {
 public:
  RawListener();
  ~RawListener();
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;

  std::uint16_t port() const { return port_; }
  /// Accepts one connection, reads until the peer half-closes, then closes
  /// it. nullopt at the deadline.
  std::optional<std::string> acceptAndReadAll(std::chrono::milliseconds timeout = 10s);
  /// Accepts connections of them at once and records each one's bytes until
  /// it half-closes (then closes it), in the order they were accepted.
  /// nullopt at the deadline.
  std::optional<std::vector<std::string>> acceptManyAndReadAll(
      std::size_t connections, std::chrono::milliseconds timeout = 10s);

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A loopback port where nothing listens (bound once, then released).
std::uint16_t unusedPort();

std::string readFile(const std::string& path);
nlohmann::json readJson(const std::string& path);
/// python3 and the path of scripts/NAME, ready for runProgram.
std::vector<std::string> scriptCommand(const std::string& name);
/// True if python3 can import module.
bool pythonHasModule(const std::string& module);

}  // namespace uvframe::test
