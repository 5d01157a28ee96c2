// HaproxyProcess: see haproxy_process.h. Readiness is read from /proc
// (system_daemon.h), so waiting for HAProxy never opens a connection through
// it to a backend.
#include "haproxy_process.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

#include "system_daemon.h"

namespace uvframe::test {

std::optional<std::string> haproxyBinary() {
  return systemBinary("haproxy", "UVFRAME_HAPROXY");
}

std::string tcpBalancerConfig(const std::string& bindAddress,
                              const std::vector<std::string>& serverLines) {
  std::string cfg =
      "# Written by uvframe's integration tests (HaproxyProcess).\n"
      "global\n"
      "  log stdout format raw local0 info\n"
      "  maxconn 1000\n"
      "\n"
      "defaults\n"
      "  mode tcp\n"
      "  log global\n"
      "  option tcplog\n"
      "  option log-health-checks\n"
      "  timeout connect 2s\n"
      "  timeout client 30s\n"
      "  timeout server 30s\n"
      "  timeout check 2s\n"
      "\n"
      "frontend uvframe_in\n"
      "  bind " +
      bindAddress +
      "\n"
      "  default_backend uvframe_servers\n"
      "\n"
      "backend uvframe_servers\n"
      "  balance roundrobin\n";
  for (const auto& s : serverLines)
    cfg += "  server " + s + "\n";
  return cfg;
}

HaproxyProcess::HaproxyProcess(const std::string& binary, const std::string& config,
                               std::uint16_t frontendPort)
    : configPath_(dir_.file("haproxy.cfg")) {
  {
    std::ofstream out(configPath_);
    out << config;
    if (!out) throw std::runtime_error("cannot write " + configPath_);
  }
  {
    ChildProcess check({binary, "-c", "-f", configPath_});
    auto rc = check.waitExit(20s);
    if (rc != 0) {
      throw std::runtime_error("haproxy -c refused the config:\n" + config + "\noutput:\n" +
                               check.output());
    }
  }
  if (portListening(frontendPort)) {
    throw std::runtime_error("port " + std::to_string(frontendPort) +
                             " is already listening before HAProxy started");
  }
  process_ =
      std::make_unique<ChildProcess>(std::vector<std::string>{binary, "-db", "-f", configPath_});
  waitUntilListening(*process_, "haproxy", frontendPort);
}

HaproxyProcess::~HaproxyProcess() {
  if (process_) stop();
}

std::optional<int> HaproxyProcess::stop(std::chrono::milliseconds timeout) {
  // SIGTERM is HAProxy's hard stop (SIGUSR1, the soft stop, would wait for
  // the clients still connected).
  process_->sendSignal(SIGTERM);
  return process_->waitExit(timeout);
}

}  // namespace uvframe::test
