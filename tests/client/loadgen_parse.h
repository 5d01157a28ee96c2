// The load generator's command line parsed and checked as uvframe-loadgen
// does it (addLoadgenOptions, then finishLoadgenOptions), for the tests of
// its options; in its own file so only loadgen_parse.cpp compiles CLI11.
#pragma once

#include <string>
#include <vector>

#include "loadgen_options.h"

namespace uvframe::test {

/// Parses args (without the program name) into o and finishes the options
/// for a machine with cpus CPUs; returns the error text, or "" when usable.
std::string parseLoadgenArgs(std::vector<std::string> args, LoadgenOptions& o, unsigned cpus = 2);

}  // namespace uvframe::test
