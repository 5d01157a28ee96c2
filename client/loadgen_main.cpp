// uvframe-loadgen: opens thousands of connections to a uvframe server,
// stresses it in a closed loop (--pipeline) or an open loop (--rate), checks
// echoes (--echo), and reports throughput, latency percentiles and errors by
// kind: a progress line per second on stderr, a summary on stdout, and
// optionally --json and --histogram files. Exit status: 0 when the run met
// its targets, 1 when errors occurred (beyond --max-errors) or targets were
// missed, 2 on bad arguments. `uvframe-loadgen merge A.json B.json ...`
// merges the --json files of runs made on several hosts (loadgen_merge.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "cli_support.h"
#include "host_resolver.h"
#include "loadgen_merge.h"
#include "loadgen_options.h"
#include "loadgen_report.h"
#include "loadgen_runner.h"
#include "payload_pattern.h"
#include "peer_address.h"

namespace {

using namespace uvframe;

int badArguments(const std::string& text) {
  std::fprintf(stderr, "uvframe-loadgen: error: %s (see --help)\n", text.c_str());
  return 2;
}

int failure(const std::string& text) {
  std::fprintf(stderr, "uvframe-loadgen: error: %s\n", text.c_str());
  return 1;
}

/// Resolves the destination and the source addresses into plan; returns an
/// exit status (1 or 2) on failure, or -1.
int preparePlan(const LoadgenOptions& o, LoadPlan& plan) {
  ResolvedHost resolved = resolveHost(o.host, o.port);
  const sockaddr_storage* destination = preferIpv4(resolved);
  if (destination == nullptr) return failure("cannot resolve '" + o.host + "': " + resolved.error);
  plan.destination = *destination;
  if (auto peer = peerFromSockaddr(reinterpret_cast<const sockaddr*>(destination))) {
    plan.proxyDestination = *peer;
  }
  for (const auto& text : o.sourceAddresses) {
    sockaddr_storage source{};
    parseNumericAddress(text, 0, &source, sizeof source);
    if (source.ss_family != destination->ss_family) {
      return badArguments("--source-address " + text + " is not of the same family as " +
                          addressText(reinterpret_cast<const sockaddr*>(destination)));
    }
    plan.sources.push_back(source);
  }
  if (o.tls.enabled) {
    std::string error;
    plan.tls = makeClientTlsContext(o.tls, o.host, error);
    if (!plan.tls) return failure("TLS: " + error);
  }
  if (o.openLoop()) {
    double periodNs = 1e9 * static_cast<double>(o.connections) / o.rateFramesPerS;
    plan.framePeriodNs = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(periodNs));
  }
  return -1;
}

int writeOutputs(const LoadgenOptions& o, const LoadResult& result) {
  std::string error;
  if (!o.jsonPath.empty() &&
      !writeTextFile(o.jsonPath, resultJson(o, result).dump(2) + "\n", error)) {
    return failure(error);
  }
  if (!o.histogramPath.empty() &&
      !writeTextFile(o.histogramPath, histogramText(o, result), error)) {
    return failure(error);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "merge") return runMergeCommand(argc - 1, argv + 1);
  CLI::App app{"uvframe-loadgen: opens many connections to a uvframe server and stresses it",
               "uvframe-loadgen"};
  app.footer(kMergeUsage);
  app.set_version_flag("--version", kVersion);
  LoadgenOptions options;
  addLoadgenOptions(app, options);
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (std::string error = finishLoadgenOptions(options, std::thread::hardware_concurrency());
      !error.empty()) {
    return badArguments(error);
  }
  ignoreSigpipe();
  unsigned long fdLimit = raiseFileDescriptorLimit();
  if (fdLimit != 0 && options.connections + 64 > fdLimit) {
    std::fprintf(stderr,
                 "uvframe-loadgen: warning: %u connections but only %lu file descriptors; "
                 "the rest will fail as connect_no_descriptors\n",
                 options.connections, fdLimit);
  }
  try {
    LoadPlan plan;
    plan.options = &options;
    if (int rc = preparePlan(options, plan); rc >= 0) return rc;
    PayloadPattern pattern(options.maxSizeBytes);
    plan.pattern = &pattern;
    LoadRunner runner(plan);
    LoadResult result = runner.run();
    printSummary(stdout, options, result);
    if (int rc = writeOutputs(options, result); rc >= 0) return rc;
    std::string why;
    return exitStatus(options, result, why);
  } catch (const std::exception& e) {
    return failure(e.what());
  }
}
