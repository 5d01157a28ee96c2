// LatencyHistogram: latency samples in log-linear buckets, mergeable.
//
// Why hand-written: HdrHistogram (the usual choice) has no Debian package for
// C or C++, and what the load generator needs is small: record in O(1), merge
// across threads, answer percentiles with a known error bound. The layout is
// HdrHistogram's idea in its simplest form:
//
//   value (ns)       bucket width   buckets
//   0 .. 127         1 ns           128 exact buckets
//   [2^e, 2^(e+1))   2^(e-7) ns     128 per power of two, e = 7 .. 35
//
// Each bucket spans at most 1/128 of its lower bound, and a percentile is
// reported as its bucket's midpoint (clamped to the exact min and max), so
// the relative error is below 0.4 % everywhere from 1 µs to 60 s (2^36 ns is
// 68.7 s; larger values land in the last bucket, and max stays exact).
// Memory: 3,840 counters, 30 KiB per histogram.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace uvframe {

/// Not thread-safe: each loop records into its own histogram, and the
/// coordinator merges copies of them.
class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = 1u << kSubBucketBits;
  static constexpr int kMaxExponent = 35;
  static constexpr std::uint64_t kHighestTrackableNs = (std::uint64_t{1} << (kMaxExponent + 1)) - 1;
  static constexpr std::size_t kBucketCount = kSubBuckets * (kMaxExponent - kSubBucketBits + 2);

  void record(std::uint64_t valueNs) { recordCount(valueNs, 1); }
  void recordCount(std::uint64_t valueNs, std::uint64_t count);
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t minNs() const { return count_ == 0 ? 0 : minNs_; }
  std::uint64_t maxNs() const { return maxNs_; }
  double meanNs() const;
  double stddevNs() const;

  /// The smallest recorded value v (within the bucket error) such that at
  /// least percentile % of the samples are <= v; 0 when empty. percentile is
  /// 0..100.
  std::uint64_t valueAtPercentile(double percentile) const;

  /// One line of a percentile distribution (see distribution()).
  struct PercentileRow {
    double percentile;  ///< 0..100
    std::uint64_t valueNs;
    std::uint64_t countAtOrBelow;
  };
  /// Percentiles at 5 ticks per halving of the remaining distance to 100 %
  /// (50, 55, ..., 75, 77.5, ...), as HdrHistogram prints them, ending with
  /// 100 %.
  std::vector<PercentileRow> distribution(int ticksPerHalf = 5) const;

  /// Saving and restoring a histogram exactly (see histogram_json.h): the
  /// count of bucket index, the running sums, and restore() which replaces
  /// this histogram with saved parts. restore() returns false (and leaves
  /// the histogram empty) unless every index is below kBucketCount, the
  /// counts are not all zero, and minNs and maxNs lie in the first and last
  /// non-empty buckets (maxNs may exceed the last bucket's range, as when
  /// recorded).
  std::uint64_t bucketCountAt(std::size_t index) const { return counts_[index]; }
  double sumNs() const { return sumNs_; }
  double sumSquaresNs() const { return sumSquaresNs_; }
  bool restore(std::span<const std::pair<std::size_t, std::uint64_t>> buckets, std::uint64_t minNs,
               std::uint64_t maxNs, double sumNs, double sumSquaresNs);

  static std::size_t bucketIndex(std::uint64_t valueNs);
  static std::uint64_t bucketLowNs(std::size_t index);
  static std::uint64_t bucketWidthNs(std::size_t index);

 private:
  std::uint64_t midpointClamped(std::size_t index) const;

  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t minNs_ = UINT64_MAX;
  std::uint64_t maxNs_ = 0;
  double sumNs_ = 0;
  double sumSquaresNs_ = 0;
};

}  // namespace uvframe
