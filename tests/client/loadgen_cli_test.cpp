// uvframe-loadgen's command line and failure reporting: bad arguments exit 2
// with one line, --help/--version exit 0, and a server that is down gives
// counted connect failures (exit 1), never a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client_test_helpers.h"

namespace uvframe::test {
namespace {

std::vector<std::string> loadgen(std::vector<std::string> args) {
  args.insert(args.begin(), programPath("uvframe-loadgen"));
  return args;
}

TEST(LoadgenCli, BadArgumentsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"--connections", "0"},
      {"--connections", "many"},
      {"--connections", "5", "--size", "9-3"},
      {"--connections", "5", "--size", "big"},
      {"--connections", "5", "--size", "2000000"},
      {"--connections", "5", "--rate", "-3"},
      {"--connections", "5", "--duration", "0"},
      {"--connections", "5", "--byte-order", "middle"},
      {"--connections", "5", "--source-address", "not-an-address"},
      {"--connections", "5", "--threads", "0"},
      {"--connections", "5", "--no-such-option"},
  };
  for (const auto& args : cases) {
    RunResult r = runProgram(loadgen(args));
    std::string label = args.empty() ? "(none)" : args.back();
    EXPECT_EQ(r.exitCode, 2) << label << ": " << r.output;
    ASSERT_EQ(r.lines.size(), 1u) << label << ": " << r.output;
    EXPECT_EQ(r.lines[0].rfind("uvframe-loadgen: error: ", 0), 0u) << r.lines[0];
  }
}

TEST(LoadgenCli, HelpAndVersionExitZero) {
  RunResult help = runProgram(loadgen({"--help"}));
  EXPECT_EQ(help.exitCode, 0);
  for (const char* option : {"--connections", "--rate", "--pipeline", "--json", "--histogram",
                             "--source-address", "--connect-rate", "--max-errors"}) {
    EXPECT_NE(help.output.find(option), std::string::npos) << option;
  }
  RunResult version = runProgram(loadgen({"--version"}));
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_NE(version.output.find("uvframe-loadgen "), std::string::npos) << version.output;
}

TEST(LoadgenCli, ServerDownCountsRefusedConnectsAndExitsOne) {
  TempDir dir;
  std::string json = dir.file("run.json");
  RunResult r =
      runProgram(loadgen({"--port", std::to_string(unusedPort()), "--connections", "20",
                          "--duration", "30", "--json", json, "--progress-interval", "0"}));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["connections"]["failed"], 20);
  EXPECT_EQ(j["connections"]["opened"], 0);
  EXPECT_EQ(j["errors"]["connect_refused"], 20);
  EXPECT_EQ(j["frames"]["sent"], 0);
  EXPECT_NE(r.output.find("connect_refused=20"), std::string::npos) << r.output;
}

TEST(LoadgenCli, MaxErrorsToleratesCountedFailures) {
  RunResult r =
      runProgram(loadgen({"--port", std::to_string(unusedPort()), "--connections", "3",
                          "--duration", "30", "--max-errors", "3", "--progress-interval", "0"}));
  // Three refusals are tolerated, but a run that opened nothing missed its
  // target all the same.
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("no connection opened"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace uvframe::test
