// Connection: the TLS layer in front of the frame path (see connection.h and
// common/tls_session.h).
//
//   socket -> the session's input queue (one read of ciphertext, no copy:
//             TlsSession::ciphertextRoom/commitCiphertext) while the peer
//             streams (its last read was 4 KiB or more)
//          [else, and until a PROXY header is read off the front, the
//           worker's scratch, then TlsSession::feedCiphertext (a copy)]
//          -> readPlaintext(ring.prepareRead())  decrypted straight into the ring
//          -> handleBytes: frames decoded and logged in place, as in plaintext
//
// So the ring, the memory rule, the frame decoder, echo, rate limits and
// timeouts are the plaintext ones; TLS adds one decryption into the ring per
// record and nothing per frame. Echoes are encrypted and leave through the
// same write path (connection_echo.cpp).
//
// Back-pressure: when the ring cannot take more (memory rule, rate limit,
// echo high water) the session keeps what it received and reading stops, so
// at most one read of ciphertext (17 KiB, a TLS record) waits in a paused
// session.
// It is not charged to --max-input-memory: it can only drain into the ring,
// so charging it let six paused peers spend the budget their own frames
// needed and wedged them all (tls_test's LargeFramesThroughATightMemory-
// Budget). Like the kernel's socket buffer, it is a bounded cost per peer
// outside the budget. When reading resumes, the worker pumps the session
// from its idle phase (Worker::schedulePump), since the socket may have
// nothing new to say.
//
// Handshake: the connected line waits for it (with the TLS version and, for
// mTLS, the client certificate's subject). A plaintext client, a failed
// verification or a handshake not done within --tls-handshake-timeout is a
// refusal (reason=tls handshake failed, in OpenSSL's words): one rate-limited
// warning, no connected line. After a second of silence the session gives
// its buffers back (TlsSession::releaseBuffers), so an idle TLS peer stays
// small.
#include "connection.h"
#include "uv_handle.h"
#include "worker.h"

namespace uvframe {

namespace {

// A read of at least this much says the peer is streaming: the next read
// goes straight into the session's input queue (room for a whole scratch,
// 17 KiB). Smaller ones (handshakes, a quiet peer's frames) go through the
// worker's scratch and are copied, so the queue's block stays as small as
// what it holds: a block offered in full to every read would leave a
// touched page or two of heap behind per idle peer.
constexpr std::size_t kReadInPlaceFrom = 4096;

}  // namespace

std::span<std::byte> Connection::roomForCiphertext() {
  if (turnIsOver()) return {};  // fair turns, as plaintext
  // Until the PROXY header is read (it is not TLS), and for small reads, the
  // worker's scratch; while the peer streams, the session's own input
  // queue, so the bytes are not copied again.
  std::span<std::byte> scratch = worker_.tlsScratch();
  if (proxy_ || !tlsReadInPlace_) return scratch;
  std::span<std::byte> room = tls_->ciphertextRoom(scratch.size());
  if (room.empty()) return scratch;  // out of memory: feedCiphertext says so
  tlsBuffersHeld_ = true;  // even if the read finds nothing: give the block back when quiet
  return room;
}

void Connection::handleCipherRead(std::size_t n, const std::byte* where) {
  tlsReadInPlace_ = n >= kReadInPlaceFrom;
  std::span<std::byte> scratch = worker_.tlsScratch();
  if (where == scratch.data()) {
    handleCipherBytes(scratch.first(n));
    return;
  }
  noteCipherRead(n);
  tls_->commitCiphertext(n);
  handleCiphertextTaken();
}

void Connection::noteCipherRead(std::size_t n) {
  turnBytes_ += n;
  lastActivityMs_ = uv_now(worker_.loop());
  tlsBuffersHeld_ = true;
}

void Connection::handleCipherBytes(std::span<const std::byte> bytes) {
  noteCipherRead(bytes.size());
  if (proxy_) {
    bytes = bytes.subspan(proxy_->feed(bytes));
    switch (proxy_->status()) {
      case ProxyHeaderParser::Status::kNeedMore:
        rearm();
        return;
      case ProxyHeaderParser::Status::kError:
        refuseEarly(CloseReason::kBadProxyHeader, proxy_->error());
        return;
      case ProxyHeaderParser::Status::kDone:
        if (!finishProxyHeader()) return;
        break;
    }
  }
  tls_->feedCiphertext(bytes);
  handleCiphertextTaken();
}

void Connection::handleCiphertextTaken() {
  sendTlsOutput();  // handshake flights, tickets, alerts
  if (isClosing()) return;
  if (tls_->state() == TlsState::kFailed) {
    failTls();
    return;
  }
  if (!announced_) {
    if (!tls_->handshakeDone()) {
      rearm();
      return;
    }
    announce(via_.get());
    via_.reset();
  }
  pumpTls();
}

void Connection::pumpTls() {
  if (!tls_ || !announced_) return;
  while (!isClosing() && (paused_ == 0 || worker_.stopping()) && tls_->hasInput()) {
    std::span<std::byte> room = frames_.prepareRead();
    if (room.empty()) {
      if (!worker_.stopping()) waitForMemory();
      break;
    }
    room = capToByteRate(room);  // decrypt no more than --max-byte-rate allows
    std::size_t n = tls_->readPlaintext(room);
    sendTlsOutput();  // a key update's reply, an alert
    if (isClosing()) return;
    if (n == 0) {
      // Only part of a record so far: give back a block taken for nothing.
      if (frames_.ring().empty() && frames_.ring().hasStorage()) {
        frames_.ring().releaseStorage();
        worker_.onMemoryReleased();
      }
      break;
    }
    handleBytes(n, room.size());
  }
  if (isClosing()) return;
  if (tls_->state() == TlsState::kFailed) {
    failTls();
  } else if (tls_->state() == TlsState::kPeerClosed && !halfClosed_) {
    handlePeerHalfClosed();  // close_notify: the peer sends nothing more
  } else {
    rearm();
  }
}

void Connection::sendTlsOutput() {
  std::span<const std::byte> out = tls_->pendingCiphertext();
  if (out.empty() || isClosing()) return;
  writeWire(out);
  if (isClosing()) return;  // the write failed; the session is done with
  tls_->consumeCiphertext(out.size());
}

void Connection::flushTlsBestEffort() {
  std::span<const std::byte> out = tls_->pendingCiphertext();
  if (out.empty()) return;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(out.data())),
                             static_cast<unsigned>(out.size()));
  int n = uv_try_write(stream(), &buf, 1);
  tls_->consumeCiphertext(out.size());  // what was not taken is given up
  (void)n;
}

void Connection::failTls() {
  if (isClosing()) return;
  flushTlsBestEffort();  // the alert that tells the peer why
  if (!announced_) {
    refuseEarly(CloseReason::kTlsHandshakeFailed, tls_->failureReason());
    return;
  }
  worker_.log().warn("[tcp server] tls error on ip={}, port={}: {}; closing connection", peer_.ip,
                     peer_.port, tls_->failureReason());
  close(CloseReason::kTlsError);
}

bool Connection::judgeTlsHandshakeTimeout(std::uint64_t nowMs) {
  const double limit = worker_.options().tlsHandshakeTimeoutSeconds;
  if (nowMs - startMs_ < static_cast<std::uint64_t>(limit * 1000.0) || kernelBytesPending() > 0) {
    return false;
  }
  refuseEarly(CloseReason::kTlsHandshakeFailed,
              fmt::format("handshake not done within {}s", limit));
  return true;
}

}  // namespace uvframe
