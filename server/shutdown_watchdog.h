// ShutdownWatchdog: the promise that SIGINT/SIGTERM ends the server within
// --drain-timeout plus about a second, also when the log cannot be written
// (a paused terminal, a pipe nobody reads, a full disk).
//
// The drain itself stops reading at --drain-timeout; what can still block
// after that is the log: workers and the control thread wait for free log
// blocks, and the writer thread may sit inside a write(2) that never
// returns. The watchdog is a thread of its own, so none of that can hold it:
//   deadline - a little:  LogWriter::abandon() — producers stop waiting, what
//                         is unwritten is counted as lost;
//   deadline:             still not done: report the lost bytes on stderr and
//                         _exit(1) (exit() could block on the same stuck
//                         descriptor while flushing stdio).
// The owner calls finished() once it has everything it needs written; the
// watchdog then ends without acting.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace uvframe {

class LogWriter;

/// Armed once, by the control thread, at the shutdown signal.
class ShutdownWatchdog {
 public:
  ShutdownWatchdog() = default;
  ~ShutdownWatchdog();
  ShutdownWatchdog(const ShutdownWatchdog&) = delete;
  ShutdownWatchdog& operator=(const ShutdownWatchdog&) = delete;

  /// Starts watching: abandon the log at abandonAt, end the process at
  /// exitAt (steady clock). Idempotent.
  void arm(LogWriter& writer, std::chrono::steady_clock::time_point abandonAt,
           std::chrono::steady_clock::time_point exitAt);
  /// The shutdown is done (or no longer needs the watchdog). Joins.
  void finished();
  bool armed() const { return thread_.joinable(); }

 private:
  void run(LogWriter& writer, std::chrono::steady_clock::time_point abandonAt,
           std::chrono::steady_clock::time_point exitAt);

  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace uvframe
