// parseLoadgenArgs(): see loadgen_parse.h.
#include "loadgen_parse.h"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace uvframe::test {

std::string parseLoadgenArgs(std::vector<std::string> args, LoadgenOptions& o, unsigned cpus) {
  CLI::App app;
  addLoadgenOptions(app, o);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return finishLoadgenOptions(o, cpus);
}

}  // namespace uvframe::test
