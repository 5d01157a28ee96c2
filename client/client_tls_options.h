// TLS options of uvframe-client and uvframe-loadgen: --tls, --tls-ca,
// --tls-cert, --tls-key, --tls-server-name, and the client TlsContext made
// from them (common/tls_context.h). Shared so both programs spell, check and
// explain them the same way.
#pragma once

#include "cli_fwd.h"

#include <memory>
#include <string>

#include "tls_context.h"

namespace uvframe {

struct ClientTlsOptions {
  bool enabled = false;    ///< --tls (also implied by any other --tls-* option)
  std::string caFile;      ///< --tls-ca; empty: the system's trust store
  std::string certFile;    ///< --tls-cert (mTLS)
  std::string keyFile;     ///< --tls-key
  std::string serverName;  ///< --tls-server-name; empty: the --host value
};

/// Registers the five options on app, bound to options.
void addClientTlsOptions(CLI::App& app, ClientTlsOptions& options);

/// Sets enabled when another --tls-* option was given and checks the
/// combination (a certificate needs its key). Returns an error text naming
/// the option, or "" when usable.
std::string finishClientTlsOptions(ClientTlsOptions& options);

/// The client context for connecting to host (the name to verify unless
/// --tls-server-name says otherwise); nullptr and error set when a file
/// cannot be loaded. Only call it with options.enabled.
std::shared_ptr<TlsContext> makeClientTlsContext(const ClientTlsOptions& options,
                                                 const std::string& host, std::string& error);

}  // namespace uvframe
