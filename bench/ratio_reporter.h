// RatioReporter: Google Benchmark's console reporter that also remembers one
// rate counter per benchmark, so a benchmark's main() can print how a scenario
// compares with its reference (codec vs memcpy, log path vs raw fmt) once all
// runs are done.
//
// With --benchmark_repetitions the median aggregate is used; without, the mean
// of the iteration runs of that name. Besides the main counter, any other
// counter can be compared by naming it (printRatio's last argument).
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace uvframe::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  /// counterName: the rate to remember ("bytes_per_second", "items_per_second").
  explicit RatioReporter(std::string counterName)
      : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular),
        counterName_(std::move(counterName)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs)
      record(run);
    ConsoleReporter::ReportRuns(runs);
  }

  /// The remembered rate of the benchmark named name (without aggregate
  /// suffix): the main counter, or the one named.
  std::optional<double> rate(const std::string& name, const std::string& counter = {}) const {
    auto it = rates_.find((counter.empty() ? counterName_ : counter) + "\n" + name);
    if (it == rates_.end()) return std::nullopt;
    const Entry& e = it->second;
    if (e.hasMedian) return e.median;
    if (e.iterationRuns == 0) return std::nullopt;
    return e.iterationSum / e.iterationRuns;
  }

  /// Prints "label: a / b = r (target >= t)" and returns r (0 when missing).
  double printRatio(const std::string& label, const std::string& numerator,
                    const std::string& denominator, double target = 0.0,
                    const std::string& counter = {}) const {
    auto a = rate(numerator, counter);
    auto b = rate(denominator, counter);
    if (!a || !b || *b <= 0) {
      std::printf("%-52s n/a (%s or %s did not run)\n", label.c_str(), numerator.c_str(),
                  denominator.c_str());
      return 0.0;
    }
    double r = *a / *b;
    if (target > 0) {
      std::printf("%-52s %6.3f  (%s)  target >= %.2f: %s\n", label.c_str(), r, numerator.c_str(),
                  target, r >= target ? "met" : "MISSED");
    } else {
      std::printf("%-52s %6.3f  (%s)\n", label.c_str(), r, numerator.c_str());
    }
    return r;
  }

 private:
  struct Entry {
    bool hasMedian = false;
    double median = 0;
    double iterationSum = 0;
    int iterationRuns = 0;
  };

  void record(const Run& run) {
    if (run.error_occurred) return;
    for (const auto& [counter, value] : run.counters) {
      Entry& e = rates_[counter + "\n" + run.run_name.str()];
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") {
          e.hasMedian = true;
          e.median = value.value;
        }
      } else {
        e.iterationSum += value.value;
        ++e.iterationRuns;
      }
    }
  }

  std::string counterName_;
  std::map<std::string, Entry> rates_;  ///< by "counter\nbenchmark name"
};

}  // namespace uvframe::bench
