// RsyslogProcess: see rsyslog_process.h.
#include "rsyslog_process.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

#include "system_daemon.h"

namespace uvframe::test {

std::optional<std::string> rsyslogdBinary() {
  return systemBinary("rsyslogd", "UVFRAME_RSYSLOGD");
}

std::string octetCountedForwarderRules(std::uint16_t inputPort, std::uint16_t targetPort) {
  // %msg:2:$% drops the one space rsyslog keeps in front of the text after
  // the tag. The action retries forever (-1) so a message is never dropped
  // because the target was slow to take it.
  return "module(load=\"imtcp\")\n"
         "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" +
         std::to_string(inputPort) +
         "\" ruleset=\"forward\")\n"
         "template(name=\"textOnly\" type=\"string\" string=\"%msg:2:$%\")\n"
         "ruleset(name=\"forward\") {\n"
         "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" +
         std::to_string(targetPort) +
         "\" protocol=\"tcp\"\n"
         "         TCP_Framing=\"octet-counted\" template=\"textOnly\"\n"
         "         action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n"
         "}\n";
}

RsyslogProcess::RsyslogProcess(const std::string& binary, const std::string& rules,
                               std::uint16_t inputPort)
    : configPath_(dir_.file("rsyslog.conf")) {
  const std::string config =
      "# Written by uvframe's integration tests (RsyslogProcess).\n"
      "global(workDirectory=\"" +
      dir_.path() + "\" maxMessageSize=\"64k\")\n" + rules;
  {
    std::ofstream out(configPath_);
    out << config;
    if (!out) throw std::runtime_error("cannot write " + configPath_);
  }
  {
    ChildProcess check({binary, "-N1", "-f", configPath_});
    auto rc = check.waitExit(std::chrono::seconds(20));
    if (rc != 0) {
      throw std::runtime_error("rsyslogd -N1 refused the config:\n" + config + "\noutput:\n" +
                               check.output());
    }
  }
  if (portListening(inputPort)) {
    throw std::runtime_error("port " + std::to_string(inputPort) +
                             " is already listening before rsyslogd started");
  }
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary, "-n", "-f", configPath_, "-i", dir_.file("rsyslogd.pid")});
  waitUntilListening(*process_, "rsyslogd", inputPort);
}

RsyslogProcess::~RsyslogProcess() {
  if (process_) stop();
}

std::optional<int> RsyslogProcess::stop(std::chrono::milliseconds timeout) {
  process_->sendSignal(SIGTERM);
  return process_->waitExit(timeout);
}

}  // namespace uvframe::test
