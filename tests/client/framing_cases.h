// The framings the client and load generator tests go through: every
// length-field width in both byte orders, an offset, adjusts, octet-counting
// and varint, each as the command-line arguments that select it. options()
// parses them as the programs do (addFramingOptions, --byte-order,
// finishFramingOptions), so a test decodes what a program wrote with the
// options that program used.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_support.h"
#include "framing.h"
#include "framing_cli.h"

namespace uvframe::test {

struct FramingCase {
  std::string name;               ///< for test messages
  std::vector<std::string> args;  ///< the options that select it
};

inline std::vector<FramingCase> framingCases() {
  std::vector<FramingCase> cases;
  for (const char* bytes : {"1", "2", "3", "4", "8"}) {
    for (const char* order : {"little", "big"}) {
      cases.push_back({std::string("length-") + bytes + "-" + order,
                       {"--framing", "length", "--length-bytes", bytes, "--byte-order", order}});
    }
  }
  cases.push_back({"length-4-offset-3", {"--length-offset", "3"}});
  cases.push_back({"length-2-big-offset-2",
                   {"--length-bytes", "2", "--byte-order", "big", "--length-offset", "2"}});
  cases.push_back({"length-4-adjust-minus-4", {"--length-adjust", "-4"}});
  cases.push_back({"length-2-adjust-plus-2", {"--length-bytes", "2", "--length-adjust", "2"}});
  cases.push_back({"octet-counting", {"--framing", "octet-counting"}});
  cases.push_back({"octet", {"--framing", "octet"}});
  cases.push_back({"varint", {"--framing", "varint"}});
  return cases;
}

/// The options a program run with args uses (maxFrameBytes as --max-frame).
/// Throws std::invalid_argument when they do not parse or check.
inline FramingOptions framingOptionsOf(std::vector<std::string> args,
                                       std::uint32_t maxFrameBytes = kDefaultMaxFrameBytes) {
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

/// True if the framing can announce a payload of size bytes.
inline bool announces(const FramingOptions& framing, std::uint64_t size) {
  return framingHeaderBytes(framing, size) != 0;
}

}  // namespace uvframe::test
