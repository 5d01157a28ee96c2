// Command-line helpers: see cli_support.h.
#include "cli_support.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace uvframe {

bool answerHelpOrVersion(const CLI::ParseError& error, CLI::App& app) {
  if (dynamic_cast<const CLI::CallForAllHelp*>(&error)) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
  } else if (dynamic_cast<const CLI::CallForHelp*>(&error)) {
    std::fputs(app.help().c_str(), stdout);
  } else if (dynamic_cast<const CLI::CallForVersion*>(&error)) {
    std::printf("%s %s\n", app.get_name().c_str(), kVersion);
  } else {
    return false;
  }
  return true;
}

int parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (answerHelpOrVersion(e, app)) return 0;
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    std::fprintf(stderr, "%s: error: %s (see --help)\n", app.get_name().c_str(), what.c_str());
    return 2;
  }
  return -1;
}

CLI::Option* addByteOrderOption(CLI::App& app, ByteOrder& order) {
  return app
      .add_option_function<std::string>(
          "--byte-order",
          [&order](const std::string& text) {
            auto parsed = parseByteOrder(text);
            if (!parsed) throw CLI::ValidationError("--byte-order", "must be little or big");
            order = *parsed;
          },
          "length byte order: little (x86 Winsock clients, default) or big (network order)")
      ->check(CLI::IsMember({"little", "big", "le", "be", "network"}))
      ->default_str("little");
}

unsigned long raiseFileDescriptorLimit() {
#ifdef _WIN32
  return 0;
#else
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return static_cast<unsigned long>(lim.rlim_cur);
#endif
}

void ignoreSigpipe() {
#ifndef _WIN32
  std::signal(SIGPIPE, SIG_IGN);
#endif
}

}  // namespace uvframe
