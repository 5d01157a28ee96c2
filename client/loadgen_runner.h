// LoadRunner: the coordinator of one load generator run. It starts one
// LoadClient per --threads on its own thread, each with its share of the
// connections (connection i goes to loop i % threads), and on the main thread
// runs a small loop of its own for what is global: SIGINT/SIGTERM (first: stop
// and drain; second: close at once), the progress line on stderr each
// --progress-interval, and the notice that every loop has finished. Then it
// adds up the counters and merges the latency histograms.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "latency_histogram.h"
#include "load_client.h"
#include "loadgen_stats.h"
#include "uv_handle.h"

namespace uvframe {

/// What a run measured.
struct LoadResult {
  LoadTotals totals;
  LatencyHistogram latencies;  ///< µs-accurate samples in ns (with --echo)
  double durationS = 0;        ///< start to the last frame sent, echoed or read by the server
  double connectSpanS = 0;     ///< start to the last connection opened (0: unknown, e.g. merged)
  bool interrupted = false;    ///< stopped by SIGINT/SIGTERM
};

/// Used by the main thread only (the loops run on threads it owns).
class LoadRunner {
 public:
  /// plan.startNs and plan.deadlineNs are set by run().
  explicit LoadRunner(LoadPlan plan);
  ~LoadRunner();
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;

  LoadResult run();

 private:
  static void onSignal(uv_signal_t* handle, int signum) noexcept;
  static void onProgress(uv_timer_t* timer) noexcept;
  static void onLoopFinished(uv_async_t* async) noexcept;

  void startHandles();
  void closeHandles();
  void printProgress();
  LoadTotals totals() const;
  LatencyHistogram mergedLatencies() const;

  UvLoop loop_;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_timer_t progressTimer_{};
  uv_async_t finishedAsync_{};
  LoadPlan plan_;
  std::vector<std::unique_ptr<LoadCounters>> counters_;
  std::vector<std::unique_ptr<PublishedHistogram>> published_;
  std::vector<std::unique_ptr<LoadClient>> clients_;
  std::vector<std::thread> threads_;
  std::atomic<unsigned> finishedLoops_{0};
  int signalsSeen_ = 0;
  bool handlesClosed_ = false;
  std::uint64_t lastProgressNs_ = 0;
  std::uint64_t lastFramesSent_ = 0;
  std::uint64_t lastBytesSent_ = 0;
  std::uint64_t lastFramesEchoed_ = 0;
};

}  // namespace uvframe
