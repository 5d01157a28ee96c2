// LogWriter: see log_writer.h for the design.
#include "log_writer.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#ifdef _WIN32
#include <io.h>
#define UVFRAME_WRITE _write
#define UVFRAME_CLOSE _close
#define UVFRAME_OPEN_FLAGS (_O_WRONLY | _O_CREAT | _O_APPEND | _O_BINARY)
#else
#include <unistd.h>
#define UVFRAME_WRITE ::write
#define UVFRAME_CLOSE ::close
#define UVFRAME_OPEN_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
#endif

namespace uvframe {
namespace {

int openLogFile(const std::string& path) {
#ifdef _WIN32
  return _open(path.c_str(), UVFRAME_OPEN_FLAGS, _S_IREAD | _S_IWRITE);
#else
  return ::open(path.c_str(), UVFRAME_OPEN_FLAGS, 0644);
#endif
}

// Writes all of data to fd; returns 0 or the errno of the failure. written
// (if given) grows by the bytes that did reach fd, also when a later write
// fails, so a retry can resume there instead of repeating them.
int writeAll(int fd, const char* data, std::size_t size, std::size_t* written = nullptr) {
  while (size > 0) {
    auto n = UVFRAME_WRITE(fd, data, static_cast<unsigned>(size > (1u << 30) ? (1u << 30) : size));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<std::size_t>(n);
    if (written != nullptr) *written += static_cast<std::size_t>(n);
  }
  return 0;
}

std::string errnoText(int err) {
  return std::string(std::strerror(err));
}

}  // namespace

LogWriter::LogWriter(Options options)
    : options_(std::move(options)), consoleEnabled_(options_.console) {
  if (!options_.filePath.empty()) {
    fileFd_ = openLogFile(options_.filePath);
    if (fileFd_ < 0) {
      int err = errno;
      throw std::runtime_error("cannot open log file '" + options_.filePath +
                               "': " + errnoText(err));
    }
  }
  thread_ = std::thread([this] { run(); });
}

LogWriter::~LogWriter() {
  stop();
  if (fileFd_ >= 0) UVFRAME_CLOSE(fileFd_);
}

LogWriter::Block LogWriter::acquire() {
  std::unique_lock lock(mutex_);
  if (freeBlocks_.empty() && blocksCreated_ < options_.maxBlocks) {
    ++blocksCreated_;
    lock.unlock();
    Block block;
    block.reserve(options_.blockBytes);
    return block;
  }
  blockFree_.wait(lock, [this] { return !freeBlocks_.empty(); });
  Block block = std::move(freeBlocks_.back());
  freeBlocks_.pop_back();
  return block;
}

void LogWriter::submit(Block&& block) {
  std::lock_guard lock(mutex_);
  if (block.size() == 0 || stopped_) {
    block.clear();
    freeBlocks_.push_back(std::move(block));
    blockFree_.notify_one();
    return;
  }
  queue_.push_back(std::move(block));
  ++submitted_;
  workReady_.notify_one();
}

void LogWriter::requestReopen() {
  reopenRequested_.store(true);
  std::lock_guard lock(mutex_);
  workReady_.notify_one();
}

void LogWriter::drain() {
  std::unique_lock lock(mutex_);
  std::uint64_t target = submitted_;
  drained_.wait(lock, [&] { return completed_ >= target || stopped_; });
}

void LogWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    workReady_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

LogWriter::Counters LogWriter::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void LogWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    workReady_.wait(lock,
                    [this] { return stopping_ || !queue_.empty() || reopenRequested_.load(); });
    if (reopenRequested_.exchange(false)) {
      lock.unlock();
      reopenFile();
      lock.lock();
    }
    if (queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    Block block = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    writeBlock(block);
    block.clear();
    lock.lock();
    freeBlocks_.push_back(std::move(block));
    ++completed_;
    blockFree_.notify_one();
    drained_.notify_all();
  }
  stopped_ = true;
  drained_.notify_all();
}

void LogWriter::writeBlock(const Block& block) {
  if (consoleEnabled_) {
    int err = writeAll(1, block.data(), block.size());
    if (err != 0) {
      // A closed or broken standard output must not take the log file down
      // with it: stop writing to the console and say so once.
      consoleEnabled_ = false;
      reportToStderr("console output failed (" + errnoText(err) +
                     "); logging to the console stops here");
    }
  }
  if (fileFd_ >= 0) {
    std::size_t written = writeFileWithRetry(block.data(), block.size());
    std::lock_guard lock(mutex_);
    counters_.bytesWritten += written;
    counters_.bytesLost += block.size() - written;
  }
}

// Retries a failing file write with backoff for the retry window (the disk may
// be freed, logrotate may finish), then gives up on this block. While the file
// keeps failing, later blocks get one attempt each, so the server does not
// stall for a window per block; the first success ends the failing state.
// A retry resumes after the bytes that did get written (a disk can fill up in
// the middle of a block), so no line is written twice. Returns the bytes of
// the block that reached the file.
std::size_t LogWriter::writeFileWithRetry(const char* data, std::size_t size) {
  auto deadline = std::chrono::steady_clock::now() + options_.retryWindow;
  auto backoff = std::chrono::milliseconds(20);
  // Decided once per block: a block that finds the file already failing gets
  // one attempt; only the first failing block waits out the retry window.
  const bool failedBefore = failing_;
  std::size_t written = 0;
  while (true) {
    int err = writeAll(fileFd_, data + written, size - written, &written);
    if (err == 0) {
      if (failing_) {
        failing_ = false;
        Counters c = counters();
        reportToStderr("log file '" + options_.filePath + "' is writable again (" +
                       std::to_string(c.bytesLost) + " bytes lost so far)");
      }
      return written;
    }
    {
      std::lock_guard lock(mutex_);
      ++counters_.writeErrors;
    }
    auto now = std::chrono::steady_clock::now();
    if (!failing_ || now - lastReport_ > std::chrono::seconds(10)) {
      Counters c = counters();
      reportToStderr(
          "cannot write log file '" + options_.filePath + "': " + errnoText(err) +
          (failing_ ? " (still failing, " + std::to_string(c.bytesLost) + " bytes lost so far)"
                    : " (retrying)"));
      lastReport_ = now;
    }
    failing_ = true;
    if (failedBefore || now >= deadline) return written;
    {
      std::unique_lock lock(mutex_);
      // Wake early only to stop; a stopping writer gets one more attempt.
      if (workReady_.wait_for(lock, backoff, [this] { return stopping_; })) {
        deadline = now;
      }
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
  }
}

void LogWriter::reopenFile() {
  if (options_.filePath.empty()) return;
  int fd = openLogFile(options_.filePath);
  if (fd < 0) {
    reportToStderr("cannot reopen log file '" + options_.filePath + "': " + errnoText(errno) +
                   "; still writing to the old one");
    return;
  }
  if (fileFd_ >= 0) UVFRAME_CLOSE(fileFd_);
  fileFd_ = fd;
}

void LogWriter::reportToStderr(const std::string& text) {
  std::string line = "uvframe: " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace uvframe
