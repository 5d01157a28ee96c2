// Connection: echoes and half-close (see connection.h).
//
// An echo costs no copy in the common case: one uv_try_write straight from
// the ring. Whatever the socket does not take at once is copied (the ring
// will be reused), queued and charged to the worker's memory budget; past
// --echo-high-water the peer is not read until its queue drains to half.
// Progress is counted in bytes the peer takes, not in finished writes, so a
// slow but reading peer is never taken for a stuck one (the write timeout
// in connection_timeouts.cpp).
#include <vector>

#include "connection.h"
#include "uv_handle.h"
#include "worker.h"

namespace uvframe {

/// An echo that the socket did not take at once: its own copy of the bytes,
/// alive until libuv's write callback (which runs, with UV_ECANCELED, before
/// the close callback if the connection closes first).
struct Connection::EchoWrite {
  uv_write_t req;
  Connection* connection;
  std::vector<char> bytes;
};

void Connection::sendEcho(std::span<const std::byte> frames) {
  if (isClosing()) return;
  if (!tls_) {
    writeWire(frames);
    return;
  }
  // TLS: the frames are encrypted into records (the one copy TLS needs), and
  // the records go out like plaintext echoes, charged the same way.
  if (!tls_->writePlaintext(frames)) {
    failTls();
    return;
  }
  sendTlsOutput();
}

void Connection::writeWire(std::span<const std::byte> frames) {
  if (isClosing()) return;
  if (queuedEchoBytes_ == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(frames.data())),
                               static_cast<unsigned>(frames.size()));
    int n = uv_try_write(stream(), &buf, 1);
    if (n == static_cast<int>(frames.size())) return;
    if (n < 0 && n != UV_EAGAIN) {
      closeWithError(CloseReason::kWriteError, n);
      return;
    }
    if (n > 0) frames = frames.subspan(static_cast<std::size_t>(n));
  }
  auto* w = new EchoWrite{
      {},
      this,
      std::vector<char>(reinterpret_cast<const char*>(frames.data()),
                        reinterpret_cast<const char*>(frames.data()) + frames.size())};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  int rc = uv_write(&w->req, stream(), &buf, 1, onWrite);
  if (rc != 0) {
    delete w;
    closeWithError(CloseReason::kWriteError, rc);
    return;
  }
  if (queuedEchoBytes_ == 0) {
    // The write clock starts with the first byte the peer leaves waiting.
    lastWriteProgressMs_ = uv_now(worker_.loop());
    echoBytesTakenSeen_ = echoBytesQueuedTotal_;
    kernelUnsentSeen_ = kernelBytesUnsent();
  }
  queuedEchoBytes_ += frames.size();
  echoBytesQueuedTotal_ += frames.size();
  worker_.pool().chargeEcho(frames.size());
  if (queuedEchoBytes_ > worker_.options().echoHighWaterBytes) pause(kPausedForEcho);
}

void Connection::onWrite(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<EchoWrite*>(req->data);
  Connection* self = w->connection;
  std::size_t bytes = w->bytes.size();
  delete w;
  self->handleWriteDone(bytes, status);
}

void Connection::handleWriteDone(std::size_t bytes, int status) {
  queuedEchoBytes_ -= bytes;
  worker_.pool().releaseEcho(bytes);
  worker_.onMemoryReleased();
  if (status == UV_ECANCELED || isClosing()) return;
  lastWriteProgressMs_ = uv_now(worker_.loop());
  echoBytesTakenSeen_ = echoBytesQueuedTotal_ - stream()->write_queue_size;
  if (status < 0) {
    closeWithError(CloseReason::kWriteError, status);
    return;
  }
  // Resume at half the mark so a peer hovering at the limit does not toggle
  // reading on and off at every write.
  if ((paused_ & kPausedForEcho) && queuedEchoBytes_ <= worker_.options().echoHighWaterBytes / 2) {
    resume(kPausedForEcho);
  }
  if (ageDue_ && queuedEchoBytes_ == 0) closeIfAged();
}

// The peer shut down its sending side (EOF). Every complete frame is logged;
// if echoes are still queued, they are written first and the server then
// shuts down its own side (libuv runs the shutdown once the write queue is
// empty), as libuv's own echo server does. Closing at once would cancel them.
void Connection::handlePeerHalfClosed() {
  if (queuedEchoBytes_ == 0 || halfClosed_) {
    close(CloseReason::kPeerClosed);
    return;
  }
  halfClosed_ = true;
  uv_read_stop(stream());
  // Allocated only here (rare): an idle connection should not carry it.
  auto* req = new uv_shutdown_t;
  req->data = this;
  int rc = uv_shutdown(req, stream(), onShutdown);
  if (rc != 0) {
    delete req;
    closeWithError(CloseReason::kWriteError, rc);
  }
  rearm();
}

void Connection::onShutdown(uv_shutdown_t* req, int status) noexcept {
  auto* self = static_cast<Connection*>(req->data);
  delete req;  // libuv runs this (UV_ECANCELED) before the close callback
  if (status == UV_ECANCELED || self->isClosing()) return;
  self->close(CloseReason::kPeerClosed);
}

}  // namespace uvframe
