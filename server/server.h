// Server: the whole uvframe-server process — the log writer, the workers
// (one loop thread each), and the control loop on the main thread that
// handles signals, prints the stats lines and, with --metrics, answers
// GET /metrics and /healthz (metrics_http.h: on this loop because it never
// waits for the log, so scrapes work while the log blocks; the counters are
// summed per scrape, metrics_collector.h).
#pragma once

#include <spdlog/logger.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "log_writer.h"
#include "metrics_http.h"
#include "server_counters.h"
#include "server_options.h"
#include "service_notifier.h"
#include "shutdown_watchdog.h"
#include "uv_handle.h"
#include "worker.h"

namespace uvframe {

/// Runs on the main thread; owns everything else.
class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Listens, serves until SIGINT/SIGTERM, drains, and returns the exit code.
  int run();

 private:
  static void onSignal(uv_signal_t* handle, int signum) noexcept;
  static void onStatsTimer(uv_timer_t* timer) noexcept;
  static void onReopenDone(uv_async_t* async) noexcept;
  static void onWorkerDone(uv_async_t* async) noexcept;

  bool openLog();
  bool startListening();
  bool startMetrics();
  HttpResponse answerHttp(std::string_view path);
  void handleSignal(int signum);
  void reloadTls();
  void beginShutdown(int signum);
  void handleReopenDone();
  void handleWorkerDone();
  int finish();
  CounterTotals totals() const;
  void logStats(bool final);

  ServerOptions options_;
  SharedServerState shared_;
  std::unique_ptr<LogWriter> writer_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::string acceptMode_;
  unsigned long maxDescriptors_ = 0;

  uv_signal_t sigint_;
  uv_signal_t sigterm_;
  uv_signal_t sighup_;
  uv_signal_t sigbreak_;  ///< Windows only: Ctrl+Break
  uv_timer_t statsTimer_;
  uv_async_t reopenDone_;  ///< the log writer reopened (or failed to)
  uv_async_t workerDone_;  ///< a worker's loop has ended
  bool stopping_ = false;
  std::atomic<unsigned> workersDone_{0};
  std::mutex reopenMutex_;
  std::vector<std::string> reopenErrors_;  ///< "" for a reopen that worked
  std::chrono::steady_clock::time_point shutdownDeadline_{};
  ShutdownWatchdog watchdog_;
  ServiceNotifier notifier_;
  std::string listeningAddress_;  ///< "0.0.0.0:9000", the real port (after --port 0)
  std::uint64_t startMs_ = 0;
  std::uint64_t lastStatsMs_ = 0;
  CounterTotals lastTotals_;
  double startUnixSeconds_ = 0;
  UvLoop loop_;
  // After loop_, so destroyed before it: its handles' close callbacks (which
  // only free them) then run in the loop's destructor.
  std::unique_ptr<HttpResponder> metrics_;
};

}  // namespace uvframe
