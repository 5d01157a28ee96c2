// Metrics for GET /metrics: see metrics_collector.h.
#include "metrics_collector.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#ifdef __linux__
#include <unistd.h>
#endif

#include "cli_support.h"

namespace uvframe {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double num(std::uint64_t v) {
  return static_cast<double>(v);
}

MetricFamily counter(std::string name, std::string help, double value) {
  ClientMetric m;
  m.counter.value = value;
  return MetricFamily{std::move(name), std::move(help), MetricType::Counter, {m}};
}

MetricFamily gauge(std::string name, std::string help, double value,
                   std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.gauge.value = value;
  m.label = std::move(labels);
  return MetricFamily{std::move(name), std::move(help), MetricType::Gauge, {m}};
}

#ifdef __linux__
// process_* as the Prometheus client libraries define them, from /proc.
struct ProcessStats {
  bool ok = false;
  double cpuSeconds = 0, startTimeSeconds = 0, residentBytes = 0, virtualBytes = 0;
  double openFds = 0, maxFds = 0;
};

ProcessStats readProcessStats() {
  ProcessStats p;
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces and parentheses):
  // state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return p;
  std::istringstream in(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; in >> field;)
    f.push_back(field);
  if (f.size() < 22) return p;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // f[0] is field 3.
  p.cpuSeconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  double startTicks = std::stod(f[19]);
  p.virtualBytes = std::stod(f[20]);
  p.residentBytes = std::stod(f[21]) * page;
  std::ifstream procStat("/proc/stat");
  for (std::string line; std::getline(procStat, line);) {
    if (line.rfind("btime ", 0) == 0) {
      p.startTimeSeconds = std::stod(line.substr(6)) + startTicks / ticks;
      break;
    }
  }
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  p.openFds = n > 0 ? n - 1 : 0;  // less the iterator's own descriptor
  std::ifstream limits("/proc/self/limits");
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream l(line.substr(14));
      std::string soft;
      l >> soft;
      p.maxFds = soft == "unlimited" ? 0 : std::stod(soft);
      break;
    }
  }
  p.ok = true;
  return p;
}

void addProcessFamilies(std::vector<MetricFamily>& out) {
  ProcessStats p;
  try {
    p = readProcessStats();
  } catch (const std::exception&) {
    return;  // unparsable /proc: leave process_* out of this scrape
  }
  if (!p.ok) return;
  out.push_back(counter("process_cpu_seconds_total",
                        "Total user and system CPU time spent in "
                        "seconds.",
                        p.cpuSeconds));
  out.push_back(gauge("process_open_fds", "Number of open file descriptors.", p.openFds));
  if (p.maxFds > 0) {
    out.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.", p.maxFds));
  }
  out.push_back(
      gauge("process_resident_memory_bytes", "Resident memory size in bytes.", p.residentBytes));
  out.push_back(
      gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtualBytes));
  if (p.startTimeSeconds > 0) {
    out.push_back(gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.",
                        p.startTimeSeconds));
  }
}
#endif

}  // namespace

bool metricsInThisBuild() {
  return true;
}

std::string renderMetrics(const MetricsSnapshot& snapshot) {
  const CounterTotals& s = snapshot.counters;
  std::vector<MetricFamily> f;
  f.push_back(
      gauge("uvframe_connections", "Client connections open now.", num(snapshot.connections)));
  f.push_back(counter("uvframe_connections_accepted_total",
                      "Client connections accepted (each got a connected line).", num(s.accepted)));
  // One series per reason, every reason present even at 0: refusals (no
  // connected line) on one family, closes of clients on the other.
  auto byReason = [](std::string name, std::string help, bool refusals,
                     const std::array<std::uint64_t, kCloseReasonCount>& counts) {
    MetricFamily family{std::move(name), std::move(help), MetricType::Counter, {}};
    for (std::size_t i = 0; i < kCloseReasonCount; ++i) {
      auto reason = static_cast<CloseReason>(i);
      if (isRefusal(reason) != refusals) continue;
      ClientMetric m;
      m.label.push_back({"reason", std::string(toString(reason))});
      m.counter.value = num(counts[i]);
      family.metric.push_back(std::move(m));
    }
    return family;
  };
  f.push_back(byReason("uvframe_connections_refused_total",
                       "Connections closed before they became clients, by reason: connection or "
                       "descriptor limit, access rules, PROXY header failures.",
                       true, s.refusedBy));
  f.push_back(byReason("uvframe_connections_closed_total",
                       "Client connections closed, by the reason their disconnected line gives.",
                       false, s.closedBy));
  f.push_back(counter("uvframe_frames_received_total", "Complete frames received (and logged).",
                      num(s.frames)));
  f.push_back(counter("uvframe_bytes_received_total",
                      "Bytes received from clients on the wire, frame headers included.",
                      num(s.bytes)));
  f.push_back(counter("uvframe_protocol_errors_total",
                      "Protocol errors (a frame above --max-frame, a bad header); each closes "
                      "its connection.",
                      num(s.protocolErrors)));
  f.push_back(counter("uvframe_timeouts_total",
                      "Connections closed for --idle-timeout, --frame-timeout or "
                      "--write-timeout.",
                      num(s.timeouts)));
  f.push_back(counter("uvframe_memory_stalls_total",
                      "Times reading a peer paused because --max-input-memory was spent.",
                      num(s.memoryStalls)));
  {
    // Buckets of 16 * 4^i bytes; the last one is +Inf, which the serializer
    // writes itself from the count.
    MetricFamily sizes{"uvframe_frame_size_bytes",
                       "Payload sizes of the frames received.",
                       MetricType::Histogram,
                       {}};
    ClientMetric m;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i + 1 < kFrameSizeBuckets; ++i) {
      cumulative += s.frameSizes[i];
      m.histogram.bucket.push_back({cumulative, num(frameSizeBucketBound(i))});
    }
    cumulative += s.frameSizes[kFrameSizeBuckets - 1];
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = num(s.payloadBytes);
    sizes.metric.push_back(std::move(m));
    f.push_back(std::move(sizes));
  }
  f.push_back(gauge("uvframe_input_memory_bytes",
                    "Receive storage lent to peers now (partial frames, reads in progress); "
                    "bounded by --max-input-memory.",
                    num(s.inputMemoryBytes)));
  f.push_back(counter("uvframe_log_lines_total",
                      "Log lines handed to the log writer (messages, connection and server "
                      "lines).",
                      num(snapshot.logLines)));
  f.push_back(counter("uvframe_log_lost_bytes_total",
                      "Bytes of log that could not be written (console and file counted "
                      "separately); only a shutdown that cannot wait longer loses any.",
                      num(snapshot.logLostBytes)));
  f.push_back(gauge("uvframe_build_info", "Always 1; the version label names the build.", 1,
                    {{"version", kVersion}}));
  f.push_back(gauge("uvframe_start_time_seconds", "Unix time the server started, in seconds.",
                    snapshot.startTimeSeconds));
#ifdef __linux__
  if (snapshot.processMetrics) addProcessFamilies(f);
#endif
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, f);
  return out.str();
}

}  // namespace uvframe
