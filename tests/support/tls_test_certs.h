// A throwaway PKI for the TLS tests, made at test time with the OpenSSL 3 C
// API (EC P-256 keys from EVP_PKEY_Q_keygen, X509 builders, SHA-256
// signatures) and written as PEM files to a fresh temporary directory, so no
// test depends on checked-in keys or on the clock of whoever made them.
//
//   ca            "uvframe test CA"        self-signed, CA:TRUE
//   server        CN=localhost             SAN DNS:localhost, IP:127.0.0.1; serverAuth
//   renewedServer CN=localhost-renewed     the same SANs, another key (certificate rotation)
//   client        CN=client-7              signed by ca; clientAuth
//   otherCa       "uvframe other CA"       self-signed, trusted by nobody
//   otherClient   CN=client-7              signed by otherCa
//   expiredClient CN=client-expired        signed by ca, valid from 2 days ago to yesterday
// Plus shorthands for the TlsContext options the tests build from them.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include "tls_context.h"

namespace uvframe::test {

/// The files of one generated PKI; the directory goes when this does.
class TestPki {
 public:
  /// Generates everything (about 10 ms); throws std::runtime_error with
  /// OpenSSL's reason on failure.
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::filesystem::path dir;
  std::string caCert;
  std::string serverCert, serverKey;
  std::string renewedServerCert, renewedServerKey;
  std::string clientCert, clientKey;
  std::string otherCaCert;
  std::string otherClientCert, otherClientKey;
  std::string expiredClientCert, expiredClientKey;
};

/// One PKI for the whole process, made on first use.
const TestPki& testPki();

inline TlsServerOptions serverOptions(std::string cert, std::string key,
                                      std::string clientCa = "") {
  TlsServerOptions o;
  o.certFile = std::move(cert);
  o.keyFile = std::move(key);
  o.clientCaFile = std::move(clientCa);
  return o;
}

inline TlsClientOptions clientOptions(std::string ca, std::string name, std::string cert = "",
                                      std::string key = "") {
  TlsClientOptions o;
  o.caFile = std::move(ca);
  o.serverName = std::move(name);
  o.certFile = std::move(cert);
  o.keyFile = std::move(key);
  return o;
}

}  // namespace uvframe::test
