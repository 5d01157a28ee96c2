// TestSocket: a plain blocking TCP client for integration tests, so a test
// can control every byte and every split it sends (header and body in
// separate writes, one byte at a time, a stall mid-frame, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "frame_codec.h"
#include "peer_address.h"

namespace uvframe::test {

/// The bytes of one frame: header in the given byte order, then payload.
std::string frameBytes(std::string_view payload, ByteOrder order = ByteOrder::kLittle);

/// Polls fd until it is readable (true) or the deadline passes, or poll
/// fails (false); retries on EINTR.
bool waitReadable(int fd, std::chrono::steady_clock::time_point deadline);

/// A port that is free on host right now ("127.0.0.1" or "::1"): bind port 0,
/// read it, close. Throws std::runtime_error if host cannot be bound.
std::uint16_t unusedLoopbackPort(const std::string& host = "127.0.0.1");

/// True if a socket can be bound to [::1] (the machine has IPv6 loopback).
bool hasIpv6Loopback();

/// One connected TCP socket (blocking). Closes on destruction.
class TestSocket {
 public:
  /// Connects to host:port (numeric IPv4 or IPv6); throws std::runtime_error
  /// on failure.
  static TestSocket connect(const std::string& host, std::uint16_t port);
  /// The same from a chosen local address (e.g. 127.0.0.2: every 127/8
  /// address is the loopback on Linux), so one host plays many clients.
  static TestSocket connectFrom(const std::string& source, const std::string& host,
                                std::uint16_t port);

  TestSocket(TestSocket&& other) noexcept;
  TestSocket& operator=(TestSocket&& other) noexcept;
  ~TestSocket();

  /// Writes all bytes (one send call per chunk the kernel accepts).
  void sendAll(std::string_view bytes);
  void sendFrame(std::string_view payload, ByteOrder order = ByteOrder::kLittle);
  /// Reads exactly n bytes, or nullopt on EOF, error or deadline.
  std::optional<std::string> recvExact(
      std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Reads one frame's payload, or nullopt on EOF, error or deadline.
  std::optional<std::string> recvFrame(
      ByteOrder order = ByteOrder::kLittle,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// True once the peer has closed the connection (EOF or reset) within the
  /// deadline; bytes that arrive meanwhile are discarded.
  bool waitClosedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Sends a TCP RST instead of a FIN when closed (SO_LINGER 0).
  void setResetOnClose();
  void shutdownWrite();
  void close();

  /// "127.0.0.1:55244" or "[::1]:55244": how the server names this client.
  std::string localHostPort() const;
  std::uint16_t localPort() const;
  /// This end's address as the server names it (ip text and port).
  PeerAddress local() const;
  int fd() const { return fd_; }

 private:
  explicit TestSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace uvframe::test
