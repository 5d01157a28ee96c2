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
//   worker 0 ─ BlockSink ─┐                                   ┌─> stdout (console)
//   worker 1 ─ BlockSink ─┼─ full blocks ─> LogWriter thread ─┤
//   control  ─ BlockSink ─┘   <─ empty blocks ─               └─> --log-file
//
// The promise (SPEC, "under faults and abuse"): nothing is dropped for being
// slow or for a failing disk.
// - A failing file write (disk full, EIO) is retried forever with backoff
//   (20 ms doubling to 500 ms), resuming after the bytes that did reach the
//   file. Later blocks wait in the queue; once every block is queued,
//   acquire() waits, the producers stop reading their sockets, and TCP pushes
//   back on the clients. stderr hears about it at the first failure, at most
//   every reportInterval while it lasts, and once when the file works again.
// - A console that would block (EAGAIN on a non-blocking stdout) is waited
//   for with poll(); a console that is gone (EPIPE, EBADF, ...) is switched
//   off with one stderr line, and every console byte from then on is counted
//   in consoleBytesLost.
// - Only abandon() (a shutdown that cannot wait longer) gives up: the bytes
//   still queued or being retried are counted as lost, acquire() stops
//   waiting and submit() discards (and counts) what it gets.
// - With maxFileBytes and maxFiles the writer rotates the file itself at a
//   line boundary (log_rotation.h): a file passes the size by at most one
//   line, and every line is whole in exactly one file.
// - The file never gets a line glued onto a cut one: when its last byte is not
//   '\n' (a block abandoned mid-write, a file failing mid-block and then
//   rotated, another process's partial line), the next block starts with '\n'.
//
// The owner's shutdown, with a deadline (the server's --drain-timeout):
//
//   stop producing (workers drain)    ── may wait in acquire() while the log is stuck
//   deadline passed?  abandon()        ── unblocks acquire(); the rest counts as lost
//   join the producers, log the final lines
//   bool done = stopWithin(timeLeft)   ── writes what it can, then abandons the rest
//   Counters c = counters()            ── c.bytesLost: what could not be written
//   c.bytesLost > 0: report on stderr, exit status 1
//   !done: the writer thread is stuck inside write(2) (a paused terminal, a
//          pipe nobody reads) and cannot be interrupted: report, then _exit(1)
//          (exit() could block flushing stdio on the same stuck descriptor)
//
// The owner must ignore SIGPIPE (a console pipe whose reader is gone must give
// EPIPE, not death); the server does so in main().
#pragma once

#include <spdlog/common.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace uvframe {

/// Owns the output descriptors and the writer thread.
/// - acquire(), submit(): any producer thread.
/// - requestReopen(), abandon(), drain(), counters(): any thread.
/// - stop(), stopWithin() and the destructor: the owning thread, one at a time.
/// - Options::onReopened runs on the writer thread.
class LogWriter {
 public:
  using Block = spdlog::memory_buf_t;

  struct Options {
    bool console = true;   ///< write to the console (standard output)
    std::string filePath;  ///< append to this file as well (empty: none)
    std::size_t blockBytes = 64 * 1024;
    /// Blocks in circulation at most (until abandon()). A block submitted
    /// while the writer is behind is appended to the last queued one if it
    /// fits, so the queue holds up to maxBlocks x blockBytes of lines.
    std::size_t maxBlocks = 32;
    /// Called on the writer thread after each reopen attempt (requestReopen()):
    /// ok, or the reason it failed (strerror text; the old file stays in use).
    /// It must return quickly and must not log through a logger of this
    /// writer: that could wait for a block only this thread frees. Hand the
    /// result to your own loop (uv_async_send) and log it there.
    std::function<void(bool ok, const std::string& error)> onReopened{};
    /// A failing file is reported at its first failure, then at most this often.
    std::chrono::milliseconds reportInterval{10000};
    int consoleFd = 1;  ///< the console's descriptor (tests use a pipe)
    /// Rotation by size (log_rotation.h): once the file holds maxFileBytes,
    /// at the end of the line that reached it, the file is renamed to
    /// filePath.1 (and so on up to filePath.maxFiles) and a new one opened.
    /// Either 0: no rotation.
    std::uint64_t maxFileBytes = 0;
    unsigned maxFiles = 0;
  };

  struct Counters {
    std::uint64_t bytesWritten = 0;         ///< to the file (a '\n' after a cut line included)
    std::uint64_t consoleBytesWritten = 0;  ///< to the console
    std::uint64_t fileBytesLost = 0;        ///< never reached the file (only after abandon())
    std::uint64_t consoleBytesLost = 0;  ///< never reached the console (console gone, or abandon())
    /// fileBytesLost + consoleBytesLost: the server's log_lost_bytes. A block
    /// lost to both destinations counts twice.
    std::uint64_t bytesLost = 0;
    /// Submitted, not yet written: per destination, like bytesLost, so this
    /// is what abandon() would count as lost now.
    std::uint64_t bytesPending = 0;
    std::uint64_t writeErrors = 0;  ///< failed file write attempts
    bool fileFailing = false;       ///< the last file write attempt failed
    bool consoleFailed = false;     ///< the console is off for good
  };

  /// Opens the log file; throws std::runtime_error with a clear message if it
  /// cannot be opened. Starts the writer thread.
  explicit LogWriter(Options options);
  /// Calls stop() (waits until everything is written, however long a failing
  /// file takes), except after stopWithin() returned false: then the stuck
  /// thread is detached (it shares ownership of what it touches). An owner
  /// that cannot wait forever calls stopWithin() first.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  /// An empty block with blockBytes reserved. Waits while every block is in
  /// the queue (backpressure); after abandon() or once the thread has ended,
  /// never waits (allocates if needed).
  Block acquire();
  /// acquire() for a thread that must never wait for the writer (the
  /// server's control loop, which handles the signals): when every block is
  /// queued it gets a new one beyond maxBlocks. For rare lines only.
  Block acquireNoWait();
  /// Queues a block for writing. An empty block is simply recycled. After
  /// abandon() or stop(), its bytes are counted as lost instead.
  void submit(Block&& block);
  /// Asks the writer to reopen the log file before its next write (SIGHUP,
  /// logrotate), also while a failing write is being retried. The outcome
  /// goes to Options::onReopened (and failures to stderr).
  void requestReopen();
  /// Gives up on everything not written yet, for a shutdown that cannot wait
  /// longer: counts it as lost, wakes the writer from its retry or console
  /// wait (it then ends; a write(2) in progress cannot be interrupted), and
  /// makes acquire() never wait again. Idempotent; never blocks on the writer.
  void abandon();
  /// Blocks until everything submitted before the call has been written (or
  /// abandoned). Unbounded while the file fails: tests and owners who can wait.
  void drain();
  /// Writes everything queued so far and joins the thread; unbounded while
  /// the file fails. Idempotent.
  void stop();
  /// stop() with a deadline: waits up to timeout for everything queued to be
  /// written; then abandon()s the rest and waits up to 100 ms more for the
  /// thread to end. True once the thread has ended and been joined; false if
  /// it is still inside a write(2) that does not return: report and _exit(),
  /// as the destructor will not join it. Idempotent.
  bool stopWithin(std::chrono::milliseconds timeout);

  std::size_t blockBytes() const { return blockBytes_; }
  Counters counters() const;
  /// A producer hands over n more lines (BlockSink adds a block's count as it
  /// submits the block: one atomic add per block, nothing per line). Any thread.
  void countLines(std::uint64_t n) { lines_.fetch_add(n, std::memory_order_relaxed); }
  /// Lines handed over so far (the server's uvframe_log_lines_total). Any thread.
  std::uint64_t linesHandedOver() const { return lines_.load(std::memory_order_relaxed); }
  const std::string& filePath() const { return filePath_; }

 private:
  struct Core;  // the state the writer thread shares (see log_writer.cpp)

  std::size_t blockBytes_;
  std::string filePath_;
  std::shared_ptr<Core> core_;
  std::thread thread_;
  bool stopTimedOut_ = false;            // stopWithin() left the thread stuck: never join it
  std::atomic<std::uint64_t> lines_{0};  // countLines()
};

}  // namespace uvframe
