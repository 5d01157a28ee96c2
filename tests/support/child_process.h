// ChildProcess: runs a real program for an integration test, with its
// standard output and standard error captured line by line by a reader
// thread, so tests wait for log lines (with a deadline) instead of sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace uvframe::test {

using namespace std::chrono_literals;

/// One child process. Not copyable; the destructor kills (SIGKILL) and reaps
/// a child that is still running.
class ChildProcess {
 public:
  struct Options {
    /// Soft RLIMIT_NOFILE for the child (0: inherit).
    unsigned long maxOpenFiles = 0;
    /// Give the child a pipe on stdin (writeStdin/closeStdin); else /dev/null.
    bool pipeStdin = false;
  };

  explicit ChildProcess(std::vector<std::string> argv);
  ChildProcess(std::vector<std::string> argv, Options options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  /// Waits until a line satisfying pred has been printed (stdout or stderr,
  /// interleaved as they arrive) and returns it, or nullopt at the deadline or
  /// when the child closed its output first.
  std::optional<std::string> waitForLine(const std::function<bool(const std::string&)>& pred,
                                         std::chrono::milliseconds timeout = 10s);
  /// Waits for a line containing text.
  std::optional<std::string> waitForText(const std::string& text,
                                         std::chrono::milliseconds timeout = 10s);
  /// Waits until pred holds for the whole captured output so far.
  bool waitUntil(const std::function<bool(const std::vector<std::string>&)>& pred,
                 std::chrono::milliseconds timeout = 10s);

  /// Every line captured so far.
  std::vector<std::string> lines() const;
  /// Lines containing text.
  std::vector<std::string> linesContaining(const std::string& text) const;
  /// The captured output as one string (for failure messages).
  std::string output() const;

  void sendSignal(int signal);
  void writeStdin(const std::string& data);
  void closeStdin();

  /// Waits for the child to exit: its exit code, 128+signal if it was killed
  /// by a signal, or nullopt at the deadline. Also waits for the reader to
  /// collect the rest of the output.
  std::optional<int> waitExit(std::chrono::milliseconds timeout = 20s);

 private:
  void readLoop(int fd);

  pid_t pid_ = -1;
  int stdinFd_ = -1;
  std::optional<int> exitCode_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool outputClosed_ = false;
};

/// How a program run to its end finished: exit code (-1 when it did not exit
/// by the deadline) and everything it printed.
struct Finished {
  int exitCode = -1;
  std::string output;
};

/// Runs argv to its end (killed after timeout).
Finished runToExit(std::vector<std::string> argv, std::chrono::milliseconds timeout = 120s);

/// Path of a program built into build/bin (uvframe-server, ...).
std::string programPath(const std::string& name);

/// A fresh empty directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace uvframe::test
