// Latency histogram as JSON: see histogram_json.h.
#include "histogram_json.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace uvframe {
namespace {

constexpr const char* kKind = "log-linear";

bool readUnsigned(const nlohmann::json& j, const char* key, std::uint64_t& value) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  value = it->get<std::uint64_t>();
  return true;
}

bool readNumber(const nlohmann::json& j, const char* key, double& value) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return false;
  value = it->get<double>();
  return true;
}

}  // namespace

nlohmann::ordered_json histogramToJson(const LatencyHistogram& h) {
  nlohmann::ordered_json j;
  j["unit"] = "ns";
  j["layout"] = {{"kind", kKind},
                 {"sub_bucket_bits", LatencyHistogram::kSubBucketBits},
                 {"max_exponent", LatencyHistogram::kMaxExponent}};
  j["count"] = h.count();
  j["min"] = h.minNs();
  j["max"] = h.maxNs();
  j["sum"] = h.sumNs();
  j["sum_squares"] = h.sumSquaresNs();
  nlohmann::ordered_json buckets = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    std::uint64_t count = h.bucketCountAt(i);
    if (count != 0) buckets.push_back({LatencyHistogram::bucketLowNs(i), count});
  }
  j["buckets"] = std::move(buckets);
  return j;
}

std::optional<LatencyHistogram> histogramFromJson(const nlohmann::json& j, std::string& error) {
  if (!j.is_object()) {
    error = "latency_histogram is not an object";
    return std::nullopt;
  }
  const auto layout = j.find("layout");
  std::uint64_t subBits = 0;
  std::uint64_t maxExponent = 0;
  if (j.value("unit", "") != "ns" || layout == j.end() || !layout->is_object() ||
      layout->value("kind", "") != kKind || !readUnsigned(*layout, "sub_bucket_bits", subBits) ||
      !readUnsigned(*layout, "max_exponent", maxExponent) ||
      subBits != LatencyHistogram::kSubBucketBits ||
      maxExponent != LatencyHistogram::kMaxExponent) {
    error = fmt::format(
        "latency histogram layout {} {} differs from this build's "
        "{{\"unit\":\"ns\",\"layout\":{{\"kind\":\"{}\",\"sub_bucket_bits\":{},\"max_exponent\":{}}"
        "}}}",
        j.contains("unit") ? j["unit"].dump() : "(no unit)",
        layout != j.end() ? layout->dump() : "(no layout)", kKind, LatencyHistogram::kSubBucketBits,
        LatencyHistogram::kMaxExponent);
    return std::nullopt;
  }
  std::uint64_t count = 0;
  std::uint64_t minNs = 0;
  std::uint64_t maxNs = 0;
  double sum = 0;
  double sumSquares = 0;
  const auto buckets = j.find("buckets");
  if (!readUnsigned(j, "count", count) || !readUnsigned(j, "min", minNs) ||
      !readUnsigned(j, "max", maxNs) || !readNumber(j, "sum", sum) ||
      !readNumber(j, "sum_squares", sumSquares) || buckets == j.end() || !buckets->is_array()) {
    error = "latency histogram lacks count, min, max, sum, sum_squares or buckets";
    return std::nullopt;
  }
  LatencyHistogram h;
  if (count == 0) {
    if (!buckets->empty()) {
      error = "latency histogram has buckets but a count of 0";
      return std::nullopt;
    }
    return h;
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> parts;
  parts.reserve(buckets->size());
  std::uint64_t total = 0;
  for (const auto& b : *buckets) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() ||
        !b[1].is_number_unsigned()) {
      error = "latency histogram bucket " + b.dump() + " is not [low_ns, count]";
      return std::nullopt;
    }
    auto low = b[0].get<std::uint64_t>();
    auto n = b[1].get<std::uint64_t>();
    std::size_t index = LatencyHistogram::bucketIndex(low);
    if (LatencyHistogram::bucketLowNs(index) != low ||
        (!parts.empty() && parts.back().first >= index)) {
      error = "latency histogram bucket " + b.dump() +
              " is not a bucket of this layout in increasing order";
      return std::nullopt;
    }
    parts.emplace_back(index, n);
    total += n;
  }
  if (total != count || !h.restore(parts, minNs, maxNs, sum, sumSquares)) {
    error =
        fmt::format("latency histogram does not add up (count {}, buckets hold {}, min {}, max {})",
                    count, total, minNs, maxNs);
    return std::nullopt;
  }
  return h;
}

}  // namespace uvframe
