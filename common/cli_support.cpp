// Command-line helpers: see cli_support.h.
#include "cli_support.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace uvframe {

int parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::printf("%s %s\n", app.get_name().c_str(), kVersion);
    return 0;
  } catch (const CLI::ParseError& e) {
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
