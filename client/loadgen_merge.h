// uvframe-loadgen merge A.json B.json ... [--json OUT] [--histogram OUT]: one
// summary of runs made on several hosts at once, from their --json files.
//
//   counts            added: connections (requested, opened, failed, aborted,
//                     source retries), frames and bytes (sent, echoed), errors
//                     by kind
//   duration_s        the longest of the runs (they ran at the same time)
//   frames_per_s ...  the added counts over that duration
//   latency           percentiles, min and max from the merged histogram
//                     (histogram_json.h), never averaged; mean from the
//                     added sums
//   options           the first run's, with connections, threads and
//                     max_errors added, duration_s the longest, echo if any
//                     run echoed, frames_per_connection 0 unless all agree;
//                     "merged_from" lists the files
//
// The summary and the JSON have the layouts of a single run (loadgen_report.h),
// so a merged file can be merged again. A file that cannot be read, is not a
// run summary, has an error kind this build does not know, or has an --echo
// run without a histogram of this layout is an error: one line, exit 2.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "loadgen_options.h"
#include "loadgen_runner.h"

namespace uvframe {

/// One run read back from its --json file.
struct RunSummary {
  LoadgenOptions options;
  LoadResult result;
};

/// The run in j, or nullopt with error saying what is missing or wrong.
std::optional<RunSummary> runSummaryFromJson(const nlohmann::json& j, std::string& error);

/// Adds other into into, as described above.
void mergeRunSummary(RunSummary& into, const RunSummary& other);

/// Reads and merges the files; nullopt with error ("A.json: ...") for the
/// first that fails.
std::optional<RunSummary> mergeRunFiles(const std::vector<std::string>& paths, std::string& error);

/// The `merge` command: argv[0] is "merge", the rest its arguments. Prints
/// the summary on stdout; returns the exit status (0 or 1 as for a run: did
/// the merged run meet its targets; 2 on bad arguments or a bad file).
int runMergeCommand(int argc, char** argv);

/// For the main --help: how to call merge.
inline constexpr const char* kMergeUsage =
    "Merging runs made on several hosts at once:\n"
    "  uvframe-loadgen merge A.json B.json ... [--json OUT] [--histogram OUT]\n"
    "  adds the counts of the --json files, takes the longest duration, and computes\n"
    "  the latency percentiles from the merged histograms (see uvframe-loadgen merge --help)";

}  // namespace uvframe
