// TestPki: see tls_test_certs.h.
#include "tls_test_certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace uvframe::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

[[noreturn]] void fail(const std::string& what) {
  std::string text = "test PKI: " + what;
  while (unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    text += std::string("; ") + line;
  }
  throw std::runtime_error(text);
}

KeyPtr newKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("EC key generation failed");
  return key;
}

void addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
    X509_EXTENSION_free(ext);
    fail(std::string("cannot add extension ") + value);
  }
  X509_EXTENSION_free(ext);
}

struct CertSpec {
  const char* commonName;
  long notBeforeSeconds = -3600;  // relative to now
  long notAfterSeconds = 30L * 24 * 3600;
  bool ca = false;
  const char* subjectAltName = nullptr;
  const char* extendedKeyUsage = nullptr;
};

// issuer/issuerKey null: self-signed with key.
CertPtr newCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey) {
  static long serial = 1;
  CertPtr cert(X509_new());
  if (!cert) fail("X509_new");
  X509* x = cert.get();
  X509_NAME* name = X509_get_subject_name(x);
  bool ok = X509_set_version(x, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), spec.notBeforeSeconds) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x), spec.notAfterSeconds) != nullptr &&
            X509_set_pubkey(x, key) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(spec.commonName), -1,
                                       -1, 0) == 1 &&
            X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1;
  if (!ok) fail(std::string("cannot fill in the certificate ") + spec.commonName);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  addExtension(x, &ctx, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExtension(x, &ctx, NID_key_usage,
               spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  addExtension(x, &ctx, NID_subject_key_identifier, "hash");
  addExtension(x, &ctx, NID_authority_key_identifier, "keyid:always");
  if (spec.subjectAltName != nullptr) {
    addExtension(x, &ctx, NID_subject_alt_name, spec.subjectAltName);
  }
  if (spec.extendedKeyUsage != nullptr) {
    addExtension(x, &ctx, NID_ext_key_usage, spec.extendedKeyUsage);
  }
  if (X509_sign(x, issuerKey != nullptr ? issuerKey : key, EVP_sha256()) == 0) {
    fail(std::string("cannot sign ") + spec.commonName);
  }
  return cert;
}

std::string writePem(const std::filesystem::path& dir, const char* file, X509* cert,
                     EVP_PKEY* key) {
  std::string path = (dir / file).string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) fail("cannot create " + path);
  bool ok = cert != nullptr
                ? PEM_write_X509(f, cert) == 1
                : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) fail("cannot write " + path);
  return path;
}

}  // namespace

TestPki::TestPki() {
  std::string pattern = (std::filesystem::temp_directory_path() / "uvframe-tls-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  dir = pattern;

  KeyPtr caKey = newKey();
  CertPtr ca =
      newCert({.commonName = "uvframe test CA", .ca = true}, caKey.get(), nullptr, nullptr);
  caCert = writePem(dir, "ca.pem", ca.get(), nullptr);

  KeyPtr key = newKey();
  CertPtr cert = newCert({.commonName = "localhost",
                          .subjectAltName = "DNS:localhost,IP:127.0.0.1",
                          .extendedKeyUsage = "serverAuth"},
                         key.get(), ca.get(), caKey.get());
  serverCert = writePem(dir, "server.pem", cert.get(), nullptr);
  serverKey = writePem(dir, "server.key", nullptr, key.get());

  key = newKey();
  cert = newCert({.commonName = "localhost-renewed",
                  .subjectAltName = "DNS:localhost,IP:127.0.0.1",
                  .extendedKeyUsage = "serverAuth"},
                 key.get(), ca.get(), caKey.get());
  renewedServerCert = writePem(dir, "renewed-server.pem", cert.get(), nullptr);
  renewedServerKey = writePem(dir, "renewed-server.key", nullptr, key.get());

  key = newKey();
  cert = newCert({.commonName = "client-7", .extendedKeyUsage = "clientAuth"}, key.get(), ca.get(),
                 caKey.get());
  clientCert = writePem(dir, "client.pem", cert.get(), nullptr);
  clientKey = writePem(dir, "client.key", nullptr, key.get());

  key = newKey();
  cert = newCert({.commonName = "client-expired",
                  .notBeforeSeconds = -2L * 24 * 3600,
                  .notAfterSeconds = -24L * 3600,
                  .extendedKeyUsage = "clientAuth"},
                 key.get(), ca.get(), caKey.get());
  expiredClientCert = writePem(dir, "expired.pem", cert.get(), nullptr);
  expiredClientKey = writePem(dir, "expired.key", nullptr, key.get());

  KeyPtr otherCaKey = newKey();
  CertPtr otherCa =
      newCert({.commonName = "uvframe other CA", .ca = true}, otherCaKey.get(), nullptr, nullptr);
  otherCaCert = writePem(dir, "other-ca.pem", otherCa.get(), nullptr);
  key = newKey();
  cert = newCert({.commonName = "client-7", .extendedKeyUsage = "clientAuth"}, key.get(),
                 otherCa.get(), otherCaKey.get());
  otherClientCert = writePem(dir, "other-client.pem", cert.get(), nullptr);
  otherClientKey = writePem(dir, "other-client.key", nullptr, key.get());
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

const TestPki& testPki() {
  static const TestPki pki;
  return pki;
}

}  // namespace uvframe::test
