// uvframe-loadgen merge on the --json files of real runs (against
// uvframe-test-echo-peer, so latency is measured): counts added, the longest
// duration, percentiles equal to those of the two histograms merged here;
// a missing file, a file that is no run summary and a foreign histogram
// layout each give one error line and exit 2; --help mentions merge.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "client_test_helpers.h"
#include "histogram_json.h"

namespace uvframe::test {
namespace {

std::vector<std::string> loadgen(std::vector<std::string> args) {
  args.insert(args.begin(), programPath("uvframe-loadgen"));
  return args;
}

class LoadgenMergeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    line_ = peer_.waitForText("echo peer listening on 127.0.0.1:");
    ASSERT_TRUE(line_) << peer_.output();
    port_ = line_->substr(line_->rfind(':') + 1);
  }
  /// A real --echo run of connections x frames, its JSON written to path.
  void runInto(const std::string& path, const std::string& connections, const std::string& frames) {
    RunResult r = runProgram(loadgen(
        {"--port", port_, "--connections", connections, "--frames-per-connection", frames, "--echo",
         "--pipeline", "2", "--size", "16-256", "--json", path, "--progress-interval", "0"}));
    ASSERT_EQ(r.exitCode, 0) << r.output;
  }

  TempDir dir_;
  ChildProcess peer_{{programPath("uvframe-test-echo-peer")}};
  std::optional<std::string> line_;
  std::string port_;
};

LatencyHistogram histogramOf(const nlohmann::json& run) {
  std::string error;
  auto h = histogramFromJson(run["latency_histogram"], error);
  EXPECT_TRUE(h) << error;
  return h ? *h : LatencyHistogram{};
}

double rounded(std::uint64_t ns) {
  return std::round(static_cast<double>(ns)) / 1e3;
}

TEST_F(LoadgenMergeCli, TwoRealRunsMergeIntoOneSummary) {
  std::string a = dir_.file("a.json"), b = dir_.file("b.json"), out = dir_.file("merged.json");
  runInto(a, "4", "300");
  runInto(b, "6", "100");
  RunResult r = runProgram(loadgen({"merge", a, b, "--json", out}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("merge of 2 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("latency (us)"), std::string::npos) << r.output;
  nlohmann::json ja = readJson(a), jb = readJson(b), m = readJson(out);
  for (const char* group : {"frames", "bytes"}) {
    for (const char* key : {"sent", "echoed"}) {
      EXPECT_EQ(m[group][key].get<std::uint64_t>(),
                ja[group][key].get<std::uint64_t>() + jb[group][key].get<std::uint64_t>())
          << group << "." << key;
    }
  }
  EXPECT_EQ(m["frames"]["sent"], 1800);
  EXPECT_EQ(m["connections"]["opened"], 10);
  EXPECT_EQ(m["connections"]["requested"], 10);
  EXPECT_EQ(m["errors_total"], 0);
  double longest = std::max(ja["duration_s"].get<double>(), jb["duration_s"].get<double>());
  EXPECT_DOUBLE_EQ(m["duration_s"].get<double>(), longest);
  EXPECT_DOUBLE_EQ(m["frames_per_s"].get<double>(), 1800 / longest);
  EXPECT_EQ(m["merged_from"], (nlohmann::json{a, b}));

  LatencyHistogram all = histogramOf(ja);
  all.merge(histogramOf(jb));
  const auto& l = m["latency_us"];
  EXPECT_EQ(l["samples"], 1800);
  EXPECT_DOUBLE_EQ(l["p50"].get<double>(), rounded(all.valueAtPercentile(50)));
  EXPECT_DOUBLE_EQ(l["p99"].get<double>(), rounded(all.valueAtPercentile(99)));
  EXPECT_DOUBLE_EQ(l["p999"].get<double>(), rounded(all.valueAtPercentile(99.9)));
  EXPECT_DOUBLE_EQ(l["max"].get<double>(), std::max(ja["latency_us"]["max"].get<double>(),
                                                    jb["latency_us"]["max"].get<double>()));
  EXPECT_EQ(m["latency_histogram"]["count"], 1800);

  // A merged file merges again: with a itself once more.
  std::string again = dir_.file("again.json");
  RunResult r2 = runProgram(loadgen({"merge", out, a, "--json", again}));
  ASSERT_EQ(r2.exitCode, 0) << r2.output;
  EXPECT_EQ(readJson(again)["frames"]["sent"], 3000);
}

TEST_F(LoadgenMergeCli, BadInputsExitTwoWithOneLine) {
  std::string a = dir_.file("a.json");
  runInto(a, "2", "20");
  std::string notJson = dir_.file("not.json");
  std::ofstream(notJson) << "hello\n";
  std::string notRun = dir_.file("array.json");
  std::ofstream(notRun) << "[1, 2]\n";
  nlohmann::json foreign = readJson(a);
  foreign["latency_histogram"]["layout"]["sub_bucket_bits"] = 5;
  std::string foreignPath = dir_.file("foreign.json");
  std::ofstream(foreignPath) << foreign.dump();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"merge", a, dir_.file("missing.json")}, "cannot read"},
      {{"merge", a, notJson}, "not JSON"},
      {{"merge", notRun, a}, "not a uvframe-loadgen"},
      {{"merge", a, foreignPath}, "layout"},
      {{"merge"}, "files"},
      {{"merge", a, "--no-such-option"}, "--no-such-option"},
  };
  for (const auto& [args, words] : cases) {
    RunResult r = runProgram(loadgen(args));
    EXPECT_EQ(r.exitCode, 2) << words << ": " << r.output;
    ASSERT_EQ(r.lines.size(), 1u) << r.output;
    EXPECT_EQ(r.lines[0].rfind("uvframe-loadgen merge: error: ", 0), 0u) << r.lines[0];
    EXPECT_NE(r.lines[0].find(words), std::string::npos) << r.lines[0];
  }
}

TEST(LoadgenMergeHelp, MainHelpMentionsMergeAndMergeHasItsOwn) {
  RunResult help = runProgram(loadgen({"--help"}));
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.output.find("uvframe-loadgen merge A.json B.json"), std::string::npos)
      << help.output;
  RunResult mergeHelp = runProgram(loadgen({"merge", "--help"}));
  EXPECT_EQ(mergeHelp.exitCode, 0);
  EXPECT_NE(mergeHelp.output.find("--json"), std::string::npos) << mergeHelp.output;
}

}  // namespace
}  // namespace uvframe::test
