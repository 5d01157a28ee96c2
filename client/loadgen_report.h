// The load generator's outputs once a run is over: the summary table on
// stdout, the --json file, the --histogram percentile distribution (read by
// scripts/plot-latency.py), and the exit status with its reason.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "loadgen_options.h"
#include "loadgen_runner.h"

namespace uvframe {

/// The summary as JSON: the keys SPEC.md lists, plus the options used, and
/// with --echo the latency histogram's buckets ("latency_histogram", see
/// histogram_json.h) so that runs can be merged.
nlohmann::ordered_json resultJson(const LoadgenOptions& options, const LoadResult& result);

/// The summary table for people. Its first line describes the run
/// (describeRun), or says title when one is given (a merge of runs).
void printSummary(std::FILE* out, const LoadgenOptions& options, const LoadResult& result,
                  const std::string& title = {});

/// Writes text to path; false with error set when it cannot.
bool writeTextFile(const std::string& path, const std::string& text, std::string& error);

/// The percentile distribution in HdrHistogram's text layout, values in µs:
///   "       Value   Percentile   TotalCount 1/(1-Percentile)"
/// with '#' comment lines for the run's description, mean, max and count.
std::string histogramText(const LoadgenOptions& options, const LoadResult& result);

/// 0 when the run met its targets, 1 otherwise (why says what was missed).
int exitStatus(const LoadgenOptions& options, const LoadResult& result, std::string& why);

/// One line describing the run ("100 connections, closed loop, ...").
std::string describeRun(const LoadgenOptions& options);

}  // namespace uvframe
