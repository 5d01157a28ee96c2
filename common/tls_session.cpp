// TlsSession: see tls_session.h.
#include "tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "tls_bio.h"
#include "tls_context.h"

namespace uvframe {

namespace {

// A drained queue whose block grew past this gives it back at once, not at
// the next releaseBuffers(): a burst (a 1 MiB echo written at once) leaves
// nothing behind. The server's input queue needs up to two reads' worth
// (a partial record plus the room for a 17 KiB read) and keeps it.
constexpr std::size_t kShedQueueBytes = 34 * 1024;

bool isIpAddress(const std::string& name) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
  if (ip == nullptr) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

TlsSession::TlsSession(const TlsContext& context, std::string_view serverName) {
  ERR_clear_error();
  ssl_ = SSL_new(context.native());
  BIO* in = newQueueBio(in_);
  BIO* out = newQueueBio(out_);
  if (ssl_ == nullptr || in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    fail(SSL_ERROR_SSL, "cannot create a TLS session");
    return;
  }
  SSL_set_bio(ssl_, in, out);  // ssl_ owns both BIOs now, the session their queues
  if (context.role() == TlsRole::kServer) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  std::string name(serverName.empty() ? std::string_view(context.serverName()) : serverName);
  if (name.empty()) return;
  // SSL_set1_host matches an IP address against IP SANs, a name against DNS
  // SANs; SNI carries names only (RFC 6066).
  bool ok = SSL_set1_host(ssl_, name.c_str()) == 1;
  if (ok && !isIpAddress(name)) ok = SSL_set_tlsext_host_name(ssl_, name.c_str()) == 1;
  if (!ok) fail(SSL_ERROR_SSL, "cannot set the expected server name");
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
}

void TlsSession::shedBigDrainedQueue(TlsByteQueue& queue) {
  if (queue.capacity() > kShedQueueBytes) queue.release();  // only if drained
}

void TlsSession::fail(int sslError, const char* what) {
  state_ = TlsState::kFailed;
  unsigned long first = ERR_peek_error();
  failureDetail_ = drainOpenSslErrors();
  if (ssl_ != nullptr) {
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) verifyResult_ = X509_verify_cert_error_string(verify);
  }
  const char* reason = first != 0 ? ERR_reason_error_string(first) : nullptr;
  if (what != nullptr) {
    failureReason_ = what;
    if (reason != nullptr) failureReason_ += std::string(": ") + reason;
  } else if (reason != nullptr) {
    failureReason_ = reason;
  } else if (!failureDetail_.empty()) {
    failureReason_ = failureDetail_;
  } else if (sslError == SSL_ERROR_SYSCALL) {
    failureReason_ = "unexpected end of stream";
  } else {
    failureReason_ = "TLS error " + std::to_string(sslError);
  }
  if (first != 0 && ERR_GET_LIB(first) == ERR_LIB_SSL &&
      ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED && !verifyResult_.empty()) {
    failureReason_ += ": " + verifyResult_;
  }
}

TlsState TlsSession::handshake() {
  if (state_ != TlsState::kHandshaking) return state_;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = TlsState::kOpen;
    return state_;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) fail(err, nullptr);
  return state_;
}

TlsState TlsSession::feedCiphertext(std::span<const std::byte> bytes) {
  if (state_ == TlsState::kFailed) return state_;
  ERR_clear_error();
  if (!in_.append(bytes.data(), bytes.size())) {
    fail(SSL_ERROR_SSL, "cannot buffer received bytes");
    return state_;
  }
  return handshake();
}

std::span<std::byte> TlsSession::ciphertextRoom(std::size_t n) {
  if (state_ == TlsState::kFailed) return {};
  return in_.prepare(n);
}

TlsState TlsSession::commitCiphertext(std::size_t n) {
  if (state_ == TlsState::kFailed) return state_;
  in_.commit(n);
  return handshake();
}

std::size_t TlsSession::bufferedCiphertext() const {
  return in_.size();
}

bool TlsSession::hasInput() const {
  if (ssl_ == nullptr) return false;
  return !in_.empty() || SSL_has_pending(ssl_) == 1;
}

std::size_t TlsSession::readPlaintext(std::span<std::byte> into) {
  if (state_ == TlsState::kHandshaking) handshake();
  if (state_ != TlsState::kOpen) return 0;
  std::size_t total = 0;
  // Once per call, not per record: a record read successfully adds nothing
  // to the queue, and SSL_get_error only looks at it after a failure.
  ERR_clear_error();
  while (total < into.size()) {
    std::size_t got = 0;
    int rc = SSL_read_ex(ssl_, into.data() + total, into.size() - total, &got);
    if (rc == 1) {
      total += got;
      continue;
    }
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = TlsState::kPeerClosed;
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      fail(err, nullptr);
    }
    break;
  }
  shedBigDrainedQueue(in_);
  return total;
}

bool TlsSession::writePlaintext(std::span<const std::byte> bytes) {
  if (!handshakeDone() || shutdownSent_) return false;
  while (!bytes.empty()) {
    ERR_clear_error();
    std::size_t written = 0;
    int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
    if (rc != 1) {
      fail(SSL_get_error(ssl_, rc), nullptr);
      return false;
    }
    bytes = bytes.subspan(written);
  }
  return true;
}

bool TlsSession::writePlaintext(std::span<const std::byte> bytes, TlsByteQueue& into) {
  if (!handshakeDone() || shutdownSent_) return false;
  if (!out_.empty()) {
    std::span<const std::byte> earlier = out_.front();
    if (!into.append(earlier.data(), earlier.size())) {
      fail(SSL_ERROR_SSL, "cannot buffer bytes to send");
      return false;
    }
    out_.clear();
  }
  // The write BIO appends to whichever queue it points at; SSL_write hands
  // it every record before it returns (a queue never says "retry").
  BIO* bio = SSL_get_wbio(ssl_);
  BIO_set_data(bio, &into);
  bool ok = writePlaintext(bytes);
  BIO_set_data(bio, &out_);
  return ok;
}

void TlsSession::shutdown() {
  if (!handshakeDone() || shutdownSent_) return;
  ERR_clear_error();
  shutdownSent_ = true;
  int rc = SSL_shutdown(ssl_);
  if (rc < 0) fail(SSL_get_error(ssl_, rc), nullptr);
}

std::span<const std::byte> TlsSession::pendingCiphertext() const {
  return out_.front();
}

void TlsSession::consumeCiphertext(std::size_t n) {
  out_.drop(n);
  if (out_.empty()) shedBigDrainedQueue(out_);
}

std::vector<std::byte> TlsSession::takeCiphertext() {
  std::span<const std::byte> pending = out_.front();
  std::vector<std::byte> bytes(pending.begin(), pending.end());
  consumeCiphertext(bytes.size());
  return bytes;
}

bool TlsSession::releaseBuffers() {
  if (!handshakeDone()) return false;
  // The queues keep the block of the largest burst they held (up to
  // kShedQueueBytes) until given back here.
  bool all = in_.release();
  all = out_.release() && all;
  if (SSL_free_buffers(ssl_) != 1) all = false;
  ERR_clear_error();
  return all;
}

std::string_view TlsSession::version() const {
  return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

std::string_view TlsSession::cipher() const {
  const char* name = ssl_ != nullptr ? SSL_get_cipher_name(ssl_) : nullptr;
  return name != nullptr ? name : "";
}

std::string TlsSession::peerSubject() const {
  X509* cert = ssl_ != nullptr ? SSL_get0_peer_certificate(ssl_) : nullptr;
  if (cert == nullptr) return {};
  BIO* text = BIO_new(BIO_s_mem());
  if (text == nullptr) return {};
  std::string subject;
  if (X509_NAME_print_ex(text, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long n = BIO_get_mem_data(text, &data);
    if (n > 0 && data != nullptr) subject.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(text);
  return subject;
}

}  // namespace uvframe
