// ShutdownWatchdog: see shutdown_watchdog.h.
#include "shutdown_watchdog.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "log_writer.h"

namespace uvframe {

ShutdownWatchdog::~ShutdownWatchdog() {
  finished();
}

void ShutdownWatchdog::arm(LogWriter& writer, std::chrono::steady_clock::time_point abandonAt,
                           std::chrono::steady_clock::time_point exitAt) {
  if (thread_.joinable()) return;
  thread_ = std::thread([this, &writer, abandonAt, exitAt] { run(writer, abandonAt, exitAt); });
}

void ShutdownWatchdog::finished() {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  done_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ShutdownWatchdog::run(LogWriter& writer, std::chrono::steady_clock::time_point abandonAt,
                           std::chrono::steady_clock::time_point exitAt) {
  std::unique_lock lock(mutex_);
  if (done_.wait_until(lock, abandonAt, [this] { return finished_; })) return;
  lock.unlock();
  writer.abandon();
  lock.lock();
  if (done_.wait_until(lock, exitAt, [this] { return finished_; })) return;
  // Still not done: something holds the process that no deadline can reach
  // (a write(2) to a console nobody reads). Say what was lost and go.
  LogWriter::Counters c = writer.counters();
  std::string text = "uvframe-server: " + std::to_string(c.bytesLost + c.bytesPending) +
                     " bytes of log could not be written (the shutdown did not finish within "
                     "--drain-timeout plus a second; the log output is stuck)\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  _exit(1);
}

}  // namespace uvframe
