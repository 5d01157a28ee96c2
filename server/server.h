// Server: the whole uvframe-server process — the log writer, the workers
// (one loop thread each), and the control loop on the main thread that
// handles signals and prints the stats lines.
#pragma once

#include <spdlog/logger.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "log_writer.h"
#include "server_counters.h"
#include "server_options.h"
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
  struct Totals {
    std::uint64_t accepted = 0, refused = 0, closed = 0, frames = 0, bytes = 0, errors = 0,
                  timeouts = 0, protocolErrors = 0, resets = 0, inputMemory = 0, stalls = 0;
  };

  static void onSignal(uv_signal_t* handle, int signum) noexcept;
  static void onStatsTimer(uv_timer_t* timer) noexcept;

  bool startListening();
  void handleSignal(int signum);
  Totals totals() const;
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
  uv_timer_t statsTimer_;
  bool stopping_ = false;
  std::uint64_t startMs_ = 0;
  std::uint64_t lastStatsMs_ = 0;
  Totals lastTotals_;
  UvLoop loop_;
};

}  // namespace uvframe
