// uvframe-loadgen --tls against a 2-worker TLS server: 1,000 TLS connections
// of a few frames each, every frame found in the server's log exactly once
// and in order by scripts/check-log.py; and echo over TLS, every frame back
// byte for byte (the load generator's EchoChecker compares each one).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "child_process.h"
#include "server_process.h"
#include "tls_test_certs.h"

namespace uvframe::test {
namespace {

/// The first number after label in text ("" when absent).
std::string numberAfter(const std::string& text, const std::string& label) {
  std::smatch m;
  std::regex re(label + R"(\s+(\d+))");
  return std::regex_search(text, m, re) ? m[1].str() : std::string();
}

std::vector<std::string> tlsLoadgen(std::uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(),
              {programPath("uvframe-loadgen"), "--port", std::to_string(port), "--tls-ca",
               testPki().caCert, "--threads", "2", "--progress-interval", "0"});
  return args;
}

std::vector<std::string> tlsServer(std::vector<std::string> args) {
  const TestPki& pki = testPki();
  // A handshake timeout as long as the loadgen's connect timeout: on a loaded
  // machine (sanitizers, parallel tests) 1,000 handshakes may queue up.
  args.insert(args.end(), {"--workers", "2", "--tls-cert", pki.serverCert, "--tls-key",
                           pki.serverKey, "--tls-handshake-timeout", "60"});
  return args;
}

TEST(LoadgenTlsRun, ThousandTlsConnectionsEveryFrameLoggedOnceInOrder) {
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string json = dir.file("run.json");
  ServerProcess server(tlsServer({"--log-file", log, "--no-console"}),
                       ChildProcess::Options{.maxOpenFiles = 20000, .pipeStdin = false});
  Finished run = runToExit(tlsLoadgen(
      server.port(), {"--connections", "1000", "--frames-per-connection", "5", "--connect-rate",
                      "500", "--connect-timeout", "60", "--json", json}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_NE(run.output.find("opened 1000, failed 0"), std::string::npos) << run.output;
  EXPECT_EQ(numberAfter(run.output, "frames sent"), "5000") << run.output;
  EXPECT_NE(run.output.find("errors          none"), std::string::npos) << run.output;
  ASSERT_EQ(server.stop(), 0);

  // check-log.py reads the run's JSON for what was sent.
  auto script =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "scripts" / "check-log.py";
  Finished checked = runToExit({"/usr/bin/env", "python3", script.string(), log, "--json", json});
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  // Not "peers 1000": once a connection has closed, Linux may give its source
  // port to a later one on loopback (tcp_tw_reuse=2), so there may be fewer
  // distinct peer addresses than connections; check-log keys streams by both.
  EXPECT_NE(checked.output.find("load connections 1000, loadgen frames 5000"), std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("gaps 0, duplicates 0, out of order 0"), std::string::npos)
      << checked.output;
}

TEST(LoadgenTlsRun, EchoOverTlsEveryFrameBackByteForByte) {
  TempDir dir;
  ServerProcess server(tlsServer({"--echo", "--log-file", dir.file("server.log"), "--no-console"}));
  // Sizes up to 40 KB: frames that span several TLS records both ways.
  Finished run = runToExit(tlsLoadgen(
      server.port(), {"--connections", "50", "--frames-per-connection", "40", "--echo",
                      "--pipeline", "4", "--size", "1-40000", "--connect-timeout", "60"}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_NE(run.output.find("opened 50, failed 0"), std::string::npos) << run.output;
  EXPECT_EQ(numberAfter(run.output, "frames sent"), "2000") << run.output;
  EXPECT_EQ(numberAfter(run.output, "frames echoed"), "2000") << run.output;
  // No echo_mismatch, echo_missing, echo_extra or TLS error.
  EXPECT_NE(run.output.find("errors          none"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace uvframe::test
