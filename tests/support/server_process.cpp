// ServerProcess: see server_process.h.
#include "server_process.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace uvframe::test {

std::vector<std::string> ServerProcess::commandLine(std::vector<std::string> args,
                                                    std::string& host) {
  std::vector<std::string> argv{programPath("uvframe-server"), "--port", "0"};
  host = "127.0.0.1";
  bool hasHost = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--host" && i + 1 < args.size()) {
      hasHost = true;
      host = args[i + 1];
    }
  }
  if (!hasHost) {
    argv.push_back("--host");
    argv.push_back(host);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

namespace {

// The text line, or the JSON one of --log-format json.
const std::regex kListening(
    R"((?:\[tcp server\] listening on |"event":"listening","address":")([^\s"]+):(\d+))");

// With --no-console the listening line only reaches the log file: poll it
// (there is no event for a line reaching a file) until the deadline.
std::optional<std::string> waitForListeningInFile(const std::string& path, ChildProcess& process) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    for (std::string l; std::getline(in, l);) {
      if (std::regex_search(l, kListening)) return l;
    }
    if (process.waitExit(20ms)) return std::nullopt;
  }
  return std::nullopt;
}

std::string optionValue(const std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) return args[i + 1];
  }
  return {};
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> args, ChildProcess::Options options)
    : logFile_(optionValue(args, "--log-file")),
      noConsole_(std::find(args.begin(), args.end(), "--no-console") != args.end()),
      process_(commandLine(std::move(args), host_), options) {
  std::optional<std::string> line;
  if (noConsole_ && !logFile_.empty()) {
    line = waitForListeningInFile(logFile_, process_);
  } else {
    line = process_.waitForLine(
        [](const std::string& l) { return std::regex_search(l, kListening); }, 20s);
  }
  if (!line) {
    throw std::runtime_error("uvframe-server did not report listening; output:\n" +
                             process_.output());
  }
  std::smatch m;
  std::regex_search(*line, m, kListening);
  port_ = static_cast<std::uint16_t>(std::stoi(m[2].str()));
}

ServerProcess::~ServerProcess() {
  auto rc = stop();
  if (rc != 0) {
    ADD_FAILURE() << "uvframe-server did not exit 0 on SIGTERM (status "
                  << (rc ? std::to_string(*rc) : std::string("none: still running"))
                  << "); output:\n"
                  << process_.output();
  }
}

std::optional<int> ServerProcess::stop(std::chrono::milliseconds timeout) {
  process_.sendSignal(SIGTERM);
  return process_.waitExit(timeout);
}

std::vector<std::string> ServerProcess::messagesFrom(const std::string& hostPort) const {
  std::string tag = "[tcp/" + hostPort + "] ";
  std::vector<std::string> out;
  for (const auto& l : process_.lines()) {
    auto pos = l.find(tag);
    if (pos != std::string::npos) out.push_back(l.substr(pos + tag.size()));
  }
  return out;
}

}  // namespace uvframe::test
