// Metrics for GET /metrics: a snapshot of the server's counters, summed when
// scraped (nothing on the hot path changes: the workers' single-writer
// counters of server_counters.h are read relaxed), turned into Prometheus
// metric families and serialized in the text format 0.0.4.
//
// prometheus-cpp (Debian's prometheus-cpp-dev, target prometheus-cpp::core)
// provides the data model (MetricFamily, ClientMetric) and the text
// serializer, which gets the escaping, number formatting and histogram
// layout right. Its registry and counters are not used: the server's own
// counters are the truth, and a registry would mean a second set updated on
// the hot path. Its HTTP Exposer is not used either (see metrics_http.h).
//
// Names start uvframe_, counters end _total, units are base units (bytes,
// seconds); no label ever takes a peer address.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "close_reason.h"
#include "server_counters.h"

namespace uvframe {

/// Everything one scrape reports, summed over the workers.
struct MetricsSnapshot {
  std::uint64_t connections = 0;   ///< open now
  CounterTotals counters;          ///< the workers' counters, added up
  std::uint64_t logLines = 0;      ///< lines handed to the log writer
  std::uint64_t logLostBytes = 0;  ///< LogWriter::Counters::bytesLost
  double startTimeSeconds = 0;     ///< Unix time the server started
  bool processMetrics = true;      ///< add process_* from /proc (Linux)
};

/// The Prometheus text exposition (format 0.0.4) of s.
std::string renderMetrics(const MetricsSnapshot& s);

/// False in a build without prometheus-cpp (UVFRAME_WITH_METRICS=OFF:
/// metrics_unavailable.cpp), where --metrics is refused.
bool metricsInThisBuild();

/// The Content-Type of renderMetrics' text.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace uvframe
