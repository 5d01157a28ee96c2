// SIGTERM while the log cannot be written at all: the console is a pipe
// nobody reads (a paused terminal, a stuck pager or log shipper), so the log
// writer blocks inside write(2), every log buffer fills and the server stops
// reading. The SPEC's shutdown still holds: exit within --drain-timeout plus
// a second (here with a few seconds' slack for a busy machine), exit status 1,
// and a stderr line saying how many bytes of log could not be written.
//
// ChildProcess reads the child's standard output, which is exactly what this
// test must not do, so a small local helper runs the server instead.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include "abuse_support.h"
#include "child_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

/// uvframe-server with standard output on a pipe that is never read (but
/// kept open, so writes block rather than fail) and standard error captured.
/// The destructor kills (SIGKILL) and reaps a server still running.
class ServerWithStuckConsole {
 public:
  explicit ServerWithStuckConsole(std::vector<std::string> args) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2 failed");
    std::vector<char*> argv;
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until exec.
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      int devNull = ::open("/dev/null", O_RDONLY);
      if (devNull >= 0) ::dup2(devNull, STDIN_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    stuckStdout_ = out[0];
    reader_ = std::thread([this, fd = err[0]] { readStderr(fd); });
  }
  ~ServerWithStuckConsole() {
    if (!exitCode_) {
      ::kill(pid_, SIGKILL);
      waitExit(10s);
    }
    if (reader_.joinable()) reader_.join();
    ::close(stuckStdout_);
  }
  ServerWithStuckConsole(const ServerWithStuckConsole&) = delete;
  ServerWithStuckConsole& operator=(const ServerWithStuckConsole&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signum) {
    if (!exitCode_) ::kill(pid_, signum);
  }
  std::string stderrText() const {
    std::lock_guard lock(mutex_);
    return stderr_;
  }
  /// The exit code (128+signal if killed), or nullopt at the deadline.
  std::optional<int> waitExit(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!exitCode_) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      } else if ((r < 0 && errno != EINTR) || Clock::now() >= deadline) {
        return std::nullopt;
      } else {
        // No portable way to wait for a child with a deadline: poll waitpid.
        std::this_thread::sleep_for(5ms);
      }
    }
    // Let the reader collect the last stderr lines (bounded).
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [this] { return stderrClosed_; });
    return exitCode_;
  }

 private:
  void readStderr(int fd) {
    char buf[4096];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(mutex_);
      stderr_.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::lock_guard lock(mutex_);
    stderrClosed_ = true;
    changed_.notify_all();
  }

  pid_t pid_ = -1;
  int stuckStdout_ = -1;
  std::optional<int> exitCode_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string stderr_;
  bool stderrClosed_ = false;
};

/// Sends 64-byte frames on every socket until none has taken a byte for
/// quiet: the server has stopped reading. Returns the bytes sent, or nullopt
/// if the server still read after 64 MiB (far more than its buffers and the
/// kernel's hold) or at the deadline.
std::optional<std::uint64_t> sendUntilTheServerStopsReading(std::vector<TestSocket>& sockets,
                                                            std::chrono::milliseconds quiet,
                                                            std::chrono::seconds deadline) {
  constexpr std::uint64_t kMaxBytes = 64ull << 20;
  std::string payload = "the console is stuck ";
  payload.resize(64, '.');
  std::string batch;
  for (int i = 0; i < 1024; ++i)
    batch += frameBytes(payload);
  std::vector<std::size_t> offset(sockets.size(), 0);
  std::vector<pollfd> fds;
  for (TestSocket& s : sockets)
    fds.push_back({s.fd(), POLLOUT, 0});
  std::uint64_t sent = 0;
  auto end = Clock::now() + deadline;
  while (Clock::now() < end && sent < kMaxBytes) {
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(quiet.count()));
    if (rc == 0) return sent;  // nobody could send for `quiet`
    if (rc < 0 && errno != EINTR) return std::nullopt;
    for (std::size_t i = 0; rc > 0 && i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLERR | POLLHUP)) != 0) return std::nullopt;
      if ((fds[i].revents & POLLOUT) == 0) continue;
      // A whole batch's worth at most per wake-up; frames may be split, the
      // next call goes on where this one stopped.
      ssize_t n = ::send(fds[i].fd, batch.data() + offset[i], batch.size() - offset[i],
                         MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return std::nullopt;
      if (n <= 0) continue;
      sent += static_cast<std::uint64_t>(n);
      offset[i] = (offset[i] + static_cast<std::size_t>(n)) % batch.size();
    }
  }
  return std::nullopt;
}

TEST(AbuseBlockedLog, SigtermWhileTheConsoleBlocksEndsWithinTheDrainTimeout) {
  constexpr int kDrainTimeoutS = 2;
  ServerWithStuckConsole server({programPath("uvframe-server"), "--host", "127.0.0.1", "--port",
                                 "0", "--workers", "2", "--stats-interval", "0", "--drain-timeout",
                                 std::to_string(kDrainTimeoutS)});
  std::uint16_t port = listeningPortOf(server.pid(), 20s);
  ASSERT_NE(port, 0) << server.stderrText();

  // Two clients, so both workers are likely to log; the pipe (64 KiB) fills,
  // then every log block, then the server stops reading.
  std::vector<TestSocket> clients;
  for (int i = 0; i < 2; ++i)
    clients.push_back(TestSocket::connect("127.0.0.1", port));
  auto sent = sendUntilTheServerStopsReading(clients, 2s, 60s);
  ASSERT_TRUE(sent) << "the server kept reading (or failed); stderr:\n" << server.stderrText();

  auto signalled = Clock::now();
  server.signal(SIGTERM);
  auto rc = server.waitExit(std::chrono::seconds(kDrainTimeoutS + 5));
  double exitS = std::chrono::duration<double>(Clock::now() - signalled).count();
  ASSERT_TRUE(rc) << "still running " << exitS << " s after SIGTERM with --drain-timeout "
                  << kDrainTimeoutS << "; stderr:\n"
                  << server.stderrText();
  EXPECT_EQ(*rc, 1) << server.stderrText();
  std::smatch m;
  std::string err = server.stderrText();
  ASSERT_TRUE(std::regex_search(err, m, std::regex(R"((\d+) bytes of log could not be written)")))
      << err;
  EXPECT_GT(std::stoull(m[1].str()), 0u) << err;
  std::cout << "[ measured ] console blocked after " << *sent << " bytes sent: exit " << *rc << " "
            << exitS << " s after SIGTERM (--drain-timeout " << kDrainTimeoutS << "); "
            << m[0].str() << "\n";
}

}  // namespace
}  // namespace uvframe::test
