// Forward declarations of CLI11's App, Option and ParseError for headers that
// only take them by reference. CLI/CLI.hpp defines its validator objects in
// every file that includes it (measured: ~6 s of compile time per file at -O2, ~26 s
// under ASan + UBSan with GCC, for the include alone), so only the files that
// build or parse a command line include it.
#pragma once

namespace CLI {
class App;
class Option;
class ParseError;
}  // namespace CLI
