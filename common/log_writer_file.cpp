// LogWriter's log file, on the writer thread: writes that retry a failure
// forever with backoff (a full disk delays the log, never loses it), size
// rotation, and reopening by path (SIGHUP, logrotate). See log_writer.h.
#include "log_file_io.h"
#include "log_rotation.h"
#include "log_writer_core.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>

namespace uvframe {

using namespace log_writer_detail;

namespace {
// A failed write is tried again after 20 ms, then twice as long each time,
// up to half a second.
constexpr std::chrono::milliseconds kFirstBackoff{20};
constexpr std::chrono::milliseconds kMaxBackoff{500};
}  // namespace

// Writes the block to the file, retrying a failure forever with backoff, so
// a full disk delays the log instead of losing it (the queue fills, then the
// producers wait). A retry resumes after the bytes that did reach the file,
// so no line is written twice. Only abandon() ends the retries early.
void LogWriter::Core::writeFile(const Block& block) {
  std::size_t done = 0;
  auto backoff = kFirstBackoff;
  while (true) {
    if (takeReopenRequest()) {
      reopenFile(&block, &done);
      backoff = kFirstBackoff;  // a new file deserves a prompt try
    }
    int err = writeFileFrom(block, done);
    if (err < 0) return;  // abandoned
    if (err == 0) {
      if (failing) noteFileRecovered();
      return;
    }
    noteFileFailure(err);
    std::unique_lock lock(mutex);
    // Not woken by stop(): a stopping writer still owes every byte.
    workReady.wait_for(lock, backoff, [this] { return abandoned || reopenRequested; });
    if (abandoned) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

// Writes block[done, size) to the file, advancing done; 0, an errno, or -1
// once abandoned. A
// block that would start after a cut line gets a '\n' first, so its first
// line is never glued onto the cut one; going on with the cut line itself
// (same file, after a failure) needs none.
int LogWriter::Core::writeFileFrom(const Block& block, std::size_t& done) {
  const bool continuingCutLine = done > 0 && block.data()[done - 1] != '\n';
  if (!fileAtLineStart && !continuingCutLine) {
    long n = writeSome(fileFd, "\n", 1);
    if (n < 0) return static_cast<int>(-n);
    fileAtLineStart = true;
    ++fileBytes;
    std::lock_guard lock(mutex);
    ++counters.bytesWritten;
  }
  while (done < block.size()) {
    // With rotation, write up to the end of the line that fills the file,
    // rotate, and go on with the rest in the new file.
    std::size_t end = block.size();
    if (rotating()) {
      if (fileAtLineStart && fileBytes >= rotateAt) rotateFile();
      end = done + rotationCut(block.data() + done, block.size() - done, fileBytes, rotateAt);
    }
    while (done < end) {
      long n = writeSome(fileFd, block.data() + done, end - done);
      if (n < 0) return static_cast<int>(-n);
      done += static_cast<std::size_t>(n);
      fileBytes += static_cast<std::uint64_t>(n);
      fileAtLineStart = block.data()[done - 1] == '\n';
      if (!payOff(&Counters::bytesWritten, owedFile, static_cast<std::size_t>(n))) return -1;
    }
  }
  if (rotating() && fileAtLineStart && fileBytes >= rotateAt) rotateFile();
  return 0;
}

// Renames the chain (log_rotation.h) and opens a new file by the path. A
// failure is reported on stderr and the writer goes on in the file it has,
// trying again after another maxFileBytes: the log is never lost for it.
void LogWriter::Core::rotateFile() {
  std::string error = rotateLogFiles(options.filePath, options.maxFiles);
  int fd = error.empty() ? openLogFile(options.filePath) : -1;
  if (error.empty() && fd < 0) {
    error = "cannot open a new log file '" + options.filePath + "': " + errnoText(errno);
  }
  if (!error.empty()) {
    reportToStderr("log rotation failed: " + error + "; still writing to the current file");
    rotateAt = fileBytes + options.maxFileBytes;
    return;
  }
  closeLogFile(fileFd);
  fileFd = fd;
  fileAtLineStart = fileEndsAtLineStart(fileFd, options.filePath);
  const FileSpot spot = spotOf(fileFd);
  fileBytes = spot.known ? static_cast<std::uint64_t>(spot.size) : 0;
  rotateAt = options.maxFileBytes;
}

bool LogWriter::Core::takeReopenRequest() {
  std::lock_guard lock(mutex);
  return std::exchange(reopenRequested, false);
}

// Reopens the log file by its path (logrotate renamed it, or an operator
// fixed it). With a block in flight and cut mid-line (done bytes of it in the
// old file): on the same file at the same size the line goes on; in any other
// file it starts again from its beginning, so every line is whole in one file.
void LogWriter::Core::reopenFile(const Block* inFlight, std::size_t* done) {
  int fd = openLogFile(options.filePath);
  if (fd < 0) {
    std::string error = errnoText(errno);
    reportToStderr("cannot reopen log file '" + options.filePath + "': " + error +
                   "; still writing to the old one");
    if (options.onReopened) options.onReopened(false, error);
    return;
  }
  const FileSpot oldSpot = spotOf(fileFd);
  const FileSpot newSpot = spotOf(fd);
  closeLogFile(fileFd);
  fileFd = fd;
  fileAtLineStart = fileEndsAtLineStart(fileFd, options.filePath);
  fileBytes = newSpot.known ? static_cast<std::uint64_t>(newSpot.size) : 0;
  rotateAt = options.maxFileBytes;
  if (inFlight != nullptr && *done > 0 && inFlight->data()[*done - 1] != '\n' &&
      !(oldSpot.known && oldSpot == newSpot)) {
    std::size_t lineStart = *done;
    while (lineStart > 0 && inFlight->data()[lineStart - 1] != '\n')
      --lineStart;
    std::lock_guard lock(mutex);
    if (!abandoned) owedFile += *done - lineStart;  // owed again, to the new file
    *done = lineStart;
  }
  if (options.onReopened) options.onReopened(true, std::string());
}

void LogWriter::Core::noteFileFailure(int err) {
  std::uint64_t waiting = 0;
  {
    std::lock_guard lock(mutex);
    ++counters.writeErrors;
    counters.fileFailing = true;
    waiting = owedFile;
  }
  auto now = Clock::now();
  if (!failing) {
    failing = true;
    failingSince = lastReport = now;
    reportToStderr("cannot write log file '" + options.filePath + "': " + errnoText(err) +
                   " (retrying until it works; new log lines wait meanwhile)");
  } else if (now - lastReport >= options.reportInterval) {
    lastReport = now;
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - failingSince).count();
    reportToStderr("cannot write log file '" + options.filePath + "': " + errnoText(err) +
                   " (still failing after " + std::to_string(seconds) + " s, " +
                   std::to_string(waiting) + " bytes waiting)");
  }
}

void LogWriter::Core::noteFileRecovered() {
  failing = false;
  std::uint64_t errors = 0;
  {
    std::lock_guard lock(mutex);
    counters.fileFailing = false;
    errors = counters.writeErrors;
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - failingSince).count();
  reportToStderr("log file '" + options.filePath + "' is writable again after " +
                 std::to_string(ms) + " ms (" + std::to_string(errors) +
                 " failed write attempts so far; nothing lost)");
}

}  // namespace uvframe
