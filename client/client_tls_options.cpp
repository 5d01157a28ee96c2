// Client TLS options: see client_tls_options.h.
#include "client_tls_options.h"

#include <CLI/CLI.hpp>

namespace uvframe {

void addClientTlsOptions(CLI::App& app, ClientTlsOptions& o) {
  app.add_flag("--tls", o.enabled,
               "speak TLS (1.2 or 1.3) to a server run with --tls-cert/--tls-key; the server's "
               "certificate is verified against --tls-ca and --tls-server-name");
  app.add_option("--tls-ca", o.caFile,
                 "PEM file of the CAs to trust for the server's certificate (default: the "
                 "system's trust store); implies --tls");
  app.add_option("--tls-cert", o.certFile,
                 "PEM client certificate, for a server that requires one (--tls-client-ca); "
                 "needs --tls-key; implies --tls");
  app.add_option("--tls-key", o.keyFile,
                 "PEM private key of --tls-cert (without a passphrase); implies --tls");
  app.add_option("--tls-server-name", o.serverName,
                 "DNS name (also sent as SNI) or IP address the server's certificate must "
                 "name (default: the --host value); implies --tls");
}

std::string finishClientTlsOptions(ClientTlsOptions& o) {
  if (!o.caFile.empty() || !o.certFile.empty() || !o.keyFile.empty() || !o.serverName.empty()) {
    o.enabled = true;
  }
  if (o.certFile.empty() != o.keyFile.empty()) {
    return o.certFile.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key";
  }
  return {};
}

std::shared_ptr<TlsContext> makeClientTlsContext(const ClientTlsOptions& o, const std::string& host,
                                                 std::string& error) {
  TlsClientOptions options;
  options.caFile = o.caFile;
  options.serverName = o.serverName.empty() ? host : o.serverName;
  options.certFile = o.certFile;
  options.keyFile = o.keyFile;
  return TlsContext::createClient(options, error);
}

}  // namespace uvframe
