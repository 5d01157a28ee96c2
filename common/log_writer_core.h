// LogWriter's shared state and the writer thread's methods (the Core),
// private to the writer's sources: log_writer.cpp (queue, thread, console,
// shutdown) and log_writer_file.cpp (the log file: retries, rotation,
// reopen). See log_writer.h for the design and the promises it keeps.
#pragma once

#include "log_writer.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace uvframe {
namespace log_writer_detail {

using Clock = std::chrono::steady_clock;

/// strerror(err) as a string.
std::string errnoText(int err);
/// "uvframe: text" on stderr, flushed (the log itself may be what failed).
void reportToStderr(const std::string& text);

}  // namespace log_writer_detail

/// Everything the writer thread touches, shared with it so that a thread
/// left stuck in write(2) (and detached) never outlives what it uses.
struct LogWriter::Core {
  explicit Core(Options o);
  ~Core();

  // Producer and owner side (any thread).
  Block acquire(bool wait);
  void submit(Block&& block);
  void abandon();

  // Writer thread.
  void run();
  void writeConsole(const Block& block);
  bool waitConsoleWritable();
  void consoleFailed(int err);
  void writeFile(const Block& block);
  int writeFileFrom(const Block& block, std::size_t& done);
  bool takeReopenRequest();
  void reopenFile(const Block* inFlight, std::size_t* done);
  void noteFileFailure(int err);
  void noteFileRecovered();
  bool rotating() const { return hasFile && options.maxFileBytes > 0 && options.maxFiles > 0; }
  void rotateFile();
  bool payOff(std::uint64_t Counters::*written, std::uint64_t& owed, std::size_t n);
  bool isAbandoned() const;

  const Options options;
  const bool hasFile;
  int fileFd = -1;
  int wakeRead = -1;  // abandon() writes a byte to wakeWrite to end a console poll
  int wakeWrite = -1;

  // Writer thread only (and the constructor).
  bool fileAtLineStart = true;  // the file's last byte is '\n', or it is empty
  std::uint64_t fileBytes = 0;  // the file's size (rotation)
  std::uint64_t rotateAt = 0;   // rotate once fileBytes reaches it (after a failure: later)
  bool failing = false;
  log_writer_detail::Clock::time_point failingSince{};
  log_writer_detail::Clock::time_point lastReport{};

  mutable std::mutex mutex;
  std::condition_variable workReady;  // the writer waits: blocks, reopen, stop, abandon
  std::condition_variable blockFree;  // producers wait in acquire()
  std::condition_variable progress;   // drain() and stopWithin() wait
  std::deque<Block> queue;
  std::vector<Block> freeBlocks;
  std::size_t blocksCreated = 0;
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::uint64_t owedFile = 0;
  std::uint64_t owedConsole = 0;
  bool consoleOn;
  bool reopenRequested = false;
  bool stopping = false;
  bool abandoned = false;
  bool finished = false;
  Counters counters;
};

}  // namespace uvframe
