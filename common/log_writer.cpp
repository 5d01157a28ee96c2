// LogWriter: see log_writer.h for the design and the promises it keeps.
//
// Accounting: every submitted byte is owed to each destination that was on
// when it was submitted (owedFile, owedConsole). A successful write pays it
// off (bytesWritten); a dead console or abandon() turns what is owed into
// lost bytes. So written + lost + pending always adds up, per destination,
// and abandon() can count the loss at once even while the writer thread is
// stuck inside write(2). The log file's side (retries, rotation, reopen) is
// log_writer_file.cpp; the shared state, log_writer_core.h.
#include "log_writer_core.h"

#include "log_file_io.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#ifndef _WIN32
#include <poll.h>
#include <unistd.h>
#endif

namespace uvframe {
namespace log_writer_detail {

std::string errnoText(int err) {
  return std::string(std::strerror(err));
}

void reportToStderr(const std::string& text) {
  std::string line = "uvframe: " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace log_writer_detail

using namespace log_writer_detail;

namespace {
// After abandon(), how long stopWithin() waits for a writer that is not stuck
// in write(2) to notice (it only has to leave a condition or poll wait).
constexpr std::chrono::milliseconds kAbandonGrace{100};
}  // namespace

LogWriter::Core::Core(Options o)
    : options(std::move(o)), hasFile(!options.filePath.empty()), consoleOn(options.console) {
  if (hasFile) {
    fileFd = openLogFile(options.filePath);
    if (fileFd < 0) {
      int err = errno;
      throw std::runtime_error("cannot open log file '" + options.filePath +
                               "': " + errnoText(err));
    }
    fileAtLineStart = fileEndsAtLineStart(fileFd, options.filePath);
    const FileSpot spot = spotOf(fileFd);
    fileBytes = spot.known ? static_cast<std::uint64_t>(spot.size) : 0;
    rotateAt = options.maxFileBytes;
  }
#ifndef _WIN32
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    wakeRead = fds[0];
    wakeWrite = fds[1];
  }
#endif
}

LogWriter::Core::~Core() {
  if (fileFd >= 0) closeLogFile(fileFd);
  if (wakeRead >= 0) closeLogFile(wakeRead);
  if (wakeWrite >= 0) closeLogFile(wakeWrite);
}

LogWriter::Block LogWriter::Core::acquire(bool wait) {
  std::unique_lock lock(mutex);
  if (freeBlocks.empty() && blocksCreated < options.maxBlocks)
    ++blocksCreated;
  else if (wait)
    blockFree.wait(lock, [this] { return !freeBlocks.empty() || abandoned || finished; });
  if (!freeBlocks.empty()) {
    Block block = std::move(freeBlocks.back());
    freeBlocks.pop_back();
    return block;
  }
  // A new block, or (after abandon() or stop()) one beyond maxBlocks: a
  // producer must never wait for a writer that has given up or ended.
  lock.unlock();
  Block block;
  block.reserve(options.blockBytes);
  return block;
}

void LogWriter::Core::submit(Block&& block) {
  std::lock_guard lock(mutex);
  const std::size_t size = block.size();
  if (size > 0 && !abandoned && !finished) {
    if (hasFile) owedFile += size;
    // A console that failed for good misses this block: count it now.
    if (consoleOn) {
      owedConsole += size;
    } else if (options.console) {
      counters.consoleBytesLost += size;
    }
    workReady.notify_one();
    if (queue.empty() || queue.back().size() + size > options.blockBytes) {
      queue.push_back(std::move(block));
      ++submitted;
      return;
    }
    // The writer is behind (a failing file, a slow console): append to the
    // last queued block instead, so the queue holds maxBlocks full blocks of
    // lines before the producers wait, not maxBlocks timer flushes of a few
    // lines each. Blocks hold whole lines, so the order and the lines stay.
    queue.back().append(block.data(), block.data() + size);
  } else if (size > 0) {
    // Nobody will write it: count it for each destination it was meant for.
    if (hasFile) counters.fileBytesLost += size;
    if (options.console) counters.consoleBytesLost += size;
  }
  // Recycle; blocks allocated beyond maxBlocks after abandon() are freed.
  if (freeBlocks.size() < options.maxBlocks) {
    block.clear();
    freeBlocks.push_back(std::move(block));
  }
  blockFree.notify_one();
}

void LogWriter::Core::abandon() {
  {
    std::lock_guard lock(mutex);
    if (abandoned) return;
    abandoned = true;
    counters.fileBytesLost += owedFile;
    counters.consoleBytesLost += owedConsole;
    owedFile = owedConsole = 0;
    completed += queue.size();
    for (Block& block : queue) {
      block.clear();
      freeBlocks.push_back(std::move(block));
    }
    queue.clear();
    workReady.notify_all();
    blockFree.notify_all();
    progress.notify_all();
  }
#ifndef _WIN32
  // The writer may be polling a console that would block; end that wait.
  if (wakeWrite >= 0) {
    char byte = 1;
    [[maybe_unused]] auto n = ::write(wakeWrite, &byte, 1);
  }
#endif
}

void LogWriter::Core::run() {
  std::unique_lock lock(mutex);
  while (true) {
    workReady.wait(lock,
                   [this] { return stopping || abandoned || reopenRequested || !queue.empty(); });
    if (abandoned) break;
    if (reopenRequested) {
      reopenRequested = false;
      lock.unlock();
      reopenFile(nullptr, nullptr);
      lock.lock();
    }
    if (queue.empty()) {
      if (stopping) break;
      continue;
    }
    Block block = std::move(queue.front());
    queue.pop_front();
    lock.unlock();
    if (consoleOn && !isAbandoned()) writeConsole(block);
    if (hasFile && !isAbandoned()) writeFile(block);
    block.clear();
    lock.lock();
    freeBlocks.push_back(std::move(block));
    ++completed;  // abandon() counted only the blocks still queued
    blockFree.notify_one();
    progress.notify_all();
  }
  finished = true;
  progress.notify_all();
  blockFree.notify_all();
}

// Pays off n bytes that reached a destination; false once abandoned (then
// they were counted as lost already, and the owner may have reported that, so
// the counters stay as they are and the writer stops).
bool LogWriter::Core::payOff(std::uint64_t Counters::*written, std::uint64_t& owed, std::size_t n) {
  std::lock_guard lock(mutex);
  if (abandoned) return false;
  counters.*written += n;
  owed -= std::min<std::uint64_t>(owed, n);
  return true;
}

bool LogWriter::Core::isAbandoned() const {
  std::lock_guard lock(mutex);
  return abandoned;
}

void LogWriter::Core::writeConsole(const Block& block) {
  std::size_t done = 0;
  while (done < block.size()) {
    long n = writeSome(options.consoleFd, block.data() + done, block.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      if (!payOff(&Counters::consoleBytesWritten, owedConsole, static_cast<std::size_t>(n))) return;
      continue;
    }
    int err = static_cast<int>(-n);
#ifndef _WIN32
    // A non-blocking stdout (a shell may hand us one) that is full: wait
    // until it drains, as a blocking one would, instead of losing the bytes.
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (waitConsoleWritable()) continue;
      return;  // abandoned
    }
#endif
    consoleFailed(err);
    return;
  }
}

// Waits until the console can take bytes (true) or abandon() (false). A
// poll error that is not EINTR switches the console off like a write error.
bool LogWriter::Core::waitConsoleWritable() {
#ifndef _WIN32
  while (true) {
    pollfd fds[2] = {{options.consoleFd, POLLOUT, 0}, {wakeRead, POLLIN, 0}};
    int rc = ::poll(fds, wakeRead >= 0 ? 2 : 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      consoleFailed(errno);
      return false;
    }
    std::lock_guard lock(mutex);
    if (abandoned) return false;
    // POLLERR or POLLHUP: the next write reports the real error.
    if (fds[0].revents != 0) return true;
  }
#else
  return false;
#endif
}

void LogWriter::Core::consoleFailed(int err) {
  {
    std::lock_guard lock(mutex);
    consoleOn = false;
    counters.consoleFailed = true;
    counters.consoleBytesLost += owedConsole;
    owedConsole = 0;
  }
  // A closed or broken standard output must not take the log file down with
  // it: stop writing to the console, count what it misses, say so once.
  reportToStderr("console output failed (" + errnoText(err) +
                 "); logging to the console stops here, its bytes are counted as lost");
}

LogWriter::LogWriter(Options options)
    : blockBytes_(options.blockBytes),
      filePath_(options.filePath),
      core_(std::make_shared<Core>(std::move(options))) {
  // The thread holds its own reference: if it is ever detached while stuck,
  // the state it uses stays alive until it returns.
  thread_ = std::thread([core = core_] { core->run(); });
}

LogWriter::~LogWriter() {
  if (!thread_.joinable()) return;
  if (stopTimedOut_) {
    thread_.detach();
  } else {
    stop();
  }
}

LogWriter::Block LogWriter::acquire() {
  return core_->acquire(true);
}

LogWriter::Block LogWriter::acquireNoWait() {
  return core_->acquire(false);
}

void LogWriter::submit(Block&& block) {
  core_->submit(std::move(block));
}

void LogWriter::requestReopen() {
  std::lock_guard lock(core_->mutex);
  core_->reopenRequested = true;
  core_->workReady.notify_one();
}

void LogWriter::abandon() {
  core_->abandon();
}

void LogWriter::drain() {
  Core& c = *core_;
  std::unique_lock lock(c.mutex);
  std::uint64_t target = c.submitted;
  c.progress.wait(lock, [&] { return c.completed >= target || c.finished || c.abandoned; });
}

void LogWriter::stop() {
  {
    std::lock_guard lock(core_->mutex);
    core_->stopping = true;
    core_->workReady.notify_one();
  }
  if (thread_.joinable() && !stopTimedOut_) thread_.join();
}

bool LogWriter::stopWithin(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return !stopTimedOut_;
  Core& c = *core_;
  auto finishedBy = [&c](Clock::time_point deadline) {
    std::unique_lock lock(c.mutex);
    c.stopping = true;
    c.workReady.notify_one();
    return c.progress.wait_until(lock, deadline, [&c] { return c.finished; });
  };
  bool finished = finishedBy(Clock::now() + timeout);
  if (!finished) {
    abandon();
    finished = finishedBy(Clock::now() + kAbandonGrace);
  }
  if (finished) {
    thread_.join();
  } else {
    stopTimedOut_ = true;
  }
  return finished;
}

LogWriter::Counters LogWriter::counters() const {
  std::lock_guard lock(core_->mutex);
  Counters c = core_->counters;
  c.bytesLost = c.fileBytesLost + c.consoleBytesLost;
  c.bytesPending = core_->owedFile + core_->owedConsole;
  return c;
}

}  // namespace uvframe
