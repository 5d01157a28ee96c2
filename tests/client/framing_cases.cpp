// framingOptionsOf(): the framing options parsed as the programs parse them
// (see framing_cases.h).
#include "framing_cases.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <stdexcept>

#include "cli_support.h"
#include "framing_cli.h"

namespace uvframe::test {

FramingOptions framingOptionsOf(std::vector<std::string> args, std::uint32_t maxFrameBytes) {
  CLI::App app;
  FramingOptions framing;
  ByteOrder order = ByteOrder::kLittle;
  addByteOrderOption(app, order);
  addFramingOptions(app, framing);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw std::invalid_argument(e.what());
  }
  std::string error = finishFramingOptions(framing, order, maxFrameBytes);
  if (!error.empty()) throw std::invalid_argument(error);
  return framing;
}

}  // namespace uvframe::test
