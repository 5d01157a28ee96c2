// SIGTERM drains, bounded (SPEC "Server options", the SIGINT/SIGTERM
// paragraph): stop accepting, log every complete frame already received
// (connections waiting in the accept backlog included), close, flush, write
// the final stats line and exit 0 within --drain-timeout (plus a second);
// SIGHUP still reopens the log during the drain; and nothing is dropped
// silently (a drain that cannot read everything says so, a reopen that fails
// does not claim success).
//
// A peer that sends faster than the server logs must not keep a draining
// server alive, so the drain reads what the kernel held at the signal, not
// "until EAGAIN". Those tests log to a FIFO that the test reads (FifoLog):
// the log goes as fast as the server writes it, nothing piles up on disk
// even when a drain never ends, and the test can hold the log still to keep
// a drain going for as long as it needs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "abuse_support.h"
#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// True once process pid is stopped (SIGSTOP): state T in /proc/<pid>/stat,
// polled with a deadline (there is no event for it short of waitpid, which
// ChildProcess owns).
bool waitStopped(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'T')
      return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// True once the kernel has transmitted every byte written to fd; on loopback
// they are then in the server's receive queue.
bool waitAllSent(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int unsent = 0;
    if (ioctl(fd, SIOCOUTQNSD, &unsent) == 0 && unsent == 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
}

/// The server's --log-file as a FIFO that a thread of this test reads:
/// message lines go to a hook (on the reader thread), only the last line is
/// kept. pauseAfter() stops reading right after a given server line, so the
/// server's log blocks once the pipe and its buffers fill, until resume().
class FifoLog {
 public:
  using LineHook = std::function<void(std::string_view)>;

  FifoLog(std::string path, LineHook onMessage) : path_(std::move(path)), onMessage_(onMessage) {
    if (mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + path_);
    // Opened before the server, non-blocking: the server's open for writing
    // then finds a reader and does not block.
    fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("open " + path_);
    thread_ = std::thread([this] { run(); });
  }
  ~FifoLog() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
    ::close(fd_);
  }
  FifoLog(const FifoLog&) = delete;
  FifoLog& operator=(const FifoLog&) = delete;

  const std::string& path() const { return path_; }

  /// Reading stops right after the first line containing text.
  void pauseAfter(std::string text) {
    std::lock_guard lock(mutex_);
    pauseAfter_ = std::move(text);
  }
  void resume() {
    std::lock_guard lock(mutex_);
    paused_ = false;
    pauseAfter_.clear();
    changed_.notify_all();
  }
  bool waitPaused(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return paused_; });
  }
  /// Waits until at least n message lines have been read.
  bool waitMessages(std::uint64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return messages_ >= n; });
  }
  /// After the server exited: reads what is left in the pipe (until no
  /// writer is left).
  bool finish(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    paused_ = false;
    pauseAfter_.clear();
    finishing_ = true;
    changed_.notify_all();
    return changed_.wait_for(lock, timeout, [this] { return eof_; });
  }
  std::string lastLine() const {
    std::lock_guard lock(mutex_);
    return lastLine_;
  }
  std::uint64_t messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  void run() {
    std::string buffer;
    std::vector<char> chunk(64 * 1024);
    std::unique_lock lock(mutex_);
    while (!quit_ && !eof_) {
      takeLines(buffer);  // lines left over from before a pause
      if (paused_) {
        changed_.notify_all();
        changed_.wait(lock, [this] { return quit_ || !paused_; });
        continue;
      }
      const bool finishing = finishing_;
      lock.unlock();
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 20);
      ssize_t n = ::read(fd_, chunk.data(), chunk.size());
      if (n == 0 && !finishing) {
        // No writer yet, or between a SIGHUP's close and reopen: look again.
        std::this_thread::sleep_for(5ms);
      }
      lock.lock();
      if (n > 0) buffer.append(chunk.data(), static_cast<std::size_t>(n));
      // With no writer left once the server is gone, the pipe is empty.
      if (n == 0 && finishing) {
        takeLines(buffer);
        eof_ = true;
      }
      changed_.notify_all();
    }
  }

  // Hands every complete line in buffer on; stops after a pauseAfter_ line
  // (the rest waits in buffer, not in the pipe, which is what the server
  // sees). Called with mutex_ held.
  void takeLines(std::string& buffer) {
    std::size_t start = 0;
    for (std::size_t nl; !paused_ && (nl = buffer.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      std::string_view line(buffer.data() + start, nl - start);
      if (line.find("] [tcp/") != std::string_view::npos) {
        ++messages_;
        onMessage_(line);
      } else if (!pauseAfter_.empty() && line.find(pauseAfter_) != std::string_view::npos) {
        paused_ = true;
      }
      lastLine_.assign(line);
    }
    buffer.erase(0, start);
  }

  std::string path_;
  LineHook onMessage_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string pauseAfter_;
  bool paused_ = false;
  bool finishing_ = false;
  bool eof_ = false;
  bool quit_ = false;
  std::uint64_t messages_ = 0;
  std::string lastLine_;
  std::thread thread_;
};

/// A client that sends 64-byte frames "seq=<10 digits>……" flat out, many per
/// write, from its own thread, until stop(), an error (the server closed the
/// connection) or 25 s. Far faster than any server can log them.
class Blaster {
 public:
  static constexpr std::size_t kPayloadBytes = 64;

  explicit Blaster(std::uint16_t port) : socket_(TestSocket::connect("127.0.0.1", port)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Blaster() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    constexpr std::size_t kFramesPerWrite = 64 * 1024 / (4 + kPayloadBytes);
    std::string batch;
    for (std::size_t i = 0; i < kFramesPerWrite; ++i)
      batch += frameBytes("seq=0000000000" + std::string(kPayloadBytes - 14, '.'));
    auto deadline = Clock::now() + 25s;
    std::uint64_t seq = 0;
    try {
      while (!stop_ && Clock::now() < deadline) {
        for (std::size_t i = 0; i < kFramesPerWrite; ++i, ++seq) {
          char* digits = batch.data() + i * (4 + kPayloadBytes) + 4 + 4;
          std::snprintf(digits, 11, "%010llu", static_cast<unsigned long long>(seq));
          digits[10] = '.';
        }
        socket_.sendAll(batch);
      }
    } catch (const std::exception&) {
      // The server closed the connection: the drain is over.
    }
  }

  TestSocket socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Checks the blaster's message lines as they stream by: consecutive
/// sequence numbers from 0, none lost, none twice.
struct SequenceCheck {
  std::uint64_t next = 0;
  std::uint64_t errors = 0;
  std::string firstError;

  void operator()(std::string_view line) {
    auto at = line.find("] seq=");
    std::uint64_t seq = 0;
    if (at == std::string_view::npos ||
        std::from_chars(line.data() + at + 6, line.data() + at + 16, seq).ec != std::errc()) {
      fail(line);
      return;
    }
    if (seq != next) fail(line);
    next = seq + 1;
  }
  void fail(std::string_view line) {
    if (errors++ == 0)
      firstError = "expected seq " + std::to_string(next) + ": " + std::string(line);
  }
};

/// uvframe-server started directly (not ServerProcess: with --no-console and
/// a FIFO for the log there is no file to read the listening line from), its
/// port found in /proc; 0 if it exited (bad arguments) or never listened.
struct FifoServer {
  ChildProcess process;
  std::uint16_t port = 0;

  FifoServer(const FifoLog& log, const std::vector<std::string>& args)
      : process(commandLine(log, args)) {
    auto deadline = Clock::now() + 20s;
    while (port == 0 && Clock::now() < deadline && !process.waitExit(0ms)) {
      port = listeningPortOf(process.pid(), 100ms);
    }
  }

  static std::vector<std::string> commandLine(const FifoLog& log,
                                              const std::vector<std::string>& args) {
    std::vector<std::string> argv{programPath("uvframe-server"),
                                  "--host",
                                  "127.0.0.1",
                                  "--port",
                                  "0",
                                  "--no-console",
                                  "--log-file",
                                  log.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

// The number after "key=" in a stats line, or -1.
long long statsValue(const std::string& line, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("[ ,]" + key + "=(\\d+)"))) return -1;
  return std::stoll(m[1].str());
}

TEST(AbuseDrain, FastSenderCannotKeepTheServerAlive) {
  constexpr double kDrainTimeoutS = 2;
  TempDir dir;
  SequenceCheck sequence;
  FifoLog log(dir.file("server.log"), std::ref(sequence));
  FifoServer server(log, {"--workers", "1", "--drain-timeout", "2", "--max-logged-bytes", "16"});
  ASSERT_NE(server.port, 0) << server.process.output();

  Blaster blaster(server.port);
  ASSERT_TRUE(log.waitMessages(1000, 20s)) << server.process.output();
  auto signalled = Clock::now();
  server.process.sendSignal(SIGTERM);
  const auto bound = std::chrono::milliseconds(static_cast<long>((kDrainTimeoutS + 3) * 1000));
  auto rc = server.process.waitExit(bound);
  double exitS = secondsSince(signalled);
  // Whatever happened, stop sending, so a server that is still draining
  // can finish (and the rest of the checks see its whole log).
  blaster.stop();
  if (!rc) {
    rc = server.process.waitExit(60s);
    exitS = secondsSince(signalled);
  }
  ASSERT_TRUE(log.finish(30s));

  EXPECT_LE(exitS, kDrainTimeoutS + 3)
      << "a peer sending faster than the server logs kept it draining until the peer stopped";
  ASSERT_EQ(rc, 0) << server.process.output();
  EXPECT_EQ(sequence.errors, 0u) << sequence.firstError;
  std::string last = log.lastLine();
  EXPECT_NE(last.find("[tcp server] stats: "), std::string::npos) << last;
  EXPECT_NE(last.find("final=true"), std::string::npos) << last;
  EXPECT_EQ(statsValue(last, "frames"), static_cast<long long>(log.messages())) << last;
  std::cout << "[ measured ] flat-out sender, --drain-timeout 2: exit " << exitS
            << " s after SIGTERM; " << log.messages() << " frames logged\n";
}

TEST(AbuseDrain, ConnectionsInTheAcceptBacklogAreLogged) {
  const int kClients = 50;
  ServerProcess server({"--workers", "1"});
  ChildProcess& out = server.process();
  out.sendSignal(SIGSTOP);
  ASSERT_TRUE(waitStopped(out.pid(), 10s));

  // The kernel completes each handshake and queues each frame while the
  // server cannot run: all of them wait in the accept backlog at the signal.
  // (Once SIGCONT wakes it, a worker that sees the listening socket before
  // the stop request accepts them anyway; one stopped before its first poll,
  // as can happen right after the listening line, sees the stop first.)
  std::vector<TestSocket> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(TestSocket::connect("127.0.0.1", server.port()));
    clients.back().sendFrame("backlog c=" + std::to_string(i));
  }
  for (auto& c : clients)
    ASSERT_TRUE(waitAllSent(c.fd(), 10s));
  out.sendSignal(SIGTERM);
  out.sendSignal(SIGCONT);
  ASSERT_EQ(out.waitExit(30s), 0) << out.output();

  for (int i = 0; i < kClients; ++i) {
    const TestSocket& c = clients[static_cast<std::size_t>(i)];
    EXPECT_EQ(server.messagesFrom(c.localHostPort()),
              std::vector<std::string>{"backlog c=" + std::to_string(i)})
        << "client " << i << " was in the backlog at SIGTERM";
    std::string who = "ip=127.0.0.1, port=" + std::to_string(c.localPort());
    EXPECT_EQ(out.linesContaining("client connected: " + who).size(), 1u) << who;
    EXPECT_EQ(
        out.linesContaining("client disconnected: " + who + " (reason=server shutdown, frames=1,")
            .size(),
        1u)
        << who;
  }
  auto stats = out.linesContaining("final=true");
  ASSERT_EQ(stats.size(), 1u) << out.output();
  EXPECT_EQ(statsValue(stats[0], "accepted"), kClients) << stats[0];
}

// Ten connections each send three frames and 8,000 bytes of a 50,000-byte
// one, against an input budget of two 64 KiB chunks: the first two to be
// read hold a chunk each for their unfinished frame, the others wait for
// memory with all their bytes still in the kernel when SIGTERM comes. The
// drain either logs every complete frame or names, in a warning, how many
// connections (or bytes) it left unread; it never drops them silently.
TEST(AbuseDrain, DrainThatRunsOutOfMemorySaysSo) {
  const int kClients = 10;
  const int kFrames = 3;
  ServerProcess server({"--workers", "1", "--max-frame", "60000", "--max-input-memory", "1"});
  ChildProcess& out = server.process();
  std::vector<TestSocket> clients;
  std::vector<std::size_t> sentBytes;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(TestSocket::connect("127.0.0.1", server.port()));
    std::string bytes;
    for (int f = 0; f < kFrames; ++f)
      bytes += frameBytes("c=" + std::to_string(i) + " f=" + std::to_string(f));
    // 8,000 of a 50,000-byte frame: more than a parked tail may hold, so
    // whoever reads it keeps a whole chunk.
    bytes += frameBytes(std::string(50000, 'x')).substr(0, 4 + 8000);
    clients.back().sendAll(bytes);
    sentBytes.push_back(bytes.size());
  }
  for (auto& c : clients)
    ASSERT_TRUE(waitAllSent(c.fd(), 10s));
  ASSERT_TRUE(out.waitUntil(
      [&](const auto& lines) {
        return countContaining(lines, "client connected") == static_cast<std::size_t>(kClients);
      },
      20s))
      << out.output();
  ASSERT_EQ(server.stop(), 0) << out.output();

  std::uint64_t unreadConnections = 0;
  std::uint64_t unreadBytes = 0;
  std::uint64_t unlogged = 0;
  for (int i = 0; i < kClients; ++i) {
    const TestSocket& c = clients[static_cast<std::size_t>(i)];
    auto line = out.linesContaining(
        "client disconnected: ip=127.0.0.1, port=" + std::to_string(c.localPort()) + " (");
    ASSERT_EQ(line.size(), 1u) << c.localPort();
    long long received = statsValue(line[0], "bytes");
    auto logged = server.messagesFrom(c.localHostPort());
    unlogged += static_cast<std::uint64_t>(kFrames) - logged.size();
    if (received < static_cast<long long>(sentBytes[static_cast<std::size_t>(i)])) {
      ++unreadConnections;
      unreadBytes += sentBytes[static_cast<std::size_t>(i)] - static_cast<std::uint64_t>(received);
    }
  }
  std::cout << "[ measured ] drain with a 2-chunk budget: " << unreadConnections
            << " connections left with " << unreadBytes << " bytes unread, " << unlogged
            << " complete frames not logged\n";
  if (unreadConnections == 0) {
    EXPECT_EQ(unlogged, 0u) << "read everything but did not log every frame";
    return;  // the drain read everything: nothing to report
  }

  // The report: a warning after the shutdown line that names what was left.
  auto lines = out.lines();
  auto shutdown = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("[tcp server] shutting down") != std::string::npos;
  });
  ASSERT_NE(shutdown, lines.end()) << out.output();
  bool reported = false;
  for (auto it = shutdown; it != lines.end() && !reported; ++it) {
    std::string level;
    std::string text = withoutPrefix(*it, &level);
    if (level != "warning" || text.find("unread") == std::string::npos) continue;
    std::regex number("\\d+");
    for (std::sregex_iterator m(text.begin(), text.end(), number), end; m != end; ++m) {
      std::uint64_t v = std::stoull(m->str());
      reported = reported || v == unreadConnections || v == unreadBytes;
    }
  }
  EXPECT_TRUE(reported) << "the drain left " << unreadConnections << " connections with "
                        << unreadBytes << " bytes unread (" << unlogged
                        << " complete frames unlogged) and no warning says so:\n"
                        << out.output();
}

TEST(AbuseDrain, SighupDuringADrainDoesNotKillTheServer) {
  TempDir dir;
  FifoLog log(dir.file("server.log"), [](std::string_view) {});
  FifoServer server(log, {"--workers", "1", "--drain-timeout", "5", "--max-logged-bytes", "16"});
  ASSERT_NE(server.port, 0) << server.process.output();
  Blaster blaster(server.port);
  ASSERT_TRUE(log.waitMessages(1000, 20s)) << server.process.output();

  // Hold the log still right after the shutdown line: the drain that follows
  // cannot finish (what the kernel held at the signal is many times what the
  // pipe and the server's log buffers take), so the server is surely
  // draining when SIGHUP comes.
  log.pauseAfter("[tcp server] shutting down");
  server.process.sendSignal(SIGTERM);
  ASSERT_TRUE(log.waitPaused(20s)) << "no shutdown line; " << server.process.output();
  ASSERT_FALSE(server.process.waitExit(0ms)) << "exited before the test could send SIGHUP";
  server.process.sendSignal(SIGHUP);
  log.resume();

  auto rc = server.process.waitExit(20s);
  blaster.stop();
  if (!rc) rc = server.process.waitExit(60s);
  ASSERT_TRUE(log.finish(30s));
  // ChildProcess reports death by a signal as 128 + its number.
  ASSERT_TRUE(rc);
  EXPECT_NE(*rc, 128 + SIGHUP) << "killed by SIGHUP during the drain";
  EXPECT_EQ(*rc, 0) << server.process.output();
  EXPECT_NE(log.lastLine().find("final=true"), std::string::npos) << log.lastLine();
}

TEST(AbuseDrain, FailedReopenIsReportedAsFailed) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("sub"));
  std::string logPath = dir.file("sub/server.log");
  ServerProcess server({"--workers", "1", "--log-file", logPath});
  ChildProcess& out = server.process();

  // logrotate moved the file away, and its directory is gone too: the
  // reopen cannot create the file again.
  std::filesystem::rename(logPath, dir.file("server.log.1"));
  std::filesystem::remove(dir.file("sub"));
  out.sendSignal(SIGHUP);
  auto failed = out.waitForLine(
      [](const std::string& l) {
        std::string lower = l;
        for (auto& ch : lower)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return lower.find("reopen") != std::string::npos &&
               (lower.find("cannot") != std::string::npos ||
                lower.find("fail") != std::string::npos);
      },
      20s);
  EXPECT_TRUE(failed) << "no line says the reopen failed:\n" << out.output();
  // A frame logged after the SIGHUP puts everything the signal caused on the
  // console before it.
  TestSocket client = TestSocket::connect("127.0.0.1", server.port());
  client.sendFrame("after the failed reopen");
  ASSERT_TRUE(out.waitForText("] after the failed reopen", 20s)) << out.output();
  EXPECT_TRUE(out.linesContaining("log file reopened").empty()) << "claims a reopen that failed:\n"
                                                                << out.output();
}

}  // namespace
}  // namespace uvframe::test
