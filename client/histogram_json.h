// The latency histogram in uvframe-loadgen's --json file, saved exactly so
// that runs made on several hosts can be merged (uvframe-loadgen merge) with
// percentiles computed from the merged buckets, never averaged.
//
//   "latency_histogram": {
//     "unit": "ns",
//     "layout": {"kind": "log-linear", "sub_bucket_bits": 7, "max_exponent": 35},
//     "count": 10000, "min": 41230, "max": 912345,
//     "sum": 1.2345e9, "sum_squares": 2.5e14,
//     "buckets": [[41216, 3], [41472, 17], ...]
//   }
//
// Each bucket is [low, count]: low is the bucket's lower bound in ns (the
// bucket spans [low, low + width), width as in latency_histogram.h: 1 ns below
// 128 ns, then 1/128 of the power of two it lies in), count how many samples
// fell in it. Only non-empty buckets are listed, in increasing order; their
// counts add up to "count". min and max are the exact extremes (max may lie
// above the last bucket's range, as recorded); sum and sum_squares give the
// mean and standard deviation. Two histograms merge exactly when their
// layouts are equal: add the counts of equal lows, take the smaller min and
// the larger max, add the sums. A reader refuses another layout, a low that
// is not a bucket bound of this layout, or counts that do not add up.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "latency_histogram.h"

namespace uvframe {

/// The histogram as above (an empty one: count 0, min 0, max 0, no buckets).
nlohmann::ordered_json histogramToJson(const LatencyHistogram& histogram);

/// The histogram saved in j, or nullopt with error saying what is wrong
/// ("latency histogram layout sub_bucket_bits=5 ... differs from ...").
std::optional<LatencyHistogram> histogramFromJson(const nlohmann::json& j, std::string& error);

}  // namespace uvframe
