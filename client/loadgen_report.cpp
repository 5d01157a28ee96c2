// Load generator outputs: see loadgen_report.h.
#include "loadgen_report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "cli_support.h"
#include "histogram_json.h"

namespace uvframe {
namespace {

struct Rates {
  double framesPerS;
  double mbPerS;
  double echoedPerS;
};

Rates ratesOf(const LoadResult& r) {
  double d = r.durationS > 0 ? r.durationS : 1e-9;
  return {static_cast<double>(r.totals.framesSent) / d,
          static_cast<double>(r.totals.bytesSent) / d / 1e6,
          static_cast<double>(r.totals.framesEchoed) / d};
}

double micros(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

// Rounded to 0.001 µs so the JSON stays readable.
double roundedMicros(std::uint64_t ns) {
  return std::round(micros(ns) * 1000.0) / 1000.0;
}

nlohmann::ordered_json optionsJson(const LoadgenOptions& o) {
  nlohmann::ordered_json j;
  j["host"] = o.host;
  j["port"] = o.port;
  j["connections"] = o.connections;
  j["duration_s"] = o.durationS;
  j["frames_per_connection"] = o.framesPerConnection;
  j["size_min"] = o.minSizeBytes;
  j["size_max"] = o.maxSizeBytes;
  j["model"] = o.openLoop() ? "open" : "closed";
  j["rate"] = o.rateFramesPerS;
  j["connect_rate"] = o.connectRatePerS;
  j["echo"] = o.echo;
  j["pipeline"] = o.pipeline;
  j["threads"] = o.threads;
  j["byte_order"] = std::string(toString(o.byteOrder));
  j["max_frame"] = o.maxFrameBytes;
  j["framing"] = std::string(toString(o.framing.kind));
  if (o.framing.kind == FramingKind::kLength) {
    j["length_bytes"] = o.framing.lengthBytes;
    j["length_offset"] = o.framing.lengthOffset;
    j["length_adjust"] = o.framing.lengthAdjust;
  }
  j["source_addresses"] = o.sourceAddresses;
  j["max_errors"] = o.maxErrors;
  j["connect_timeout_s"] = o.connectTimeoutS;
  j["drain_timeout_s"] = o.drainTimeoutS;
  j["warmup_s"] = o.warmupS;
  j["seed"] = o.seed;
  j["proxy_protocol"] = std::string(toString(o.proxyProtocol));
  j["tls"] = o.tls.enabled;
  if (o.tls.enabled) {
    j["tls_ca"] = o.tls.caFile;
    j["tls_cert"] = o.tls.certFile;
    j["tls_server_name"] = o.tls.serverName.empty() ? o.host : o.tls.serverName;
  }
  return j;
}

/// Connect time of the opened connections (TCP, plus the TLS handshake with
/// --tls) and how fast they opened; false when the run did not measure it.
struct ConnectFigures {
  double meanMs = 0;
  double maxMs = 0;
  double perS = 0;
};

bool connectFiguresOf(const LoadResult& r, ConnectFigures& f) {
  const LoadTotals& t = r.totals;
  if (t.connectionsOpened == 0 || r.connectSpanS <= 0) return false;
  f.meanMs = static_cast<double>(t.connectNsTotal) / static_cast<double>(t.connectionsOpened) / 1e6;
  f.maxMs = static_cast<double>(t.connectNsMax) / 1e6;
  f.perS = static_cast<double>(t.connectionsOpened) / r.connectSpanS;
  return true;
}

}  // namespace

std::string describeRun(const LoadgenOptions& o) {
  std::string model = o.openLoop() ? fmt::format("open loop at {:g} frames/s", o.rateFramesPerS)
                                   : fmt::format("closed loop, pipeline {}", o.pipeline);
  std::string size = o.minSizeBytes == o.maxSizeBytes
                         ? fmt::format("{} B", o.minSizeBytes)
                         : fmt::format("{}-{} B", o.minSizeBytes, o.maxSizeBytes);
  std::string amount = o.framesPerConnection != 0
                           ? fmt::format("{} frames per connection", o.framesPerConnection)
                           : fmt::format("{:g} s", o.durationS);
  // The framing only when it is not the default 4-byte length.
  FramingOptions plain;
  plain.byteOrder = o.framing.byteOrder;
  plain.maxPayloadBytes = o.framing.maxPayloadBytes;
  std::string framing =
      o.framing == plain ? std::string() : fmt::format(", {}", describeFraming(o.framing));
  std::string proxy = o.proxyProtocol == ProxyProtocolVersion::kOff
                          ? std::string()
                          : fmt::format(", PROXY {} headers", toString(o.proxyProtocol));
  return fmt::format("{}:{}, {} connections on {} threads, {}, {} payloads, {}{}{}{}{}", o.host,
                     o.port, o.connections, o.threads, model, size, amount, o.echo ? ", echo" : "",
                     framing, proxy, o.tls.enabled ? ", TLS" : "");
}

nlohmann::ordered_json resultJson(const LoadgenOptions& o, const LoadResult& r) {
  const LoadTotals& t = r.totals;
  Rates rates = ratesOf(r);
  nlohmann::ordered_json j;
  j["connections"] = {
      {"requested", o.connections},
      {"opened", t.connectionsOpened},
      {"failed", t.connectionsFailed},
      {"aborted", t.connectionsAborted},
      {"not_started", o.connections - std::min<std::uint64_t>(
                                          o.connections, t.connectionsOpened + t.connectionsFailed +
                                                             t.connectionsAborted)},
      {"source_retries", t.sourceRetries}};
  if (ConnectFigures f; connectFiguresOf(r, f)) {
    // With --tls a connect ends when the handshake is done.
    j["connect"] = {{"per_s", std::round(f.perS * 10) / 10},
                    {"mean_ms", std::round(f.meanMs * 1000) / 1000},
                    {"max_ms", std::round(f.maxMs * 1000) / 1000},
                    {"span_s", r.connectSpanS},
                    {"includes_tls_handshake", o.tls.enabled}};
  }
  j["frames"] = {{"sent", t.framesSent}, {"echoed", t.framesEchoed}};
  j["bytes"] = {{"sent", t.bytesSent}, {"echoed", t.bytesEchoed}};
  j["duration_s"] = r.durationS;
  j["frames_per_s"] = rates.framesPerS;
  j["mb_per_s"] = rates.mbPerS;
  if (o.echo) {
    const LatencyHistogram& h = r.latencies;
    j["echoed_frames_per_s"] = rates.echoedPerS;
    j["latency_us"] = {{"p50", roundedMicros(h.valueAtPercentile(50))},
                       {"p90", roundedMicros(h.valueAtPercentile(90))},
                       {"p99", roundedMicros(h.valueAtPercentile(99))},
                       {"p999", roundedMicros(h.valueAtPercentile(99.9))},
                       {"p9999", roundedMicros(h.valueAtPercentile(99.99))},
                       {"max", roundedMicros(h.maxNs())},
                       {"min", roundedMicros(h.minNs())},
                       {"mean", std::round(h.meanNs()) / 1e3},
                       {"samples", h.count()}};
    j["latency_histogram"] = histogramToJson(h);
  }
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    errors[std::string(errorKindName(static_cast<ErrorKind>(i)))] = t.errors[i];
  }
  j["errors"] = errors;
  if (!t.tlsFailures.empty()) j["tls_failures"] = t.tlsFailures;
  j["errors_total"] = t.totalErrors();
  j["interrupted"] = r.interrupted;
  std::string why;
  j["exit_status"] = exitStatus(o, r, why);
  if (!why.empty()) j["failure"] = why;
  j["options"] = optionsJson(o);
  return j;
}

void printSummary(std::FILE* out, const LoadgenOptions& o, const LoadResult& r,
                  const std::string& title) {
  const LoadTotals& t = r.totals;
  Rates rates = ratesOf(r);
  fmt::print(out, "uvframe-loadgen {}: {}\n", kVersion, title.empty() ? describeRun(o) : title);
  fmt::print(out, "  {:<16}{:.3f} s{}\n", "duration", r.durationS,
             r.interrupted ? " (interrupted)" : "");
  fmt::print(out, "  {:<16}opened {}, failed {}, aborted {}\n", "connections", t.connectionsOpened,
             t.connectionsFailed, t.connectionsAborted);
  if (ConnectFigures f; connectFiguresOf(r, f)) {
    fmt::print(out, "  {:<16}{:.0f}/s{}, mean {:.3f} ms, max {:.3f} ms\n", "connects", f.perS,
               o.tls.enabled ? " (TLS handshakes included)" : "", f.meanMs, f.maxMs);
  }
  fmt::print(out, "  {:<16}{}  ({:.0f} frames/s)\n", "frames sent", t.framesSent, rates.framesPerS);
  fmt::print(out, "  {:<16}{}  ({:.2f} MB/s, headers included)\n", "bytes sent", t.bytesSent,
             rates.mbPerS);
  if (o.echo) {
    const LatencyHistogram& h = r.latencies;
    fmt::print(out, "  {:<16}{}  ({:.0f} frames/s), {} bytes\n", "frames echoed", t.framesEchoed,
               rates.echoedPerS, t.bytesEchoed);
    fmt::print(
        out,
        "  {:<16}p50 {:.1f}  p90 {:.1f}  p99 {:.1f}  p99.9 {:.1f}  p99.99 {:.1f}  max {:.1f}\n",
        "latency (us)", micros(h.valueAtPercentile(50)), micros(h.valueAtPercentile(90)),
        micros(h.valueAtPercentile(99)), micros(h.valueAtPercentile(99.9)),
        micros(h.valueAtPercentile(99.99)), micros(h.maxNs()));
  }
  std::string errors;
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    if (t.errors[i] == 0) continue;
    errors += fmt::format("{}{}={}", errors.empty() ? "" : ", ",
                          errorKindName(static_cast<ErrorKind>(i)), t.errors[i]);
  }
  fmt::print(out, "  {:<16}{}\n", "errors", errors.empty() ? "none" : errors);
  for (const auto& [reason, count] : t.tlsFailures)
    fmt::print(out, "  {:<16}{} x {}\n", "tls failure", count, reason);
  std::string why;
  int status = exitStatus(o, r, why);
  fmt::print(out, "  {:<16}{}\n", "result", status == 0 ? "ok" : "FAILED: " + why);
  std::fflush(out);
}

bool writeTextFile(const std::string& path, const std::string& text, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) error = "cannot write " + path + ": " + std::strerror(errno);
  return ok;
}

std::string histogramText(const LoadgenOptions& o, const LoadResult& r) {
  const LatencyHistogram& h = r.latencies;
  std::string text = "# uvframe-loadgen latency distribution, values in microseconds\n";
  text += "# run: " + describeRun(o) + "\n";
  text += fmt::format("{:>15} {:>12} {:>12} {:>14}\n\n", "Value", "Percentile", "TotalCount",
                      "1/(1-Percentile)");
  for (const auto& row : h.distribution()) {
    double fraction = row.percentile / 100.0;
    std::string inverse = fraction < 1.0 ? fmt::format("{:14.2f}", 1.0 / (1.0 - fraction))
                                         : std::string("           inf");
    text += fmt::format("{:15.3f} {:12.6f} {:12} {}\n", micros(row.valueNs), fraction,
                        row.countAtOrBelow, inverse);
  }
  text += fmt::format("#[Mean    = {:12.3f}, StdDeviation   = {:12.3f}]\n", h.meanNs() / 1e3,
                      h.stddevNs() / 1e3);
  text +=
      fmt::format("#[Max     = {:12.3f}, Total count    = {:12}]\n", micros(h.maxNs()), h.count());
  return text;
}

int exitStatus(const LoadgenOptions& o, const LoadResult& r, std::string& why) {
  const LoadTotals& t = r.totals;
  if (t.totalErrors() > o.maxErrors) {
    why = fmt::format("{} errors (--max-errors {})", t.totalErrors(), o.maxErrors);
    return 1;
  }
  // A run stopped by a signal ends early by request: only errors count.
  if (r.interrupted) return 0;
  if (t.connectionsOpened + t.connectionsFailed < o.connections) {
    why = fmt::format("only {} of {} connections were tried before the run ended",
                      t.connectionsOpened + t.connectionsFailed, o.connections);
    return 1;
  }
  if (t.connectionsOpened == 0) {
    why = "no connection opened";
    return 1;
  }
  std::uint64_t wanted = o.framesPerConnection * t.connectionsOpened;
  if (o.framesPerConnection != 0 && t.connectionsFailed == 0 && t.framesSent < wanted) {
    why = fmt::format("{} of {} frames sent", t.framesSent, wanted);
    return 1;
  }
  return 0;
}

}  // namespace uvframe
