// The framings the client and load generator tests go through: every
// length-field width in both byte orders, an offset, adjusts, octet-counting
// and varint, each as the command-line arguments that select it.
// framingOptionsOf() parses them as the programs do (addFramingOptions,
// --byte-order, finishFramingOptions), so a test decodes what a program wrote
// with the options that program used; it lives in framing_cases.cpp, the one
// test file that compiles CLI11 for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framing.h"

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
FramingOptions framingOptionsOf(std::vector<std::string> args,
                                std::uint32_t maxFrameBytes = kDefaultMaxFrameBytes);

/// True if the framing can announce a payload of size bytes.
inline bool announces(const FramingOptions& framing, std::uint64_t size) {
  return framingHeaderBytes(framing, size) != 0;
}

}  // namespace uvframe::test
