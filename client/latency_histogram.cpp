// LatencyHistogram: see latency_histogram.h for the bucket layout.
#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace uvframe {

std::size_t LatencyHistogram::bucketIndex(std::uint64_t valueNs) {
  valueNs = std::min(valueNs, kHighestTrackableNs);
  if (valueNs < kSubBuckets) return static_cast<std::size_t>(valueNs);
  int exponent = std::bit_width(valueNs) - 1;  // >= kSubBucketBits
  int shift = exponent - kSubBucketBits;
  std::uint64_t sub = (valueNs >> shift) - kSubBuckets;
  return static_cast<std::size_t>(kSubBuckets * static_cast<std::uint64_t>(shift + 1) + sub);
}

std::uint64_t LatencyHistogram::bucketLowNs(std::size_t index) {
  if (index < kSubBuckets) return index;
  std::uint64_t shift = index / kSubBuckets - 1;
  std::uint64_t sub = index % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

std::uint64_t LatencyHistogram::bucketWidthNs(std::size_t index) {
  if (index < kSubBuckets) return 1;
  return std::uint64_t{1} << (index / kSubBuckets - 1);
}

void LatencyHistogram::recordCount(std::uint64_t valueNs, std::uint64_t count) {
  if (count == 0) return;
  counts_[bucketIndex(valueNs)] += count;
  count_ += count;
  minNs_ = std::min(minNs_, valueNs);
  maxNs_ = std::max(maxNs_, valueNs);
  auto v = static_cast<double>(valueNs);
  sumNs_ += v * static_cast<double>(count);
  sumSquaresNs_ += v * v * static_cast<double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBucketCount; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  minNs_ = std::min(minNs_, other.minNs_);
  maxNs_ = std::max(maxNs_, other.maxNs_);
  sumNs_ += other.sumNs_;
  sumSquaresNs_ += other.sumSquaresNs_;
}

void LatencyHistogram::reset() {
  *this = LatencyHistogram();
}

bool LatencyHistogram::restore(std::span<const std::pair<std::size_t, std::uint64_t>> buckets,
                               std::uint64_t minNs, std::uint64_t maxNs, double sumNs,
                               double sumSquaresNs) {
  reset();
  std::size_t first = kBucketCount;
  std::size_t last = 0;
  std::uint64_t total = 0;
  for (const auto& [index, count] : buckets) {
    if (index >= kBucketCount || total + count < total) {
      reset();
      return false;
    }
    if (count == 0) continue;
    counts_[index] += count;
    total += count;
    first = std::min(first, index);
    last = std::max(last, index);
  }
  if (total == 0 || minNs > maxNs || bucketIndex(minNs) != first || bucketIndex(maxNs) != last) {
    reset();
    return false;
  }
  count_ = total;
  minNs_ = minNs;
  maxNs_ = maxNs;
  sumNs_ = sumNs;
  sumSquaresNs_ = sumSquaresNs;
  return true;
}

double LatencyHistogram::meanNs() const {
  return count_ == 0 ? 0.0 : sumNs_ / static_cast<double>(count_);
}

double LatencyHistogram::stddevNs() const {
  if (count_ == 0) return 0.0;
  double mean = meanNs();
  double variance = sumSquaresNs_ / static_cast<double>(count_) - mean * mean;
  return variance > 0 ? std::sqrt(variance) : 0.0;
}

std::uint64_t LatencyHistogram::midpointClamped(std::size_t index) const {
  std::uint64_t mid = bucketLowNs(index) + bucketWidthNs(index) / 2;
  return std::clamp(mid, minNs_, maxNs_);
}

std::uint64_t LatencyHistogram::valueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  if (percentile >= 100.0) return maxNs_;
  percentile = std::max(percentile, 0.0);
  // The rank of the sample that percentile names (1-based, at least 1).
  auto rank =
      static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return midpointClamped(i);
  }
  return maxNs_;
}

std::vector<LatencyHistogram::PercentileRow> LatencyHistogram::distribution(
    int ticksPerHalf) const {
  std::vector<PercentileRow> rows;
  if (count_ == 0) return rows;
  // Walk percentiles 0, then 5 ticks per halving of the distance to 100 %,
  // until the ticks pass the last sample; then close with 100 %.
  double total = static_cast<double>(count_);
  for (int level = 0; level < 64; ++level) {
    double start = 100.0 - 100.0 / std::pow(2.0, level);
    double step = (100.0 / std::pow(2.0, level + 1)) / ticksPerHalf;
    for (int t = 0; t < ticksPerHalf; ++t) {
      double p = start + step * t;
      auto below = static_cast<std::uint64_t>(std::ceil(p / 100.0 * total));
      rows.push_back({p, valueAtPercentile(p), std::max<std::uint64_t>(below, 1)});
    }
    // Stop once the remaining distance is below one sample.
    if ((100.0 - start) / 100.0 * total < 1.0) break;
  }
  rows.push_back({100.0, maxNs_, count_});
  return rows;
}

}  // namespace uvframe
