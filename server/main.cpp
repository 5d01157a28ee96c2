// uvframe-server: entry point. Parses the command line and runs the Server.
#include <cstdio>
#include <exception>

#include "cli_support.h"
#include "server.h"
#include "server_options.h"

int main(int argc, char** argv) {
  uvframe::ServerOptions options;
  int rc = uvframe::parseServerOptions(argc, argv, options);
  if (rc >= 0) return rc;
  uvframe::ignoreSigpipe();
  try {
    uvframe::Server server(std::move(options));
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uvframe-server: fatal: %s\n", e.what());
    return 1;
  }
}
