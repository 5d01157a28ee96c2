// TlsTestClient: a blocking TLS client for integration tests — a TestSocket
// with a TlsSession (common/tls_session.h) on top, driven by poll() with
// deadlines. It speaks the frame protocol over TLS (sendFrame, recvFrame)
// and reports why a handshake failed in OpenSSL's words.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "test_socket.h"
#include "tls_context.h"
#include "tls_session.h"

namespace uvframe::test {

class TlsTestClient {
 public:
  /// Takes a connected socket (bytes already sent on it, such as a PROXY
  /// header, stay before the TLS handshake).
  TlsTestClient(TestSocket socket, const TlsClientOptions& options);

  /// Runs the handshake until it is done (true) or fails, the server closes,
  /// or the deadline passes (false; error() says why). With TLS 1.3 a
  /// client finishes first: a server that refuses the client certificate
  /// is seen on the next read (recvFrame, waitClosed).
  bool handshake(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Encrypts and sends bytes (blocking until the socket took them all).
  void sendAll(std::string_view bytes);
  void sendFrame(std::string_view payload);
  /// Plaintext bytes: exactly n, or nullopt on close, failure or deadline.
  std::optional<std::string> recvExact(
      std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<std::string> recvFrame(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// True once the server closed (TCP EOF/reset, close_notify or a fatal
  /// alert) within the deadline; plaintext arriving meanwhile is dropped.
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Sends close_notify, then closes the socket.
  void close();

  const std::string& error() const { return error_; }
  TlsSession& session() { return *session_; }
  TestSocket& socket() { return socket_; }

 private:
  /// Sends what the session queued; false if the socket failed.
  bool flush();
  /// Reads once from the socket (waiting until the deadline) and feeds the
  /// session; false on EOF, error or deadline.
  bool readSome(std::chrono::steady_clock::time_point deadline);

  TestSocket socket_;
  std::shared_ptr<TlsContext> context_;
  std::unique_ptr<TlsSession> session_;
  std::string buffered_;  ///< plaintext received and not returned yet
  std::string error_;
};

}  // namespace uvframe::test
