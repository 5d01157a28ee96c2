// Merging load generator runs: the latency histogram survives its JSON form
// exactly, two histograms merged from their JSON equal the histogram of all
// samples (identical percentiles), a foreign layout is refused, and run
// summaries merge as loadgen_merge.h says (counts added, longest duration).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "histogram_json.h"
#include "loadgen_merge.h"
#include "loadgen_report.h"

namespace uvframe {
namespace {

constexpr double kPercentiles[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 99.999, 100};

void expectSameHistogram(const LatencyHistogram& got, const LatencyHistogram& want) {
  EXPECT_EQ(got.count(), want.count());
  EXPECT_EQ(got.minNs(), want.minNs());
  EXPECT_EQ(got.maxNs(), want.maxNs());
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(got.bucketCountAt(i), want.bucketCountAt(i)) << "bucket " << i;
  }
  for (double p : kPercentiles) {
    EXPECT_EQ(got.valueAtPercentile(p), want.valueAtPercentile(p)) << "p" << p;
  }
  EXPECT_NEAR(got.meanNs(), want.meanNs(), want.meanNs() * 1e-12);
  EXPECT_NEAR(got.stddevNs(), want.stddevNs(), want.stddevNs() * 1e-6);
}

LatencyHistogram roundTrip(const LatencyHistogram& h) {
  // Through text, as between two hosts.
  std::string text = histogramToJson(h).dump();
  std::string error;
  auto back = histogramFromJson(nlohmann::json::parse(text), error);
  EXPECT_TRUE(back) << error;
  return back ? *back : LatencyHistogram{};
}

TEST(HistogramJson, ListsOnlyNonEmptyBucketsByLowerBound) {
  LatencyHistogram h;
  h.record(5);
  h.record(5);
  h.record(1000);  // bucket [1000, 1004)
  auto j = histogramToJson(h);
  EXPECT_EQ(j["unit"], "ns");
  EXPECT_EQ(j["layout"]["sub_bucket_bits"], 7);
  EXPECT_EQ(j["layout"]["max_exponent"], 35);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["min"], 5);
  EXPECT_EQ(j["max"], 1000);
  EXPECT_EQ(j["buckets"].dump(), "[[5,2],[1000,1]]");
}

TEST(HistogramJson, RoundTripIsExact) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency(11.0, 2.0);
  LatencyHistogram h;
  for (int i = 0; i < 20000; ++i)
    h.record(static_cast<std::uint64_t>(latency(rng)));
  h.record(100'000'000'000);  // above the range: max stays exact
  expectSameHistogram(roundTrip(h), h);
  expectSameHistogram(roundTrip(LatencyHistogram{}), LatencyHistogram{});
}

TEST(HistogramJson, MergedFromJsonEqualsTheHistogramOfAllSamples) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> fast(10.0, 0.5);  // host A: ~22 µs
  std::lognormal_distribution<double> slow(13.0, 1.0);  // host B: ~440 µs
  LatencyHistogram all, a, b;
  for (int i = 0; i < 30000; ++i) {
    auto va = static_cast<std::uint64_t>(fast(rng));
    auto vb = static_cast<std::uint64_t>(slow(rng));
    a.record(va);
    b.record(vb);
    all.record(va);
    all.record(vb);
  }
  LatencyHistogram merged = roundTrip(a);
  merged.merge(roundTrip(b));
  expectSameHistogram(merged, all);
}

TEST(HistogramJson, ForeignLayoutAndBrokenBucketsAreRefused) {
  LatencyHistogram h;
  h.record(1000);
  h.record(2000);
  auto expectRefused = [](const nlohmann::ordered_json& j, const std::string& words) {
    std::string error;
    EXPECT_FALSE(histogramFromJson(nlohmann::json::parse(j.dump()), error)) << j.dump();
    EXPECT_NE(error.find(words), std::string::npos) << error;
  };
  auto j = histogramToJson(h);
  auto other = j;
  other["layout"]["sub_bucket_bits"] = 5;
  expectRefused(other, "layout");
  other = j;
  other["unit"] = "us";
  expectRefused(other, "layout");
  other = j;
  other["buckets"][0][0] = 1001;  // not a bucket bound
  expectRefused(other, "not a bucket");
  other = j;
  other["count"] = 3;
  expectRefused(other, "does not add up");
  other = j;
  other["max"] = 1500;  // not in the last bucket
  expectRefused(other, "does not add up");
  other = j;
  other["buckets"][1] = "x";
  expectRefused(other, "is not [low_ns, count]");
  other = j;
  other.erase("sum");
  expectRefused(other, "lacks");
}

RunSummary run(std::uint32_t connections, double durationS, std::uint64_t framesPerConn,
               std::uint64_t latencyBaseNs) {
  RunSummary r;
  r.options.connections = connections;
  r.options.threads = 2;
  r.options.echo = true;
  r.options.pipeline = 1;
  r.options.framesPerConnection = framesPerConn;
  LoadTotals& t = r.result.totals;
  t.connectionsOpened = connections;
  t.framesSent = t.framesEchoed = connections * framesPerConn;
  t.bytesSent = t.bytesEchoed = t.framesSent * 68;
  t.errors[static_cast<std::size_t>(ErrorKind::kReset)] = 1;
  for (std::uint64_t i = 0; i < t.framesEchoed; ++i)
    r.result.latencies.record(latencyBaseNs + i * 7);
  r.result.durationS = durationS;
  return r;
}

TEST(LoadgenMerge, SummariesReadBackFromTheirJson) {
  RunSummary a = run(10, 2.5, 100, 20000);
  std::string error;
  auto back =
      runSummaryFromJson(nlohmann::json::parse(resultJson(a.options, a.result).dump()), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->options.connections, 10u);
  EXPECT_EQ(back->result.totals.framesSent, 1000u);
  EXPECT_EQ(back->result.totals.errors[static_cast<std::size_t>(ErrorKind::kReset)], 1u);
  EXPECT_DOUBLE_EQ(back->result.durationS, 2.5);
  expectSameHistogram(back->result.latencies, a.result.latencies);
}

TEST(LoadgenMerge, CountsAddDurationIsTheLongestPercentilesFromTheMergedHistogram) {
  RunSummary a = run(10, 2.0, 100, 20000);
  RunSummary b = run(30, 3.0, 100, 500000);
  LatencyHistogram all = a.result.latencies;
  all.merge(b.result.latencies);
  std::string error;
  auto ja = nlohmann::json::parse(resultJson(a.options, a.result).dump());
  auto jb = nlohmann::json::parse(resultJson(b.options, b.result).dump());
  auto merged = runSummaryFromJson(ja, error);
  auto second = runSummaryFromJson(jb, error);
  ASSERT_TRUE(merged && second) << error;
  mergeRunSummary(*merged, *second);
  auto j = resultJson(merged->options, merged->result);
  EXPECT_EQ(j["connections"]["requested"], 40);
  EXPECT_EQ(j["connections"]["opened"], 40);
  EXPECT_EQ(j["frames"]["sent"], 4000);
  EXPECT_EQ(j["frames"]["echoed"], 4000);
  EXPECT_EQ(j["bytes"]["sent"], 4000 * 68);
  EXPECT_EQ(j["errors"]["reset"], 2);
  EXPECT_EQ(j["errors_total"], 2);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["frames_per_s"].get<double>(), 4000 / 3.0);
  EXPECT_EQ(j["latency_us"]["samples"], 4000);
  EXPECT_DOUBLE_EQ(j["latency_us"]["p50"].get<double>(),
                   std::round(all.valueAtPercentile(50) / 1e3 * 1000) / 1000);
  EXPECT_DOUBLE_EQ(j["latency_us"]["max"].get<double>(), all.maxNs() / 1e3);
  expectSameHistogram(merged->result.latencies, all);
}

TEST(LoadgenMerge, BadSummariesSayWhatIsWrong) {
  RunSummary a = run(1, 1.0, 1, 1000);
  auto good = nlohmann::json::parse(resultJson(a.options, a.result).dump());
  auto expectBad = [](const nlohmann::json& j, const std::string& words) {
    std::string error;
    EXPECT_FALSE(runSummaryFromJson(j, error)) << j.dump();
    EXPECT_NE(error.find(words), std::string::npos) << error;
  };
  expectBad(nlohmann::json::array(), "not a uvframe-loadgen");
  auto j = good;
  j["frames"].erase("sent");
  expectBad(j, "frames.sent");
  j = good;
  j["errors"]["gremlins"] = 1;
  expectBad(j, "errors.gremlins");
  j = good;
  j.erase("latency_histogram");
  expectBad(j, "without latency_histogram");
  j = good;
  j["latency_histogram"]["layout"]["max_exponent"] = 40;
  expectBad(j, "layout");
  j = good;
  j["options"]["connections"] = "many";
  expectBad(j, "not a uvframe-loadgen");
}

}  // namespace
}  // namespace uvframe
