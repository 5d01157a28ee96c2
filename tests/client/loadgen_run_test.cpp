// uvframe-loadgen against real peers on loopback: every frame of 2,000
// connections logged once and in order (proved by scripts/check-log.py),
// echo checking against a peer that corrupts one byte, the open loop showing
// a paused server in its tail latency, graceful SIGINT, source addresses,
// and the --histogram file drawn by scripts/plot-latency.py.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client_test_helpers.h"
#include "server_process.h"

namespace uvframe::test {
namespace {

std::vector<std::string> loadgen(std::uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(), {programPath("uvframe-loadgen"), "--port", std::to_string(port)});
  return args;
}

std::size_t countLinesWith(const std::vector<std::string>& lines, const std::string& text) {
  std::size_t n = 0;
  for (const auto& l : lines)
    n += l.find(text) != std::string::npos;
  return n;
}

TEST(LoadgenRun, TwoThousandConnectionsFiftyFramesEachAllLoggedOnceInOrder) {
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string json = dir.file("run.json");
  ServerProcess server({"--log-file", log, "--no-console"});
  RunResult run = runProgram(loadgen(
      server.port(), {"--connections", "2000", "--frames-per-connection", "50", "--json", json}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["connections"]["opened"], 2000);
  EXPECT_EQ(j["frames"]["sent"], 100000);
  EXPECT_EQ(j["errors_total"], 0);
  ASSERT_EQ(server.stop(), 0);

  std::vector<std::string> check = scriptCommand("check-log.py");
  check.insert(check.end(), {log, "--json", json});
  RunResult checked = runProgram(check);
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  // Not "peers 2000": a closed connection's source port may be given to a
  // later one on loopback (tcp_tw_reuse=2); streams are keyed by both.
  EXPECT_NE(checked.output.find("load connections 2000, loadgen frames 100000"), std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("gaps 0, duplicates 0, out of order 0"), std::string::npos)
      << checked.output;
}

TEST(LoadgenRun, CheckLogFindsALostFrame) {
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string json = dir.file("run.json");
  ServerProcess server({"--log-file", log, "--no-console"});
  RunResult run = runProgram(loadgen(
      server.port(), {"--connections", "3", "--frames-per-connection", "10", "--json", json}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  ASSERT_EQ(server.stop(), 0);
  // Drop frame seq=4 of one connection from the log: a gap, and a total
  // that no longer matches what the load generator sent.
  std::string text = readFile(log);
  auto at = text.find(" seq=4 ");
  ASSERT_NE(at, std::string::npos);
  auto start = text.rfind('\n', at) + 1;
  text.erase(start, text.find('\n', at) + 1 - start);
  std::string edited = dir.file("edited.log");
  { std::ofstream(edited, std::ios::binary) << text; }
  std::vector<std::string> check = scriptCommand("check-log.py");
  check.insert(check.end(), {edited, "--json", json});
  RunResult checked = runProgram(check);
  EXPECT_EQ(checked.exitCode, 1) << checked.output;
  EXPECT_NE(checked.output.find("gaps 1"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("MISMATCH"), std::string::npos) << checked.output;
}

TEST(LoadgenRun, EchoFromPeerThatCorruptsOneByteIsExactlyOneMismatch) {
  TempDir dir;
  std::string json = dir.file("run.json");
  // Byte 30 of the first connection's stream lies in its first payload.
  ChildProcess peer({programPath("uvframe-test-echo-peer"), "--corrupt-offset", "30"});
  auto line = peer.waitForText("echo peer listening on 127.0.0.1:");
  ASSERT_TRUE(line) << peer.output();
  auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  RunResult run = runProgram(loadgen(port, {"--connections", "4", "--frames-per-connection", "100",
                                            "--echo", "--pipeline", "8", "--json", json}));
  EXPECT_EQ(run.exitCode, 1) << run.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["errors"]["echo_mismatch"], 1) << j.dump(2);
  EXPECT_EQ(j["errors_total"], 1) << j.dump(2);
  EXPECT_EQ(j["frames"]["sent"], 400);
  EXPECT_EQ(j["frames"]["echoed"], 400);
  EXPECT_NE(run.output.find("echo_mismatch=1"), std::string::npos) << run.output;
}

TEST(LoadgenRun, EchoRunReportsLatencyAndWritesAPlottableHistogram) {
  TempDir dir;
  std::string json = dir.file("run.json");
  std::string histogram = dir.file("latency.txt");
  ServerProcess server({"--echo", "--log-file", dir.file("server.log"), "--no-console"});
  RunResult run =
      runProgram(loadgen(server.port(), {"--connections", "50", "--frames-per-connection", "200",
                                         "--echo", "--pipeline", "4", "--size", "16-512", "--json",
                                         json, "--histogram", histogram}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["frames"]["sent"], 10000);
  EXPECT_EQ(j["frames"]["echoed"], 10000);
  EXPECT_EQ(j["bytes"]["sent"], j["bytes"]["echoed"]);
  const auto& l = j["latency_us"];
  EXPECT_GT(l["p50"].get<double>(), 0.0);
  EXPECT_LE(l["p50"].get<double>(), l["p90"].get<double>());
  EXPECT_LE(l["p90"].get<double>(), l["p99"].get<double>());
  EXPECT_LE(l["p99"].get<double>(), l["p999"].get<double>());
  EXPECT_LE(l["p999"].get<double>(), l["p9999"].get<double>());
  EXPECT_LE(l["p9999"].get<double>(), l["max"].get<double>());
  for (const char* key : {"duration_s", "frames_per_s", "mb_per_s", "options"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["options"]["echo"], true);
  std::string text = readFile(histogram);
  EXPECT_NE(text.find("Value   Percentile   TotalCount 1/(1-Percentile)"), std::string::npos);
  EXPECT_NE(text.find("Total count    =        10000"), std::string::npos) << text;

  if (!pythonHasModule("matplotlib")) GTEST_SKIP() << "python3-matplotlib is not installed";
  std::string png = dir.file("latency.png");
  std::vector<std::string> plot = scriptCommand("plot-latency.py");
  plot.insert(plot.end(), {histogram, histogram + ":again", "-o", png});
  RunResult plotted = runProgram(plot);
  ASSERT_EQ(plotted.exitCode, 0) << plotted.output;
  EXPECT_EQ(readFile(png).substr(0, 8), "\x89PNG\r\n\x1a\n");
}

TEST(LoadgenRun, OpenLoopShowsAPausedServerInTheTailLatency) {
  TempDir dir;
  std::string json = dir.file("run.json");
  ServerProcess server({"--echo", "--log-file", dir.file("server.log"), "--no-console"});
  ChildProcess run(loadgen(server.port(), {"--connections", "10", "--rate", "2000", "--duration",
                                           "3", "--echo", "--json", json}));
  // The first progress line comes a second into the run, with two to go.
  ASSERT_TRUE(run.waitForText("[loadgen] 1.", 20s)) << run.output();
  server.process().sendSignal(SIGSTOP);
  // The pause being measured, not a wait for something to happen.
  std::this_thread::sleep_for(200ms);
  server.process().sendSignal(SIGCONT);
  RunResult r = finishProgram(run);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  nlohmann::json j = readJson(json);
  // Frames scheduled during the pause wait up to 200 ms; measured from
  // their scheduled send time they fill the top 5-10 % of the samples.
  EXPECT_GE(j["latency_us"]["max"].get<double>(), 150000.0) << j.dump(2);
  EXPECT_GE(j["latency_us"]["p999"].get<double>(), 100000.0) << j.dump(2);
  EXPECT_EQ(j["errors_total"], 0);
}

TEST(LoadgenRun, SigintStopsGracefullyWithTheSummarySoFar) {
  TempDir dir;
  std::string json = dir.file("run.json");
  ServerProcess server({"--echo", "--log-file", dir.file("server.log"), "--no-console"});
  ChildProcess run(loadgen(server.port(),
                           {"--connections", "20", "--duration", "60", "--echo", "--json", json}));
  ASSERT_TRUE(run.waitForText("[loadgen] 1.", 20s)) << run.output();
  run.sendSignal(SIGINT);
  RunResult r = finishProgram(run, 30s);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("(interrupted)"), std::string::npos) << r.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_GT(j["frames"]["sent"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["frames"]["sent"], j["frames"]["echoed"]);
  EXPECT_LT(j["duration_s"].get<double>(), 30.0);
}

TEST(LoadgenRun, SourceAddressesSpreadTheConnections) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console"});
  RunResult run =
      runProgram(loadgen(server.port(), {"--connections", "20", "--frames-per-connection", "5",
                                         "--source-address", "127.0.0.1,127.0.0.2"}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  ASSERT_EQ(server.stop(), 0);
  std::vector<std::string> lines;
  std::istringstream in(readFile(log));
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  EXPECT_EQ(countLinesWith(lines, "client connected: ip=127.0.0.1,"), 10u);
  EXPECT_EQ(countLinesWith(lines, "client connected: ip=127.0.0.2,"), 10u);
}

TEST(LoadgenRun, UnusableSourceAddressFallsBackToTheNextOne) {
  // Binding to a non-local address fails locally with EADDRNOTAVAIL, the
  // error a source address out of ephemeral ports gives: no packet leaves.
  TempDir dir;
  std::string json = dir.file("run.json");
  ServerProcess server({"--log-file", dir.file("server.log"), "--no-console"});
  RunResult run = runProgram(
      loadgen(server.port(), {"--connections", "10", "--frames-per-connection", "2",
                              "--source-address", "192.0.2.1,127.0.0.1", "--json", json}));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["connections"]["opened"], 10);
  EXPECT_EQ(j["connections"]["source_retries"], 5) << "every other connection tried 192.0.2.1";
  EXPECT_EQ(j["errors_total"], 0);
}

}  // namespace
}  // namespace uvframe::test
