// TlsContext: the OpenSSL SSL_CTX a listener (or a client) makes its
// TlsSessions from: protocol versions, certificate and key, whom to trust.
//
// Policy, the same for both sides: TLS 1.2 and TLS 1.3 only; no
// renegotiation (SSL_OP_NO_RENEGOTIATION: a peer asking for it gets a
// no_renegotiation alert and a client that insists fails); no compression;
// no stateful session cache on the server (resumption still works through
// stateless tickets, so 10,000 peers do not leave 10,000 SSL_SESSIONs in the
// context); SSL_MODE_RELEASE_BUFFERS unless told otherwise (what it saves per
// idle connection is measured in tls_session.h). A private key with a
// passphrase is refused instead of prompting on the terminal.
//
// Server: certificate chain + key (PEM); with a client CA file, mTLS: the
// peer must present a certificate that CA signed (SSL_VERIFY_PEER +
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT) and the CA's name is sent in the
// CertificateRequest. Client: the CAs to trust (or the system's), the name
// the server must prove (SNI + hostname or IP-address verification, see
// TlsSession), and optionally its own certificate + key for mTLS.
//
// Errors are text for a human: what could not be done, the file, and
// OpenSSL's words (ERR_error_string_n), e.g.
//   cannot load the certificate chain from /etc/x.pem: error:80000002:system
//   library::No such file or directory; error:10080002:BIO routines::system lib
//
// Reload (SIGHUP after a certificate renewal): reloaded() re-reads the same
// files into a NEW context and returns it, or nullptr and the reason, leaving
// this one untouched; the caller swaps its shared_ptr only on success. Each
// SSL holds its own reference to its SSL_CTX, so connections made from the
// old context keep working until they close, whoever drops the last
// shared_ptr. An SSL_CTX may be shared by all worker threads (SSL_new on it
// is thread-safe); TLS 1.3 ticket keys live in it, so a reload invalidates
// tickets issued before (those clients do a full handshake once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

// OpenSSL's own forward declaration (openssl/types.h), so this header does
// not pull in <openssl/ssl.h>.
typedef struct ssl_ctx_st SSL_CTX;

namespace uvframe {

struct TlsServerOptions {
  std::string certFile;        ///< PEM: the certificate, then any intermediates
  std::string keyFile;         ///< PEM: its private key, without a passphrase
  std::string clientCaFile;    ///< PEM: CAs for client certificates; empty = no mTLS
  bool releaseBuffers = true;  ///< SSL_MODE_RELEASE_BUFFERS
};

struct TlsClientOptions {
  std::string caFile;          ///< PEM: CAs to trust; empty = the system's default store
  std::string serverName;      ///< name or IP the server's certificate must match (and SNI for
                               ///< a name); empty = the chain is verified, the name is not
  std::string certFile;        ///< PEM: client certificate for mTLS; empty = none
  std::string keyFile;         ///< PEM: its private key (needed with certFile)
  bool releaseBuffers = true;  ///< SSL_MODE_RELEASE_BUFFERS
};

enum class TlsRole : std::uint8_t { kServer, kClient };

/// This thread's OpenSSL error queue as text ("error:…; error:…", oldest
/// first, each from ERR_error_string_n), emptied; "" when it was empty.
std::string drainOpenSslErrors();

/// An immutable SSL_CTX and the options it was built from.
class TlsContext {
 public:
  /// nullptr and error set when a file cannot be loaded or does not fit.
  static std::shared_ptr<TlsContext> createServer(const TlsServerOptions& options,
                                                  std::string& error);
  static std::shared_ptr<TlsContext> createClient(const TlsClientOptions& options,
                                                  std::string& error);

  /// A new context from the same options, the files read again; nullptr and
  /// error set on failure (keep using this one then).
  std::shared_ptr<TlsContext> reloaded(std::string& error) const;

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  TlsRole role() const { return role_; }
  /// Client: the name the server must prove (may be empty).
  const std::string& serverName() const { return client_.serverName; }
  /// Server: whether clients must present a certificate.
  bool requiresClientCert() const { return !server_.clientCaFile.empty(); }
  /// The OpenSSL context (for tests and diagnostics; do not change a context
  /// that sessions already use).
  SSL_CTX* native() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, TlsRole role) : ctx_(ctx), role_(role) {}

  SSL_CTX* ctx_;
  TlsRole role_;
  TlsServerOptions server_;
  TlsClientOptions client_;
};

}  // namespace uvframe
