// TlsContext: see tls_context.h.
#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <utility>

namespace uvframe {

std::string drainOpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text;
}

namespace {

std::string withReason(std::string what) {
  std::string why = drainOpenSslErrors();
  if (!why.empty()) what += ": " + why;
  return what;
}

// A key with a passphrase must fail, not ask on the server's terminal.
int refusePassphrase(char*, int, int, void*) {
  return 0;
}

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

CtxPtr newContext(TlsRole role, bool releaseBuffers, std::string& error) {
  CtxPtr ctx(SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method()));
  if (!ctx) {
    error = withReason("cannot create a TLS context");
    return nullptr;
  }
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1) {
    error = withReason("cannot limit the TLS versions to 1.2 and 1.3");
    return nullptr;
  }
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (releaseBuffers) SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(ctx.get(), refusePassphrase);
  if (role == TlsRole::kServer) {
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    // TLS 1.3: AES-128-GCM first (OpenSSL's default order starts with
    // AES-256-GCM). Both are strong; 128-bit keys take 10 AES rounds instead
    // of 14, so every byte of a log stream costs both ends less to encrypt
    // and decrypt. The others stay for clients without them.
    if (SSL_CTX_set_ciphersuites(ctx.get(),
                                 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                 "TLS_CHACHA20_POLY1305_SHA256") != 1) {
      error = withReason("cannot set the TLS 1.3 cipher suites");
      return nullptr;
    }
  }
  return ctx;
}

bool loadCertAndKey(SSL_CTX* ctx, const std::string& certFile, const std::string& keyFile,
                    std::string& error) {
  if (SSL_CTX_use_certificate_chain_file(ctx, certFile.c_str()) != 1) {
    error = withReason("cannot load the certificate chain from " + certFile);
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = withReason("cannot load the private key from " + keyFile);
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = withReason("the private key in " + keyFile + " does not match the certificate in " +
                       certFile);
    return false;
  }
  return true;
}

bool loadTrust(SSL_CTX* ctx, const std::string& caFile, std::string& error) {
  if (caFile.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      error = withReason("cannot load the system's CA certificates");
      return false;
    }
    return true;
  }
  if (SSL_CTX_load_verify_locations(ctx, caFile.c_str(), nullptr) != 1) {
    error = withReason("cannot load the CA certificates from " + caFile);
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<TlsContext> TlsContext::createServer(const TlsServerOptions& options,
                                                     std::string& error) {
  ERR_clear_error();
  CtxPtr ctx = newContext(TlsRole::kServer, options.releaseBuffers, error);
  if (!ctx || !loadCertAndKey(ctx.get(), options.certFile, options.keyFile, error)) {
    return nullptr;
  }
  if (!options.clientCaFile.empty()) {
    if (!loadTrust(ctx.get(), options.clientCaFile, error)) return nullptr;
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.clientCaFile.c_str());
    if (names == nullptr) {
      error = withReason("no CA certificate in " + options.clientCaFile);
      return nullptr;
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);  // takes ownership
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // Needed for resumption when client certificates are verified.
    static const unsigned char kSessionContext[] = "uvframe";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  }
  std::shared_ptr<TlsContext> result(new TlsContext(ctx.release(), TlsRole::kServer));
  result->server_ = options;
  return result;
}

std::shared_ptr<TlsContext> TlsContext::createClient(const TlsClientOptions& options,
                                                     std::string& error) {
  ERR_clear_error();
  if (options.certFile.empty() != options.keyFile.empty()) {
    error = "a client certificate needs both a certificate file and a key file";
    return nullptr;
  }
  CtxPtr ctx = newContext(TlsRole::kClient, options.releaseBuffers, error);
  if (!ctx || !loadTrust(ctx.get(), options.caFile, error)) return nullptr;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!options.certFile.empty() &&
      !loadCertAndKey(ctx.get(), options.certFile, options.keyFile, error)) {
    return nullptr;
  }
  std::shared_ptr<TlsContext> result(new TlsContext(ctx.release(), TlsRole::kClient));
  result->client_ = options;
  return result;
}

std::shared_ptr<TlsContext> TlsContext::reloaded(std::string& error) const {
  return role_ == TlsRole::kServer ? createServer(server_, error) : createClient(client_, error);
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

}  // namespace uvframe
