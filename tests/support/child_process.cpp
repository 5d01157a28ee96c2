// ChildProcess: see child_process.h. POSIX only (the tests run on Linux).
#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#ifndef UVFRAME_BIN_DIR
#error "UVFRAME_BIN_DIR must name the directory of the built programs"
#endif

namespace uvframe::test {

ChildProcess::ChildProcess(std::vector<std::string> argv)
    : ChildProcess(std::move(argv), Options{}) {}

ChildProcess::ChildProcess(std::vector<std::string> argv, Options options) {
  int outPipe[2];
  int inPipe[2] = {-1, -1};
  if (pipe2(outPipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (options.pipeStdin && pipe2(inPipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");

  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here to exec.
    dup2(outPipe[1], STDOUT_FILENO);
    dup2(outPipe[1], STDERR_FILENO);
    if (options.pipeStdin) {
      dup2(inPipe[0], STDIN_FILENO);
    } else {
      int devNull = open("/dev/null", O_RDONLY);
      if (devNull >= 0) dup2(devNull, STDIN_FILENO);
    }
    if (options.maxOpenFiles != 0) {
      rlimit lim{};
      getrlimit(RLIMIT_NOFILE, &lim);
      lim.rlim_cur = options.maxOpenFiles;
      // Lowering the hard limit too keeps the child from raising it back.
      lim.rlim_max = options.maxOpenFiles;
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  close(outPipe[1]);
  if (options.pipeStdin) {
    close(inPipe[0]);
    stdinFd_ = inPipe[1];
  }
  reader_ = std::thread([this, fd = outPipe[0]] { readLoop(fd); });
}

ChildProcess::~ChildProcess() {
  if (stdinFd_ >= 0) close(stdinFd_);
  if (!exitCode_) {
    kill(pid_, SIGKILL);
    waitExit(10s);
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::readLoop(int fd) {
  std::string partial;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::vector<std::string> complete;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      complete.emplace_back(partial, start, nl - start);
    }
    partial.erase(0, start);
    if (!complete.empty()) {
      std::lock_guard lock(mutex_);
      for (auto& l : complete)
        lines_.push_back(std::move(l));
      changed_.notify_all();
    }
  }
  close(fd);
  std::lock_guard lock(mutex_);
  if (!partial.empty()) lines_.push_back(partial);
  outputClosed_ = true;
  changed_.notify_all();
}

std::optional<std::string> ChildProcess::waitForLine(
    const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::size_t checked = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (; checked < lines_.size(); ++checked) {
      if (pred(lines_[checked])) return lines_[checked];
    }
    if (outputClosed_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < lines_.size(); ++checked) {
        if (pred(lines_[checked])) return lines_[checked];
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> ChildProcess::waitForText(const std::string& text,
                                                     std::chrono::milliseconds timeout) {
  return waitForLine([&](const std::string& l) { return l.find(text) != std::string::npos; },
                     timeout);
}

bool ChildProcess::waitUntil(const std::function<bool(const std::vector<std::string>&)>& pred,
                             std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred(lines_)) {
    if (outputClosed_) return false;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return pred(lines_);
  }
  return true;
}

std::vector<std::string> ChildProcess::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<std::string> ChildProcess::linesContaining(const std::string& text) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& l : lines_) {
    if (l.find(text) != std::string::npos) out.push_back(l);
  }
  return out;
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& l : lines_) {
    out += l;
    out += '\n';
  }
  return out;
}

void ChildProcess::sendSignal(int signal) {
  if (!exitCode_) kill(pid_, signal);
}

void ChildProcess::writeStdin(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(stdinFd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("write to child stdin failed");
    done += static_cast<std::size_t>(n);
  }
}

void ChildProcess::closeStdin() {
  if (stdinFd_ >= 0) close(stdinFd_);
  stdinFd_ = -1;
}

std::optional<int> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  if (exitCode_) return exitCode_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = 1ms;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling waitpid with a short, growing pause: there is no portable way
    // to wait on a child with a deadline.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  // The child has exited: its output pipe closes once any grandchildren are
  // gone too, so wait (bounded) for the reader to collect the tail.
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, std::chrono::steady_clock::now() + 5s,
                      [this] { return outputClosed_; });
  return exitCode_;
}

Finished runToExit(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(argv));
  auto code = child.waitExit(timeout);
  return {code ? *code : -1, child.output()};
}

std::string programPath(const std::string& name) {
  return std::string(UVFRAME_BIN_DIR) + "/" + name;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "uvframe-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace uvframe::test
