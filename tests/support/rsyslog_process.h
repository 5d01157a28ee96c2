// RsyslogProcess: Debian's rsyslogd as a test's own child — its own config,
// work directory and pid file in a temp dir, `rsyslogd -n` in the
// foreground, never the system service. The config is checked first
// (`rsyslogd -N1`); the constructor returns once rsyslog's TCP input listens.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "child_process.h"

namespace uvframe::test {

/// Absolute path of rsyslogd, or nullopt when not installed.
/// UVFRAME_RSYSLOGD=<path> overrides the search.
std::optional<std::string> rsyslogdBinary();

/// The rules of a forwarder: an imtcp input on 127.0.0.1:inputPort whose
/// messages are sent on with omfwd over TCP to 127.0.0.1:targetPort,
/// RFC 6587 octet-counted, each frame holding the message text only (the
/// syslog header rsyslog parsed is not forwarded). A disk-assisted queue is
/// not used: the action retries until the target takes the messages.
std::string octetCountedForwarderRules(std::uint16_t inputPort, std::uint16_t targetPort);

class RsyslogProcess {
 public:
  /// Writes a config of global(workDirectory=<temp dir>) followed by rules,
  /// checks it, starts rsyslogd and waits until inputPort listens. Throws
  /// std::runtime_error with rsyslog's output on any failure.
  RsyslogProcess(const std::string& binary, const std::string& rules, std::uint16_t inputPort);
  ~RsyslogProcess();
  RsyslogProcess(const RsyslogProcess&) = delete;
  RsyslogProcess& operator=(const RsyslogProcess&) = delete;

  ChildProcess& process() { return *process_; }
  const std::string& configPath() const { return configPath_; }

  /// SIGTERM (rsyslog's orderly shutdown) and wait: the exit status, or
  /// nullopt if it did not exit in time (the destructor then kills it).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  TempDir dir_;
  std::string configPath_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace uvframe::test
