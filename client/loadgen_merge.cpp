// uvframe-loadgen merge: see loadgen_merge.h.
#include "loadgen_merge.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "cli_support.h"
#include "histogram_json.h"
#include "loadgen_report.h"

namespace uvframe {
namespace {

using Json = nlohmann::json;

/// j[path[0]][path[1]]..., or nullptr when a step is missing.
const Json* find(const Json& j, std::initializer_list<const char*> path) {
  const Json* at = &j;
  for (const char* key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string pathText(std::initializer_list<const char*> path) {
  std::string text;
  for (const char* key : path)
    text += (text.empty() ? "" : ".") + std::string(key);
  return text;
}

/// Reads an unsigned count; a missing optional one is 0.
bool count(const Json& j, std::initializer_list<const char*> path, std::uint64_t& value,
           std::string& error, bool required = true) {
  const Json* at = find(j, path);
  if (at == nullptr && !required) {
    value = 0;
    return true;
  }
  if (at == nullptr || !at->is_number_unsigned()) {
    error = "no count " + pathText(path);
    return false;
  }
  value = at->get<std::uint64_t>();
  return true;
}

/// The options the summary and the exit status use; the rest keep defaults.
void readOptions(const Json& j, LoadgenOptions& o) {
  const Json* opts = find(j, {"options"});
  if (opts == nullptr || !opts->is_object()) return;
  o.host = opts->value("host", o.host);
  o.port = opts->value("port", o.port);
  o.connections = opts->value("connections", o.connections);
  o.durationS = opts->value("duration_s", o.durationS);
  o.framesPerConnection = opts->value("frames_per_connection", o.framesPerConnection);
  o.minSizeBytes = opts->value("size_min", o.minSizeBytes);
  o.maxSizeBytes = opts->value("size_max", o.maxSizeBytes);
  o.sizeText = o.minSizeBytes == o.maxSizeBytes
                   ? std::to_string(o.minSizeBytes)
                   : fmt::format("{}-{}", o.minSizeBytes, o.maxSizeBytes);
  o.rateFramesPerS = opts->value("rate", o.rateFramesPerS);
  o.connectRatePerS = opts->value("connect_rate", o.connectRatePerS);
  o.echo = opts->value("echo", o.echo);
  o.pipeline = opts->value("pipeline", o.pipeline);
  o.threads = opts->value("threads", o.threads);
  if (auto order = parseByteOrder(opts->value("byte_order", std::string("little")))) {
    o.byteOrder = *order;
  }
  o.maxFrameBytes = opts->value("max_frame", o.maxFrameBytes);
  if (auto kind = parseFramingKind(opts->value("framing", std::string("length")))) {
    o.framing.kind = *kind;
  }
  o.framing.lengthBytes = opts->value("length_bytes", o.framing.lengthBytes);
  o.framing.lengthOffset = opts->value("length_offset", o.framing.lengthOffset);
  o.framing.lengthAdjust = opts->value("length_adjust", o.framing.lengthAdjust);
  o.framing.byteOrder = o.byteOrder;
  o.framing.maxPayloadBytes = o.maxFrameBytes;
  o.maxErrors = opts->value("max_errors", o.maxErrors);
  o.warmupS = opts->value("warmup_s", o.warmupS);
  o.seed = opts->value("seed", o.seed);
  if (auto proxy = parseProxyProtocolVersion(opts->value("proxy_protocol", std::string("off")))) {
    o.proxyProtocol = *proxy;
  }
}

std::optional<RunSummary> parseSummary(const Json& j, std::string& error) {
  if (!j.is_object()) {
    error = "not a uvframe-loadgen --json summary";
    return std::nullopt;
  }
  RunSummary run;
  readOptions(j, run.options);
  LoadTotals& t = run.result.totals;
  std::uint64_t requested = 0;
  if (!count(j, {"connections", "opened"}, t.connectionsOpened, error) ||
      !count(j, {"connections", "failed"}, t.connectionsFailed, error) ||
      !count(j, {"connections", "aborted"}, t.connectionsAborted, error, false) ||
      !count(j, {"connections", "source_retries"}, t.sourceRetries, error, false) ||
      !count(j, {"connections", "requested"}, requested, error, false) ||
      !count(j, {"frames", "sent"}, t.framesSent, error) ||
      !count(j, {"frames", "echoed"}, t.framesEchoed, error, false) ||
      !count(j, {"bytes", "sent"}, t.bytesSent, error) ||
      !count(j, {"bytes", "echoed"}, t.bytesEchoed, error, false)) {
    return std::nullopt;
  }
  if (requested != 0) run.options.connections = static_cast<std::uint32_t>(requested);
  t.connectsStarted = t.connectionsOpened + t.connectionsFailed + t.connectionsAborted;
  const Json* duration = find(j, {"duration_s"});
  if (duration == nullptr || !duration->is_number() || duration->get<double>() < 0) {
    error = "no duration_s";
    return std::nullopt;
  }
  run.result.durationS = duration->get<double>();
  const Json* interrupted = find(j, {"interrupted"});
  run.result.interrupted =
      interrupted != nullptr && interrupted->is_boolean() && interrupted->get<bool>();
  const Json* errors = find(j, {"errors"});
  if (errors == nullptr || !errors->is_object()) {
    error = "no errors object";
    return std::nullopt;
  }
  for (const auto& [name, value] : errors->items()) {
    std::size_t kind = 0;
    while (kind < kErrorKindCount && errorKindName(static_cast<ErrorKind>(kind)) != name)
      ++kind;
    if (kind == kErrorKindCount || !value.is_number_unsigned()) {
      error = "unknown error kind or count errors." + name;
      return std::nullopt;
    }
    t.errors[kind] = value.get<std::uint64_t>();
  }
  if (const Json* tls = find(j, {"tls_failures"}); tls != nullptr && tls->is_object()) {
    for (const auto& [reason, value] : tls->items()) {
      if (value.is_number_unsigned()) t.tlsFailures[reason] += value.get<std::uint64_t>();
    }
  }
  const Json* histogram = find(j, {"latency_histogram"});
  if (histogram == nullptr && run.options.echo) {
    error = "an --echo run without latency_histogram (written by an older uvframe-loadgen?)";
    return std::nullopt;
  }
  if (histogram != nullptr) {
    auto h = histogramFromJson(*histogram, error);
    if (!h) return std::nullopt;
    run.result.latencies = *h;
  }
  return run;
}

}  // namespace

std::optional<RunSummary> runSummaryFromJson(const nlohmann::json& j, std::string& error) {
  try {
    return parseSummary(j, error);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("not a uvframe-loadgen --json summary: ") + e.what();
    return std::nullopt;
  }
}

void mergeRunSummary(RunSummary& into, const RunSummary& other) {
  LoadgenOptions& a = into.options;
  const LoadgenOptions& b = other.options;
  a.connections += b.connections;
  a.threads += b.threads;
  a.maxErrors += b.maxErrors;
  a.rateFramesPerS += b.rateFramesPerS;
  a.connectRatePerS += b.connectRatePerS;
  a.durationS = std::max(a.durationS, b.durationS);
  if (a.framesPerConnection != b.framesPerConnection) a.framesPerConnection = 0;
  a.echo = a.echo || b.echo;

  LoadTotals& t = into.result.totals;
  const LoadTotals& u = other.result.totals;
  t.connectsStarted += u.connectsStarted;
  t.connectionsOpened += u.connectionsOpened;
  t.connectionsFailed += u.connectionsFailed;
  t.connectionsAborted += u.connectionsAborted;
  t.sourceRetries += u.sourceRetries;
  t.framesSent += u.framesSent;
  t.bytesSent += u.bytesSent;
  t.framesEchoed += u.framesEchoed;
  t.bytesEchoed += u.bytesEchoed;
  for (std::size_t i = 0; i < kErrorKindCount; ++i)
    t.errors[i] += u.errors[i];
  for (const auto& [reason, count] : u.tlsFailures)
    t.tlsFailures[reason] += count;
  into.result.latencies.merge(other.result.latencies);
  into.result.durationS = std::max(into.result.durationS, other.result.durationS);
  into.result.interrupted = into.result.interrupted || other.result.interrupted;
}

std::optional<RunSummary> mergeRunFiles(const std::vector<std::string>& paths, std::string& error) {
  std::optional<RunSummary> merged;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    Json j = Json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) {
      error = path + ": not JSON";
      return std::nullopt;
    }
    std::string why;
    auto run = runSummaryFromJson(j, why);
    if (!run) {
      error = path + ": " + why;
      return std::nullopt;
    }
    if (merged) {
      mergeRunSummary(*merged, *run);
    } else {
      merged = std::move(run);
    }
  }
  if (!merged) error = "no files to merge";
  return merged;
}

int runMergeCommand(int argc, char** argv) {
  CLI::App app{
      "uvframe-loadgen merge: one summary of runs made on several hosts at once, from their "
      "--json files (counts added, the longest duration, latency percentiles from the merged "
      "histograms)",
      "uvframe-loadgen merge"};
  std::vector<std::string> files;
  std::string jsonPath;
  std::string histogramPath;
  app.add_option("files", files, "the runs' --json files")->required();
  app.add_option("--json", jsonPath, "write the merged summary as JSON to this file");
  app.add_option("--histogram", histogramPath,
                 "write the merged latency percentile distribution (text, for plot-latency.py)");
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  std::string error;
  auto merged = mergeRunFiles(files, error);
  if (!merged) {
    std::fprintf(stderr, "uvframe-loadgen merge: error: %s\n", error.c_str());
    return 2;
  }
  const LoadgenOptions& o = merged->options;
  const LoadResult& r = merged->result;
  std::string names;
  for (const auto& f : files)
    names += (names.empty() ? "" : ", ") + f;
  printSummary(stdout, o, r,
               fmt::format("merge of {} runs ({}): {}", files.size(), names, describeRun(o)));
  if (!jsonPath.empty()) {
    nlohmann::ordered_json j = resultJson(o, r);
    j["merged_from"] = files;
    if (!writeTextFile(jsonPath, j.dump(2) + "\n", error)) {
      std::fprintf(stderr, "uvframe-loadgen merge: error: %s\n", error.c_str());
      return 1;
    }
  }
  if (!histogramPath.empty() && !writeTextFile(histogramPath, histogramText(o, r), error)) {
    std::fprintf(stderr, "uvframe-loadgen merge: error: %s\n", error.c_str());
    return 1;
  }
  std::string why;
  return exitStatus(o, r, why);
}

}  // namespace uvframe
