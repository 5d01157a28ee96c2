// uvframe-server: entry point. Parses the command line and runs the Server.
#include <cstdio>
#include <exception>

#include "cli_support.h"
#include "metrics_collector.h"
#include "server.h"
#include "server_options.h"

int main(int argc, char** argv) {
  uvframe::ServerOptions options;
  int rc = uvframe::parseServerOptions(argc, argv, options);
  if (rc >= 0) return rc;
  if (!options.metricsAddress.empty() && !uvframe::metricsInThisBuild()) {
    std::fprintf(stderr,
                 "uvframe-server: error: --metrics: metrics are not in this build (uvframe was "
                 "built without prometheus-cpp)\n");
    return 2;
  }
  uvframe::ignoreSigpipe();
  try {
    uvframe::Server server(std::move(options));
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uvframe-server: fatal: %s\n", e.what());
    return 1;
  }
}
