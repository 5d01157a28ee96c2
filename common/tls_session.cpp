// TlsSession: see tls_session.h.
#include "tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>

#include "tls_context.h"

namespace uvframe {

namespace {

// BIO_write and BIO_read take int lengths.
constexpr std::size_t kMaxBioChunk = INT_MAX / 2;
// A drained memory BIO whose storage grew past this (a burst: a 1 MiB echo
// written at once) is replaced by an empty one at once, not at the next
// releaseBuffers(): a memory BIO never shrinks on its own.
constexpr std::size_t kShedBioBytes = 64 * 1024;

std::size_t bioCapacity(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  return mem != nullptr ? mem->max : 0;
}

bool isIpAddress(const std::string& name) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(name.c_str());
  if (ip == nullptr) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

std::string_view toString(TlsState state) {
  switch (state) {
    case TlsState::kHandshaking:
      return "handshaking";
    case TlsState::kOpen:
      return "open";
    case TlsState::kPeerClosed:
      return "peer closed";
    case TlsState::kFailed:
      return "failed";
  }
  return "?";
}

TlsSession::TlsSession(const TlsContext& context, std::string_view serverName) {
  ERR_clear_error();
  ssl_ = SSL_new(context.native());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    fail(SSL_ERROR_SSL, "cannot create a TLS session");
    return;
  }
  SSL_set_bio(ssl_, in, out);  // ssl_ owns both now
  in_ = in;
  out_ = out;
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

bool TlsSession::replaceBio(bool input) {
  BIO* fresh = BIO_new(BIO_s_mem());
  if (fresh == nullptr) return false;
  if (input) {
    SSL_set0_rbio(ssl_, fresh);  // frees the old one
    in_ = fresh;
  } else {
    SSL_set0_wbio(ssl_, fresh);
    out_ = fresh;
  }
  return true;
}

void TlsSession::shedBigDrainedBio(bool input) {
  BIO* bio = input ? in_ : out_;
  if (handshakeDone() && BIO_ctrl_pending(bio) == 0 && bioCapacity(bio) > kShedBioBytes) {
    replaceBio(input);
  }
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
  while (!bytes.empty()) {
    std::size_t n = std::min(bytes.size(), kMaxBioChunk);
    ERR_clear_error();
    if (BIO_write(in_, bytes.data(), static_cast<int>(n)) != static_cast<int>(n)) {
      fail(SSL_ERROR_SSL, "cannot buffer received bytes");
      return state_;
    }
    bytes = bytes.subspan(n);
  }
  return handshake();
}

std::size_t TlsSession::bufferedCiphertext() const {
  return in_ != nullptr ? BIO_ctrl_pending(in_) : 0;
}

bool TlsSession::hasInput() const {
  if (ssl_ == nullptr) return false;
  return BIO_ctrl_pending(in_) > 0 || SSL_has_pending(ssl_) == 1;
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
  shedBigDrainedBio(true);
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

void TlsSession::shutdown() {
  if (!handshakeDone() || shutdownSent_) return;
  ERR_clear_error();
  shutdownSent_ = true;
  int rc = SSL_shutdown(ssl_);
  if (rc < 0) fail(SSL_get_error(ssl_, rc), nullptr);
}

std::span<const std::byte> TlsSession::pendingCiphertext() const {
  if (out_ == nullptr) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(out_, &data);
  if (n <= 0 || data == nullptr) return {};
  return {reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(n)};
}

void TlsSession::consumeCiphertext(std::size_t n) {
  // A memory BIO cannot skip bytes; read them into a scratch buffer (the
  // copy costs far less than the encryption that produced them; BIO_reset
  // would clear the BIO's whole capacity with memset instead).
  std::byte scratch[4096];
  while (n > 0 && out_ != nullptr) {
    int got = BIO_read(out_, scratch, static_cast<int>(std::min(n, sizeof scratch)));
    if (got <= 0) break;
    n -= static_cast<std::size_t>(got);
  }
  shedBigDrainedBio(false);
}

std::vector<std::byte> TlsSession::takeCiphertext() {
  std::vector<std::byte> bytes(pendingCiphertext().size());
  std::size_t taken = 0;
  while (taken < bytes.size()) {
    int n = static_cast<int>(std::min(bytes.size() - taken, kMaxBioChunk));
    int got = BIO_read(out_, bytes.data() + taken, n);
    if (got <= 0) break;
    taken += static_cast<std::size_t>(got);
  }
  bytes.resize(taken);
  shedBigDrainedBio(false);
  return bytes;
}

bool TlsSession::releaseBuffers() {
  if (!handshakeDone()) return false;
  // A fresh memory BIO allocates nothing for data until written to; the old
  // one keeps the capacity of the largest burst it held (up to kShedBioBytes).
  bool all = BIO_ctrl_pending(in_) == 0 && replaceBio(true);
  all = BIO_ctrl_pending(out_) == 0 && replaceBio(false) && all;
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
