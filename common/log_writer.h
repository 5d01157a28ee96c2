// LogWriter: the one thread that writes log text to the console and the log
// file, in whole blocks.
//
// Why not spdlog's stock async logger: it queues every line through one
// mutex-protected queue and wakes the writer per line; on two cores that
// tops out near 2.5 M lines/s, below what the server parses. Here each
// producer thread formats its lines (through spdlog, with spdlog's pattern)
// into a private 64 KiB block (BlockSink) and hands over whole blocks, so the
// lock and the write() are paid once per block, not once per line.
//
//   worker 0 ─ BlockSink ─┐                       ┌─> stdout (console)
//   worker 1 ─ BlockSink ─┼─ full blocks ─> LogWriter thread ─┤
//   control  ─ BlockSink ─┘   <─ empty blocks ─               └─> --log-file
//
// Nothing is dropped for being slow: when every block is queued, acquire()
// waits, the producer stops reading its sockets, and TCP pushes back on the
// clients. A write that fails (disk full, unwritable file) is retried with
// backoff for a while and reported on stderr; only a failure that outlasts
// the retry window loses the block, and every lost byte is counted and
// reported, never silent.
#pragma once

#include <spdlog/common.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uvframe {

/// Owns the output descriptors and the writer thread. acquire() and submit()
/// may be called from any thread; the rest from the owning (main) thread.
class LogWriter {
 public:
  using Block = spdlog::memory_buf_t;

  struct Options {
    bool console = true;   ///< write to standard output
    std::string filePath;  ///< append to this file as well (empty: none)
    std::size_t blockBytes = 64 * 1024;
    std::size_t maxBlocks = 32;                   ///< blocks in circulation at most
    std::chrono::milliseconds retryWindow{1000};  ///< per failing block
  };

  struct Counters {
    std::uint64_t bytesWritten = 0;
    std::uint64_t bytesLost = 0;
    std::uint64_t writeErrors = 0;
  };

  /// Opens the log file; throws std::runtime_error with a clear message if it
  /// cannot be opened.
  explicit LogWriter(Options options);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  /// An empty block with blockBytes reserved. Waits while every block is in
  /// the queue (backpressure).
  Block acquire();
  /// Queues a block for writing. An empty block is simply recycled.
  void submit(Block&& block);
  /// Asks the writer to reopen the log file before its next write (SIGHUP).
  void requestReopen();
  /// Writes everything queued so far and stops the thread. Idempotent.
  void stop();
  /// Blocks until everything submitted before the call has been written.
  void drain();

  std::size_t blockBytes() const { return options_.blockBytes; }
  Counters counters() const;
  const std::string& filePath() const { return options_.filePath; }

 private:
  void run();
  void writeBlock(const Block& block);
  std::size_t writeFileWithRetry(const char* data, std::size_t size);
  void reopenFile();
  void reportToStderr(const std::string& text);

  Options options_;
  int fileFd_ = -1;
  bool consoleEnabled_;

  mutable std::mutex mutex_;
  std::condition_variable workReady_;
  std::condition_variable blockFree_;
  std::condition_variable drained_;
  std::deque<Block> queue_;
  std::vector<Block> freeBlocks_;
  std::size_t blocksCreated_ = 0;
  std::uint64_t submitted_ = 0;
  std::uint64_t completed_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::atomic<bool> reopenRequested_{false};

  // Written by the writer thread only; read under mutex_ via counters().
  Counters counters_;
  bool failing_ = false;
  std::chrono::steady_clock::time_point lastReport_{};

  std::thread thread_;
};

}  // namespace uvframe
