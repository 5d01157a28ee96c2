// LoadConnection over TLS (--tls): see load_connection.h. The session is
// common/tls_session.h: OpenSSL works on memory buffers, libuv moves the
// ciphertext. Every write keeps its ciphertext alive until its callback: a
// frame batch in its own WriteBatch::ciphertext, everything else (handshake
// flights, close_notify) in a TlsWrite.
#include <string>

#include "load_client.h"
#include "load_connection.h"

namespace uvframe {
namespace {

/// Ciphertext that is not a frame batch; freed in its write callback.
struct TlsWrite {
  uv_write_t req{};
  LoadConnection* conn = nullptr;
  std::vector<std::byte> bytes;
};

}  // namespace

void LoadConnection::startTls() {
  // The PROXY header goes first, in plaintext, as a balancer would send it.
  if (owner_.plan().options->proxyProtocol != ProxyProtocolVersion::kOff && !sendProxyHeader()) {
    return;
  }
  tls_ = std::make_unique<TlsSession>(owner_.tlsContext());
  if (tls_->handshake() == TlsState::kFailed) {  // no ClientHello: out of memory or alike
    failHandshake(tls_->failureReason());
    return;
  }
  flushTls();
}

void LoadConnection::handleTlsRead(std::span<const std::byte> bytes) {
  tls_->feedCiphertext(bytes);
  if (state_ == State::kConnecting) {
    // The handshake's next flight (a failed one's alert) goes out first.
    if (tls_->state() == TlsState::kFailed) {
      failHandshake(tls_->failureReason());
      return;
    }
    if (!flushTls() || !tls_->handshakeDone()) return;
    owner_.connectEnded();
    markOpen();
    owner_.connectionOpened(*this);
  }
  std::span<std::byte> plain = owner_.plaintextBuffer();
  while (state_ == State::kOpen || state_ == State::kShuttingDown) {
    std::size_t n = tls_->readPlaintext(plain);
    if (n == 0) break;
    handlePlaintext(plain.first(n));
  }
  if (state_ != State::kOpen && state_ != State::kShuttingDown) return;
  if (tls_->state() == TlsState::kFailed) {
    failTls();
    return;
  }
  // TLS 1.3 session tickets need no answer; a key update does.
  flushTls();
  // kPeerClosed (close_notify): the server's EOF follows and is handled as
  // without TLS.
}

bool LoadConnection::flushTls() {
  std::span<const std::byte> out = tls_->pendingCiphertext();
  if (out.empty()) return true;
  if (state_ == State::kShuttingDown) {
    // Past our FIN nothing can be written (and nothing needs to be).
    tls_->consumeCiphertext(out.size());
    return true;
  }
  auto write = std::make_unique<TlsWrite>();
  write->conn = this;
  write->bytes = tls_->takeCiphertext();
  write->req.data = write.get();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.data()),
                             static_cast<unsigned>(write->bytes.size()));
  int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, onTlsWritten);
  if (rc != 0) {
    failWrite("cannot send", rc);
    return false;
  }
  write.release();  // onTlsWritten frees it
  return true;
}

void LoadConnection::onTlsWritten(uv_write_t* req, int status) noexcept {
  std::unique_ptr<TlsWrite> write(static_cast<TlsWrite*>(req->data));
  write->conn->handleTlsWritten(status);
}

void LoadConnection::handleTlsWritten(int status) {
  // UV_ECANCELED: our own close cancelled the write; nothing to count.
  if (status == 0 || status == UV_ECANCELED) return;
  failWrite("cannot send", status);
}

void LoadConnection::failWrite(const char* what, int status) {
  if (state_ == State::kConnecting) {
    // The PROXY header or a handshake flight: the connect attempt failed.
    failHandshake(std::string(what) + ": " + uvErrorText(status));
  } else if (state_ != State::kClosing && state_ != State::kClosed) {
    owner_.counters().addError(ErrorKind::kWriteError);
    close();
  }
}

bool LoadConnection::encryptBatch(WriteBatch& batch, uv_buf_t& buf) {
  // OpenSSL writes the records straight into the batch's own queue (kept
  // with its block while the batch is pooled), after anything the session
  // queued before them, though flushTls leaves nothing behind: no copy.
  batch.ciphertext.clear();
  if (!tls_->writePlaintext(std::as_bytes(std::span(batch.bytes.data(), batch.bytes.size())),
                            batch.ciphertext)) {
    return false;
  }
  std::span<const std::byte> out = batch.ciphertext.front();
  buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(out.data())),
                    static_cast<unsigned>(out.size()));
  return true;
}

void LoadConnection::failHandshake(const std::string& reason) {
  if (state_ != State::kConnecting) return;
  owner_.connectEnded();
  LoadCounters& c = owner_.counters();
  c.addTlsFailure(ErrorKind::kTlsHandshake, reason);
  LoadCounters::add(c.connectionsFailed);
  if (tls_) sendAlertBestEffort();
  close();
}

void LoadConnection::failTls() {
  owner_.counters().addTlsFailure(ErrorKind::kTlsError, tls_->failureReason().empty()
                                                            ? std::string("the session closed")
                                                            : tls_->failureReason());
  sendAlertBestEffort();
  close();
}

void LoadConnection::sendAlertBestEffort() {
  std::span<const std::byte> out = tls_->pendingCiphertext();
  if (out.empty() || !handleInitialized_) return;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(out.data())),
                             static_cast<unsigned>(out.size()));
  // Taken now or never: the connection closes right after.
  (void)uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
  tls_->consumeCiphertext(out.size());
}

}  // namespace uvframe
