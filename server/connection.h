// Connection: one accepted TCP peer — its socket, its frame reassembler, its
// echoes and timeouts, and the story the log tells about it (connected,
// every message, disconnected with reason and totals).
//
// Read path (no copy, no allocation per frame in the steady state):
//   libuv alloc_cb  -> FrameReassembler::prepareRead()   bytes land in the ring
//   libuv read_cb   -> commit(n); next() for each complete frame
//                   -> one log line per frame, rendered from the ring
//                   -> --echo: the frames go back with one uv_try_write
//                      straight from the ring; only what the socket does not
//                      take at once is copied, queued and charged to the pool
//                   -> endRead(): storage back to the pool once empty
//
// Fair turns: a connection reads at most one chunk per loop turn; past it the
// alloc callback offers no room (the socket stays in epoll, so the next turn
// reads it again after everyone else ready has had theirs).
// Memory: every byte held for the peer is asked of the worker's BufferPool,
// which holds the one memory rule (buffer_pool.h); a refused peer stops
// reading and waits in line, a peer that finishes a read while others wait
// gives back what it does not need.
// Timeouts: one TimingWheel node per connection, armed for its earliest
// deadline and re-checked lazily when it fires (connection_timeouts.cpp).
// Half-close: a peer that shuts down its sending side still gets every queued
// echo; the server shuts its own side down once they are written
// (connection_echo.cpp).
#pragma once

#include <spdlog/common.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "close_reason.h"
#include "frame_reassembler.h"
#include "ip_connection_counter.h"
#include "peer_address.h"
#include "proxy_header.h"
#include "timing_wheel.h"
#include "tls_session.h"
#include "token_bucket.h"

namespace uvframe {

class Worker;
using ConnId = std::uint64_t;

/// One peer. Owned by its Worker (map from ConnId); used only on the worker's
/// loop thread. close() is the only way out; the memory is freed when libuv's
/// close callback asks the Worker to erase it.
class Connection {
 public:
  Connection(Worker& worker, ConnId id);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&tcp_); }
  uv_tcp_t* tcp() { return &tcp_; }
  ConnId id() const { return id_; }
  bool isClosing() const { return uv_is_closing(reinterpret_cast<const uv_handle_t*>(&tcp_)); }
  static Connection* fromTimer(TimingWheel::Node& node) {
    return static_cast<Connection*>(node.data);
  }

  /// After uv_accept: names the peer, logs the connected line and starts
  /// reading. Closes the connection (quietly) if the peer is already gone.
  /// With --proxy-protocol the peer is first a proxy: the connection is
  /// refused unless it is trusted, and becomes a client (connected line,
  /// frames) once its PROXY header has named the client.
  void start();
  /// After uv_accept, when the server is full: logs and counts nothing
  /// itself (the worker does), closes.
  void refuse();
  /// Logs the disconnected line (once) and closes the socket. Idempotent.
  void close(CloseReason reason);

  /// Server shutdown, step 1: notes how many bytes the kernel holds for this
  /// socket now (what the peer sent before the shutdown).
  void noteBytesBeforeShutdown();
  /// Step 2: reads at most those bytes and logs every complete frame in
  /// them, until deadlineMs (uv_now). Returns the bytes it could not read
  /// (0: all read). Does not close.
  std::uint64_t drainUntil(std::uint64_t deadlineMs);

  /// The wheel node came due: judges the timeouts, parks a stalled peer,
  /// re-arms for the next deadline.
  void handleTimer(std::uint64_t nowMs);
  /// The pool woke this peer: read again.
  void resumeAfterMemoryWait();
  bool waitingForMemory() const { return (paused_ & kPausedForMemory) != 0; }

  const PeerAddress& peer() const { return peer_; }

  /// TLS: decrypts what the session holds into the ring and handles the
  /// frames, until it is empty or the connection pauses (connection_tls.cpp).
  void pumpTls();

 private:
  enum PauseBits : std::uint8_t { kPausedForEcho = 1, kPausedForMemory = 2, kPausedForRate = 4 };
  struct EchoWrite;
  /// What --max-connections-per-ip and the rate limits keep per connection;
  /// allocated only when one of them is on (an idle connection stays small).
  struct Limits {
    std::optional<IpConnectionCounter::Key> countedIp;  ///< counted per address
    std::optional<TokenBucket> frames;                  ///< --max-frame-rate
    std::optional<TokenBucket> bytes;                   ///< --max-byte-rate
    std::uint64_t resumeAtMs = 0;                       ///< paused for rate until then
  };

  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onWrite(uv_write_t* req, int status) noexcept;
  static void onShutdown(uv_shutdown_t* req, int status) noexcept;
  static void onClose(uv_handle_t* handle) noexcept;

  std::span<std::byte> roomForRead();
  /// Fair turns: true (and the read ends) once this peer had its chunk this turn.
  bool turnIsOver();
  /// --max-byte-rate: room cut to what the budget holds (at least a byte).
  std::span<std::byte> capToByteRate(std::span<std::byte> room);
  void handleRead(ssize_t nread, const uv_buf_t& buf);
  void handleBytes(std::size_t n, std::size_t offeredBytes);
  void handleReadEnd(ssize_t status);
  /// --allow, --deny and --max-connections-per-ip for the client's address;
  /// refuses the connection and returns false if one says no.
  bool admit();
  /// The connected line: the peer is a client from now on.
  void announce(const PeerAddress* via);
  /// Charges a read to the rate limits; past them, stops reading until the
  /// budget refills (the wheel resumes it).
  void chargeRate(std::size_t bytes, std::uint64_t frames);
  /// Feeds this read's first bytes to the PROXY header parser; true once the
  /// header is complete and the rest of the read holds frames.
  bool takeProxyHeader();
  /// Closes a connection that never became a client, with one rate-limited
  /// warning (no connected or disconnected line).
  void refuseEarly(CloseReason reason, std::string_view detail);
  /// --max-connection-age: closes the connection once it is due and nothing
  /// received is left unlogged (no partial frame, no echo queued, nothing
  /// in the kernel). Returns true if it closed.
  bool closeIfAged();
  void waitForMemory();
  void giveBackWhileOthersWait(bool socketHasMore);
  /// Logs one message line (the caller checked the level).
  void logFrame(std::span<const std::byte> payload, std::size_t totalBytes,
                spdlog::log_clock::time_point when);
  void rejectOversizedFrame(std::uint64_t announcedBytes);
  /// A header the framing can never accept: one warning, then close.
  void rejectBadHeader(std::string_view why);
  /// The first 32 bytes not yet taken from the ring, escaped for a log line
  /// (what a refusal shows of the peer's bytes).
  std::string firstUnreadBytesShown() const;
  void logDisconnected(CloseReason reason);
  void countClose(CloseReason reason);
  void pause(std::uint8_t bit);
  void resume(std::uint8_t bit);
  void closeWithError(CloseReason reason, int status);

  /// After a complete PROXY header: the client it names becomes the peer;
  /// false if the connection was refused.
  bool finishProxyHeader();
  /// The client is admitted: TLS waits for the handshake, plaintext is
  /// announced now. False if refused.
  bool becomeClient(const PeerAddress* via);

  // connection_tls.cpp
  std::span<std::byte> roomForCiphertext();
  void handleCipherRead(std::size_t n, const std::byte* where);
  void handleCipherBytes(std::span<const std::byte> bytes);
  /// A read's bookkeeping: its bytes count toward the turn and as activity,
  /// and the session's buffers are held until the peer is quiet again.
  void noteCipherRead(std::size_t n);
  void handleCiphertextTaken();
  void sendTlsOutput();
  void failTls();
  /// Sends what the session has queued (an alert, close_notify) if the
  /// socket takes it now; never queues.
  void flushTlsBestEffort();
  bool judgeTlsHandshakeTimeout(std::uint64_t nowMs);

  // connection_echo.cpp
  /// Sends bytes as they are: one uv_try_write, the rest copied and queued.
  void writeWire(std::span<const std::byte> bytes);
  void sendEcho(std::span<const std::byte> frames);
  void handleWriteDone(std::size_t bytes, int status);
  void handlePeerHalfClosed();
  std::size_t echoBytesQueued() const { return queuedEchoBytes_; }

  // connection_timeouts.cpp
  std::uint64_t nextDeadlineMs() const;
  void rearm();
  bool judgeWriteTimeout(std::uint64_t nowMs);
  bool judgeReadTimeouts(std::uint64_t nowMs);
  bool judgeProxyTimeout(std::uint64_t nowMs);
  bool judgeMaxAge(std::uint64_t nowMs);
  std::uint64_t kernelBytesPending();
  /// Bytes the kernel still holds to send to the peer (0 where unknown).
  std::uint64_t kernelBytesUnsent();

  uv_tcp_t tcp_;
  Worker& worker_;
  ConnId id_;
  FrameReassembler frames_;
  PeerAddress peer_;
  std::string tag_;                ///< "[tcp/127.0.0.1:55244] ", prefix of each message line
  TimingWheel::Node timer_{this};  ///< in the worker's wheel (connection_timeouts.cpp)
  /// The PROXY header being read (--proxy-protocol), until it is complete.
  std::unique_ptr<ProxyHeaderParser> proxy_;
  std::unique_ptr<Limits> limits_;
  /// --tls-cert: the connection's TLS session (null for plaintext).
  std::unique_ptr<TlsSession> tls_;
  /// With PROXY protocol and TLS: the proxy, named once the handshake is done.
  std::unique_ptr<PeerAddress> via_;
  bool tlsBuffersHeld_ = false;  ///< read since the session last gave its buffers back
  bool tlsReadInPlace_ = false;  ///< the last read was big: read into the session's queue

  std::uint64_t frameCount_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t startMs_ = 0;
  std::uint64_t lastActivityMs_ = 0;
  std::uint64_t partialSinceMs_ = 0;        ///< when the unfinished frame began
  std::uint64_t lastWriteProgressMs_ = 0;   ///< when the peer last took echo bytes
  std::uint64_t echoBytesTakenSeen_ = 0;    ///< echo bytes taken at that time
  std::uint64_t kernelUnsentSeen_ = 0;      ///< the kernel's send queue at the last check
  std::uint64_t echoBytesQueuedTotal_ = 0;  ///< every echo byte ever handed to uv_write
  std::size_t queuedEchoBytes_ = 0;         ///< copied echo bytes not yet written
  std::uint64_t turn_ = 0;                  ///< the worker's loop turn of turnBytes_
  std::size_t turnBytes_ = 0;               ///< bytes read in that turn
  std::uint64_t shutdownPendingBytes_ = 0;  ///< kernel bytes at the shutdown signal
  std::uint8_t paused_ = 0;
  bool yielded_ = false;     ///< the alloc callback offered no room: turn over
  bool halfClosed_ = false;  ///< the peer shut down its side; echoes still going
  bool announced_ = false;   ///< connected line logged (so log the disconnect)
  bool counted_ = false;     ///< included in the open-connections count
  bool ageDue_ = false;      ///< --max-connection-age passed: close after this frame
};

}  // namespace uvframe
