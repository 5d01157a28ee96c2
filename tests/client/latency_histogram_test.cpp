// LatencyHistogram: percentiles against exactly computed ones on known
// samples, the bucket error bound, merging, and the distribution table.
#include "latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace uvframe {
namespace {

// The sample that percentile p names: the smallest v with at least p % of
// the samples <= v (rank ceil(p/100 * n), 1-based), as valueAtPercentile.
std::uint64_t exactPercentile(std::vector<std::uint64_t> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expectWithinOnePercent(const LatencyHistogram& h, const std::vector<std::uint64_t>& samples) {
  for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    double exact = static_cast<double>(exactPercentile(samples, p));
    double got = static_cast<double>(h.valueAtPercentile(p));
    EXPECT_LE(std::abs(got - exact), exact * 0.01)
        << "p" << p << ": got " << got << ", exact " << exact;
  }
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.valueAtPercentile(99), 0u);
  EXPECT_EQ(h.maxNs(), 0u);
  EXPECT_TRUE(h.distribution().empty());
}

TEST(LatencyHistogram, UniformSamplesPercentilesWithinOnePercent) {
  LatencyHistogram h;
  std::vector<std::uint64_t> samples;
  for (std::uint64_t us = 1; us <= 100000; ++us)
    samples.push_back(us * 1000);
  for (auto s : samples)
    h.record(s);
  expectWithinOnePercent(h, samples);
  EXPECT_EQ(h.minNs(), 1000u);
  EXPECT_EQ(h.maxNs(), 100'000'000u);
}

TEST(LatencyHistogram, LogSpreadSamplesFromOneMicrosecondToSixtySecondsWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(std::log(1e3), std::log(60e9));
  LatencyHistogram h;
  std::vector<std::uint64_t> samples;
  for (int i = 0; i < 200000; ++i) {
    samples.push_back(static_cast<std::uint64_t>(std::exp(exponent(rng))));
    h.record(samples.back());
  }
  expectWithinOnePercent(h, samples);
}

TEST(LatencyHistogram, BucketsSpanAtMostOne128thOfTheirValue) {
  for (std::uint64_t v = 1; v < LatencyHistogram::kHighestTrackableNs; v = v * 3 / 2 + 1) {
    std::size_t i = LatencyHistogram::bucketIndex(v);
    ASSERT_LT(i, LatencyHistogram::kBucketCount);
    std::uint64_t low = LatencyHistogram::bucketLowNs(i);
    std::uint64_t width = LatencyHistogram::bucketWidthNs(i);
    EXPECT_LE(low, v);
    EXPECT_LT(v, low + width);
    if (v >= LatencyHistogram::kSubBuckets) {
      EXPECT_LE(width * 128, low);
    }
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingInOne) {
  LatencyHistogram all, a, b;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(12.0, 1.5);
  for (int i = 0; i < 50000; ++i) {
    auto v = static_cast<std::uint64_t>(latency(rng));
    all.record(v);
    (i % 3 == 0 ? a : b).record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.minNs(), all.minNs());
  EXPECT_EQ(a.maxNs(), all.maxNs());
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    EXPECT_EQ(a.valueAtPercentile(p), all.valueAtPercentile(p)) << p;
  }
}

TEST(LatencyHistogram, ValueAboveRangeLandsInLastBucketAndMaxStaysExact) {
  LatencyHistogram h;
  h.record(1000);
  h.record(100'000'000'000);  // 100 s
  EXPECT_EQ(h.maxNs(), 100'000'000'000u);
  EXPECT_EQ(h.valueAtPercentile(100), 100'000'000'000u);
  EXPECT_NEAR(static_cast<double>(h.valueAtPercentile(50)), 1000.0, 10.0);
}

TEST(LatencyHistogram, DistributionIsMonotonicAndEndsAtMax) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v)
    h.record(v * 1000);
  auto rows = h.distribution();
  ASSERT_GT(rows.size(), 20u);
  EXPECT_EQ(rows.front().percentile, 0.0);
  EXPECT_EQ(rows.back().percentile, 100.0);
  EXPECT_EQ(rows.back().valueNs, h.maxNs());
  EXPECT_EQ(rows.back().countAtOrBelow, h.count());
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GE(rows[i].valueNs, rows[i - 1].valueNs);
    EXPECT_GT(rows[i].percentile, rows[i - 1].percentile);
  }
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(5000);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.valueAtPercentile(50), 0u);
}

}  // namespace
}  // namespace uvframe
