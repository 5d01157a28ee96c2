// LoadConnection: one TCP connection of the load generator, on its
// LoadClient's loop.
//
// Life of a connection:
//
//   idle -> connecting -> open -> shutting down -> closing -> closed
//              |  `-> (EADDRNOTAVAIL: close, connect again from the next
//              |       --source-address)
//              `-> failed: closing -> closed  (counted by kind, never fatal)
//
// While open it writes frames in batches (one uv_write per batch of frames,
// see FrameBatchWriter), either to keep --pipeline frames in flight (closed
// loop, with at most 64 KiB unsent in the kernel: TCP_NOTSENT_LOWAT) or when
// its LoadClient's schedule says they are due (open loop). With --echo its
// EchoChecker checks every frame that comes back. When its work is done it
// half-closes (uv_shutdown after the queued writes) and waits for the server
// to close, so every frame it counted as sent has been read by the server.
// With --proxy-protocol its first write, queued as it opens and so ahead of
// every frame, is the PROXY header (loadgen_proxy.h).
//
// With --tls (load_connection_tls.cpp) a connection stays "connecting" after
// the TCP connect until its TLS handshake is done (after the PROXY header, in
// plaintext, if any): the connect timeout, the connect time and the connect
// failures (tls_handshake, with OpenSSL's reason) include the handshake. Each
// batch of frames is encrypted into the batch's ciphertext, which is what is
// written; what is read is decrypted into the loop's plaintext buffer and
// checked as without TLS. The half-close sends close_notify first.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "echo_checker.h"
#include "tls_session.h"

namespace uvframe {

class LoadClient;
struct WriteBatch;

/// Owned by a LoadClient (in a unique_ptr, so its address is stable for the
/// handle); touched only on that client's loop thread. Freed by the client
/// only after the close callback ran.
class LoadConnection {
 public:
  enum class State : std::uint8_t { kIdle, kConnecting, kOpen, kShuttingDown, kClosing, kClosed };

  LoadConnection(LoadClient& owner, std::uint64_t id, std::uint32_t index);
  ~LoadConnection();
  LoadConnection(const LoadConnection&) = delete;
  LoadConnection& operator=(const LoadConnection&) = delete;

  /// Starts connecting (from idle, or again after an EADDRNOTAVAIL retry).
  void startConnect();
  /// Gives up a connect that takes too long (timedOut) or that the end of
  /// the run overtook.
  void abortConnect(bool timedOut);
  /// Closed loop: writes frames until --pipeline are in flight.
  void fillPipeline();
  /// Open loop: writes every frame due by nowNs, each timed from its
  /// scheduled time.
  void sendDue(std::uint64_t nowNs);
  /// The run is ending: half-close once nothing is outstanding.
  void finishLoad();
  /// Closes now; echoes still outstanding count as missing.
  void close();

  State state() const { return state_; }
  std::uint32_t index() const { return index_; }
  std::uint32_t attempt() const { return attempt_; }
  bool isOpen() const { return state_ == State::kOpen; }
  bool isClosed() const { return state_ == State::kClosed; }
  bool quotaReached() const;
  /// Open loop: when the next frame is due, and whether the connection is
  /// waiting for its write queue to drain before sending more.
  std::uint64_t nextDueNs() const { return nextDueNs_; }
  void setNextDueNs(std::uint64_t dueNs) { nextDueNs_ = dueNs; }
  bool scheduleBlocked() const { return scheduleBlocked_; }

 private:
  static void onConnect(uv_connect_t* req, int status) noexcept;
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onWrite(uv_write_t* req, int status) noexcept;
  static void onShutdown(uv_shutdown_t* req, int status) noexcept;
  static void onProxyHeaderWritten(uv_write_t* req, int status) noexcept;
  static void onClose(uv_handle_t* handle) noexcept;

  int openHandle();
  void handleConnect(int status);
  void failConnect(int status);
  void handleRead(ssize_t nread, const uv_buf_t* buf);
  /// Bytes from the server (decrypted, with --tls).
  void handlePlaintext(std::span<const std::byte> bytes);
  void handleEcho(std::span<const std::byte> bytes);
  void handleWrite(WriteBatch* batch, int status);
  /// Queues the PROXY header; false (after counting and closing) on failure.
  bool sendProxyHeader();
  void handleProxyHeaderWritten(int status);
  void handleClose();
  /// Writes count frames in one batch; frame i is timed from
  /// firstStartNs + i * stepNs.
  void writeFrames(std::uint64_t count, std::uint64_t firstStartNs, std::uint64_t stepNs);
  /// Writes up to count frames, from nextSeq_ on, into batch (its echo
  /// expectations too) and returns how many: fewer once kMaxBatchBytes is
  /// reached, never none.
  std::uint64_t fillBatch(WriteBatch& batch, std::uint64_t count, std::uint64_t firstStartNs,
                          std::uint64_t stepNs);
  /// The next frame's payload size, drawn from rngState (--size MIN-MAX).
  std::uint32_t nextSizeBytes(std::uint64_t& rngState) const;
  void advanceSeq(std::uint64_t frames);
  /// Half-closes if the work is done and nothing is outstanding.
  void maybeShutdown();
  /// The connection is usable: counted open, its connect timed.
  void markOpen();

  // --tls (load_connection_tls.cpp).
  static void onTlsWritten(uv_write_t* req, int status) noexcept;
  /// After the TCP connect: the PROXY header if any, then the ClientHello.
  void startTls();
  /// Ciphertext from the server: the handshake, then plaintext.
  void handleTlsRead(std::span<const std::byte> bytes);
  /// Queues what the session has to send (handshake, alerts, close_notify)
  /// as a write of its own; false after failing the connection.
  bool flushTls();
  void handleTlsWritten(int status);
  /// Encrypts the batch's frames into its ciphertext; buf then points there.
  bool encryptBatch(WriteBatch& batch, uv_buf_t& buf);
  /// The handshake failed (or the connection broke during it): a connect
  /// failure with a reason.
  void failHandshake(const std::string& reason);
  /// An open session failed (an alert, a bad record).
  void failTls();
  /// A write (other than a frame batch) failed with status: a write error,
  /// or a failed connect while the TLS handshake is under way.
  void failWrite(const char* what, int status);
  /// Gives a failed session's alert to the socket if it takes it now.
  void sendAlertBestEffort();

  LoadClient& owner_;
  uv_tcp_t tcp_{};
  uv_connect_t connectReq_{};
  uv_shutdown_t shutdownReq_{};
  std::uint64_t id_;
  std::uint32_t index_;
  State state_ = State::kIdle;
  bool handleInitialized_ = false;
  bool wasOpen_ = false;
  bool retryAfterClose_ = false;
  bool unexpectedDataReported_ = false;
  bool loadEnding_ = false;
  bool settled_ = false;  // reported to the owner: quota sent or closed
  bool scheduleBlocked_ = false;
  std::uint32_t attempt_ = 0;
  std::uint64_t nextSeq_ = 0;
  std::uint64_t queuedFrames_ = 0;
  std::uint64_t queuedBytes_ = 0;
  std::uint64_t nextDueNs_ = 0;
  std::uint64_t rngState_;
  std::uint64_t connectStartNs_ = 0;
  std::unique_ptr<EchoChecker> echo_;  // only with --echo
  std::unique_ptr<TlsSession> tls_;    // only with --tls, from the TCP connect on
};

}  // namespace uvframe
