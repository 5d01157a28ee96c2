// HttpResponder: the small HTTP/1.1 server behind --metrics (GET /metrics,
// GET /healthz), on a libuv loop: the server's control loop, which never
// waits for the log (its logger is non-blocking), so scrapes and health
// checks are answered also while the log blocks.
//
// Why not prometheus-cpp's Exposer (civetweb, a thread per request): it
// cannot answer /healthz with 503, and each silent client holds one of its
// few threads. This responder is single-threaded and bounded instead:
// - at most Options::maxClients connections at once; a newcomer beyond that
//   evicts the oldest one that is still sending its head (or lingering after
//   its answer), so silent clients cannot lock scrapers out; when every slot
//   is busy writing an answer, the newcomer is accepted and closed at once;
// - each connection has Options::deadline from its accept to read the head
//   (at most maxHeadBytes), be answered and have the answer written; a
//   timer sweeps the clients and closes those past it (slowloris, silent
//   clients, peers that never read);
// - GET and HEAD only (405 otherwise), 400 for a malformed head, 431 for one
//   too large; every answer carries Connection: close, then the socket's
//   sending side is shut down and what the peer still sends is discarded
//   until it closes (so a body it sent cannot turn our close into a reset
//   that destroys the answer), within the same deadline.
// Handles are heap-allocated and freed in their close callbacks
// (common/uv_handle.h), which touch nothing else: the responder may be
// destroyed before the loop runs them.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http_request.h"

struct sockaddr;

namespace uvframe {

/// What a handler answers for a GET or HEAD of path.
struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

/// A bounded HTTP/1.1 responder on one libuv loop; every method on that
/// loop's thread.
class HttpResponder {
 public:
  struct Options {
    std::size_t maxClients = 64;
    std::size_t maxHeadBytes = kMaxHttpHeadBytes;
    /// From accept to the answer written.
    std::chrono::milliseconds deadline{5000};
  };
  /// Called for GET and HEAD with the path (no query); 404 for paths it does
  /// not serve. May throw: the client then gets a 500.
  using Handler = std::function<HttpResponse(std::string_view path)>;

  HttpResponder(uv_loop_t* loop, Handler handler, Options options);
  HttpResponder(uv_loop_t* loop, Handler handler) : HttpResponder(loop, std::move(handler), {}) {}
  /// close().
  ~HttpResponder();
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;

  /// Binds (IPv4 or IPv6; port 0 picks one) and listens. Throws
  /// std::runtime_error with libuv's reason.
  void listen(const sockaddr* address);
  /// The port bound by listen().
  std::uint16_t boundPort() const;
  /// Closes the listener, the timer and every client; idempotent. Their
  /// memory is freed when the loop runs their close callbacks.
  void close();

  std::size_t clientCount() const { return clients_.size(); }

 private:
  struct Client;
  enum class State : std::uint8_t { kReading, kWriting, kLingering };

  static void onConnection(uv_stream_t* server, int status) noexcept;
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onWritten(uv_write_t* req, int status) noexcept;
  static void onShutdown(uv_shutdown_t* req, int status) noexcept;
  static void onSweep(uv_timer_t* timer) noexcept;

  void accept();
  void handleRead(Client& c, ssize_t nread);
  void respond(Client& c, HttpRequestHead head);
  void send(Client& c, int status, const HttpResponse& response, bool withBody, bool allowHeader);
  void closeClient(Client& c);
  bool evictOne();
  void sweep();

  uv_loop_t* loop_;
  Handler handler_;
  Options options_;
  uv_tcp_t* listener_ = nullptr;  ///< freed by its close callback
  uv_timer_t* timer_ = nullptr;   ///< freed by its close callback
  std::vector<Client*> clients_;  ///< in order of accept (oldest first)
  std::string discard_;           ///< reads after the head land here
  bool closed_ = false;
};

}  // namespace uvframe
