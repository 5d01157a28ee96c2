// FrameClient over TLS: the handshake, records out, plaintext in. See
// frame_client.h; the session is common/tls_session.h (memory BIOs: libuv
// moves the ciphertext, OpenSSL never touches the socket).
#include <array>
#include <cstring>

#include "frame_client.h"

namespace uvframe {
namespace {

/// One write of ciphertext; the bytes live until its callback frees it.
struct CiphertextWrite {
  uv_write_t req{};
  FrameClient* client = nullptr;
  std::vector<std::byte> bytes;
};

}  // namespace

void FrameClient::handshakeTls(const std::string& target) {
  tls_ = std::make_unique<TlsSession>(*tlsContext_);
  tls_->handshake();  // queues the ClientHello
  if (tls_->state() == TlsState::kFailed) {
    throw ClientError("cannot start TLS: " + tls_->failureReason());
  }
  writeStatus_ = 0;
  sendCiphertext();
  bool ended = runUntil([this] {
    return tls_->handshakeDone() || !tlsError_.empty() || eof_ || readError_ != 0 ||
           writeStatus_ != 0;
  });
  std::string prefix = "TLS handshake with " + target + " failed: ";
  if (!tlsError_.empty()) throw ClientError(prefix + tlsError_);
  if (tls_->handshakeDone()) return;
  if (readError_ != 0) throw ClientError(prefix + "connection lost: " + uvErrorText(readError_));
  if (writeStatus_ != 0) throw ClientError(prefix + "send failed: " + uvErrorText(writeStatus_));
  if (eof_) {
    throw ClientError(prefix +
                      "the server closed the connection (does it speak TLS? uvframe-server "
                      "needs --tls-cert and --tls-key)");
  }
  if (!ended) throw ClientError("TLS handshake with " + target + " timed out");
}

void FrameClient::onCiphertextWritten(uv_write_t* req, int status) noexcept {
  std::unique_ptr<CiphertextWrite> write(static_cast<CiphertextWrite*>(req->data));
  FrameClient* self = write->client;
  --self->writesPending_;
  if (status != 0 && self->writeStatus_ == 0) self->writeStatus_ = status;
}

void FrameClient::sendCiphertext() {
  if (tls_->pendingCiphertext().empty() || !tcpOpen_) return;
  auto write = std::make_unique<CiphertextWrite>();
  write->client = this;
  write->bytes = tls_->takeCiphertext();
  write->req.data = write.get();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.data()),
                             static_cast<unsigned>(write->bytes.size()));
  int rc =
      uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, onCiphertextWritten);
  if (rc != 0) {
    if (writeStatus_ == 0) writeStatus_ = rc;
    return;
  }
  write.release();  // onCiphertextWritten frees it
  ++writesPending_;
}

void FrameClient::sendPlaintext(std::string_view bytes) {
  if (!tls_->writePlaintext(std::as_bytes(std::span(bytes.data(), bytes.size())))) {
    throw ClientError("cannot send: TLS: " + (tls_->failureReason().empty()
                                                  ? std::string("the session is closed")
                                                  : tls_->failureReason()));
  }
  sendCiphertext();
}

void FrameClient::receiveCiphertext(const char* data, std::size_t size) {
  tls_->feedCiphertext(std::as_bytes(std::span(data, size)));
  std::array<std::byte, 16 * 1024> plain;
  while (std::size_t n = tls_->readPlaintext(plain)) {
    if (keepReceived_) received_.append(reinterpret_cast<const char*>(plain.data()), n);
  }
  // Handshake flights, and the alert of a failed session, go out at once.
  sendCiphertext();
  if (tls_->state() == TlsState::kFailed) {
    if (tlsError_.empty()) tlsError_ = tls_->failureReason();
  } else if (tls_->state() == TlsState::kPeerClosed) {
    eof_ = true;  // close_notify: the server sends nothing more
  }
}

std::string FrameClient::tlsSummary() const {
  if (!tls_ || !tls_->handshakeDone()) return {};
  std::string text =
      "tls=" + std::string(tls_->version()) + ", cipher=" + std::string(tls_->cipher());
  std::string subject = tls_->peerSubject();
  if (!subject.empty()) text += ", server=" + subject;
  return text;
}

}  // namespace uvframe
