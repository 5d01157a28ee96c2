// Command-line helpers shared by the three programs (CLI11): the common
// exit-code contract (0 after --help/--version, 2 with one line on a bad
// argument) and option types that appear in more than one program.
#pragma once

#include "cli_fwd.h"

#include <string>

#include "frame_codec.h"

namespace uvframe {

inline constexpr const char* kVersion = "0.1.0";

/// Parses the command line. Returns -1 when the program should go on, or the
/// exit code to return now: 0 after printing --help or --version, 2 after
/// printing one error line to stderr.
int parseCommandLine(CLI::App& app, int argc, char** argv);

/// When error is CLI11's --help, --help-all or --version, prints the answer
/// to stdout and returns true (the program then exits 0); else false.
bool answerHelpOrVersion(const CLI::ParseError& error, CLI::App& app);

/// Adds --byte-order little|big bound to order.
CLI::Option* addByteOrderOption(CLI::App& app, ByteOrder& order);

/// Sets the soft RLIMIT_NOFILE to the hard limit (where the platform has
/// one) and returns the resulting soft limit, or 0 when unknown.
unsigned long raiseFileDescriptorLimit();

/// Ignores SIGPIPE so a peer that vanishes mid-write gives EPIPE, not death.
void ignoreSigpipe();

}  // namespace uvframe
