// Unit tests for common/log_writer and common/block_sink: lines logged
// through per-thread block loggers reach the file exactly once, in order,
// with the uvframe prefix; reopen after rename (logrotate) and its outcome.
// Faults, without root or sockets: a file that fails (RLIMIT_FSIZE stands in
// for a full disk, /dev/full for one that never frees) is retried until it
// works and holds the producers back, abandon() and stopWithin() give up
// with every byte counted, a console pipe that is full (EAGAIN), stuck or
// broken (EPIPE), and a cut line never glued to the next one.
// Synchronisation is by flush()+drain()/stop() or polling the counters with
// a deadline, never by sleeping.
#include "log_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/logger.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "block_sink.h"

namespace uvframe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// "[2026-11-25 19:00:00.123] [info] " is 33 characters.
constexpr std::size_t kPrefixBytes = 33;

std::vector<std::string> readLines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Strips and checks the spdlog prefix of every line; returns the messages.
std::vector<std::string> messagesOf(const std::vector<std::string>& lines) {
  static const std::regex kPrefix(R"(^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] \[info\] )");
  std::vector<std::string> messages;
  for (const std::string& line : lines) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(line, m, kPrefix)) << line;
    EXPECT_EQ(m.length(0), static_cast<long>(kPrefixBytes)) << line;
    messages.push_back(line.substr(std::min(line.size(), kPrefixBytes)));
  }
  return messages;
}

class LogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("uvframe-unit-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  LogWriter::Options options(const fs::path& file) const {
    LogWriter::Options o;
    o.console = false;
    o.filePath = file.string();
    return o;
  }

  fs::path dir_;
};

TEST_F(LogWriterTest, LinesReachFileOnceInOrderWithPrefix) {
  const fs::path file = dir_ / "server.log";
  LogWriter::Options o = options(file);
  o.blockBytes = 1024;  // many hand-overs
  o.maxBlocks = 3;      // and backpressure on the producer
  LogWriter writer(o);
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    logger->info("[tcp/127.0.0.1:55244] line {}", i);
    logger->debug("not at info level {}", i);
    expected.push_back("[tcp/127.0.0.1:55244] line " + std::to_string(i));
  }
  logger->flush();
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(file)), expected);
  EXPECT_EQ(writer.counters().bytesWritten, fs::file_size(file));
  EXPECT_EQ(writer.counters().writeErrors, 0u);
  EXPECT_EQ(writer.counters().bytesLost, 0u);
}

TEST_F(LogWriterTest, StopWritesEverythingQueued) {
  const fs::path file = dir_ / "server.log";
  LogWriter writer(options(file));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  for (int i = 0; i < 100; ++i)
    logger->info("message {}", i);
  logger->flush();
  writer.stop();
  writer.stop();   // idempotent
  writer.drain();  // returns at once once stopped
  std::vector<std::string> messages = messagesOf(readLines(file));
  ASSERT_EQ(messages.size(), 100u);
  EXPECT_EQ(messages.front(), "message 0");
  EXPECT_EQ(messages.back(), "message 99");
}

TEST_F(LogWriterTest, DestroyedLoggerHandsOverItsLastLines) {
  const fs::path file = dir_ / "server.log";
  LogWriter writer(options(file));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("first");
  logger->info("second");
  logger.reset();  // no flush: the sink's destructor submits its block
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(file)), (std::vector<std::string>{"first", "second"}));
}

TEST_F(LogWriterTest, UnflushedLinesStayInTheSink) {
  const fs::path file = dir_ / "server.log";
  LogWriter writer(options(file));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("pending");
  writer.drain();
  EXPECT_TRUE(readLines(file).empty()) << "a block is handed over on flush or when full";
  logger->flush();
  writer.drain();
  EXPECT_EQ(readLines(file).size(), 1u);
}

TEST_F(LogWriterTest, ThreadsWithTheirOwnLoggersLoseNothing) {
  const fs::path file = dir_ / "server.log";
  LogWriter::Options o = options(file);
  o.blockBytes = 2048;
  o.maxBlocks = 6;  // each sink holds one block; two more circulate
  LogWriter writer(o);
  constexpr int kThreads = 4;
  constexpr int kLines = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&writer, t] {
      auto logger = makeBlockLogger("worker" + std::to_string(t), writer, spdlog::level::info);
      for (int i = 0; i < kLines; ++i)
        logger->info("t={} n={}", t, i);
      logger->flush();
    });
  }
  for (std::thread& th : threads)
    th.join();
  writer.drain();

  std::map<int, int> nextByThread;
  static const std::regex kMessage(R"(^t=(\d+) n=(\d+)$)");
  for (const std::string& m : messagesOf(readLines(file))) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(m, match, kMessage)) << m;
    int t = std::stoi(match[1]);
    int n = std::stoi(match[2]);
    // Each thread's blocks are queued in order, so its lines stay in order;
    // a gap or a repeat would show up here.
    ASSERT_EQ(n, nextByThread[t]) << "thread " << t;
    nextByThread[t] = n + 1;
  }
  ASSERT_EQ(nextByThread.size(), static_cast<std::size_t>(kThreads));
  for (const auto& [t, next] : nextByThread)
    EXPECT_EQ(next, kLines) << "thread " << t;
}

// Runs body on another thread; a body that hangs past the deadline aborts
// the test binary with a message instead of blocking it forever.
void runWithDeadline(const std::function<void()>& body, std::chrono::seconds deadline) {
  std::packaged_task<void()> task(body);
  std::future<void> done = task.get_future();
  std::thread runner(std::move(task));
  if (done.wait_for(deadline) != std::future_status::ready) {
    std::fprintf(stderr, "deadlock: the test body did not finish within %llds\n",
                 static_cast<long long>(deadline.count()));
    std::abort();
  }
  runner.join();
  done.get();
}

// One sink per logging thread, and more threads than blocks in circulation
// (the server has one sink per worker plus one, and --workers may exceed
// maxBlocks): creating the loggers must not wait for blocks, and every
// thread's lines still arrive.
TEST_F(LogWriterTest, MoreLoggersThanBlocksDoNotDeadlock) {
  const fs::path file = dir_ / "server.log";
  LogWriter::Options o = options(file);
  o.maxBlocks = 2;
  LogWriter writer(o);
  constexpr int kThreads = 6;
  runWithDeadline(
      [&writer] {
        std::vector<std::shared_ptr<spdlog::logger>> loggers;
        for (int t = 0; t < kThreads; ++t)
          loggers.push_back(
              makeBlockLogger("worker" + std::to_string(t), writer, spdlog::level::info));
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
          threads.emplace_back([&loggers, t] {
            auto& logger = loggers[static_cast<std::size_t>(t)];
            for (int i = 0; i < 200; ++i) {
              logger->info("t={} n={}", t, i);
              if (i % 50 == 49) logger->flush();
            }
          });
        }
        for (std::thread& th : threads)
          th.join();
        writer.drain();
      },
      std::chrono::seconds(10));
  EXPECT_EQ(readLines(file).size(), static_cast<std::size_t>(kThreads * 200));
}

TEST_F(LogWriterTest, ReopenAfterRenameWritesToNewFile) {
  const fs::path file = dir_ / "server.log";
  const fs::path rotated = dir_ / "server.log.1";
  LogWriter writer(options(file));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("before rotation");
  logger->flush();
  writer.drain();
  fs::rename(file, rotated);
  writer.requestReopen();
  logger->info("after rotation");
  logger->flush();
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(rotated)), (std::vector<std::string>{"before rotation"}));
  EXPECT_EQ(messagesOf(readLines(file)), (std::vector<std::string>{"after rotation"}));
}

TEST_F(LogWriterTest, ReopenWithoutRenameKeepsAppending) {
  const fs::path file = dir_ / "server.log";
  LogWriter writer(options(file));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("one");
  logger->flush();
  writer.requestReopen();
  logger->info("two");
  logger->flush();
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(file)), (std::vector<std::string>{"one", "two"}));
}

TEST_F(LogWriterTest, UnopenableFileThrowsWithItsPath) {
  const fs::path file = dir_ / "no-such-dir" / "server.log";
  try {
    LogWriter writer(options(file));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

// --- Faults: the file fails, the console blocks or goes away, the owner gives up.

using namespace std::chrono_literals;

// Polls until pred holds or the deadline: there is no event for "the writer
// retried" or "the writer wrote into the pipe".
bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Logs n numbered lines; keeps the messages and the bytes they take in a log.
struct Logged {
  std::vector<std::string> messages;
  std::size_t bytes = 0;
};
Logged logLines(spdlog::logger& logger, int n, const std::string& tag = "line") {
  Logged logged;
  for (int i = 0; i < n; ++i) {
    logged.messages.push_back("[tcp/127.0.0.1:55244] " + tag + " " + std::to_string(i));
    logger.info(logged.messages.back());
    logged.bytes += kPrefixBytes + logged.messages.back().size() + 1;
  }
  return logged;
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos;
       start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  return lines;
}

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Restores the file size limit and the SIGXFSZ disposition on scope exit. A
// limit stands in for a disk that fills up (EFBIG, also for root, which a
// full disk's reserve would not stop); lifting it is the disk freed.
class FileSizeLimit {
 public:
  FileSizeLimit() {
    EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &original_), 0);
    oldHandler_ = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of death
  }
  ~FileSizeLimit() {
    lift();
    std::signal(SIGXFSZ, oldHandler_);
  }
  void set(rlim_t bytes) {
    rlimit small = original_;
    small.rlim_cur = bytes;
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  }
  void lift() { ::setrlimit(RLIMIT_FSIZE, &original_); }

 private:
  rlimit original_{};
  void (*oldHandler_)(int) = SIG_DFL;
};

// SIGPIPE ignored for the scope (as the server does), so a console pipe
// without a reader gives EPIPE.
struct SigpipeIgnored {
  SigpipeIgnored() : old(std::signal(SIGPIPE, SIG_IGN)) {}
  ~SigpipeIgnored() { std::signal(SIGPIPE, old); }
  void (*old)(int);
};

// A pipe that holds one page, so a few KiB fill it.
struct SmallPipe {
  explicit SmallPipe(bool nonBlockingWrite) {
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    EXPECT_EQ(::fcntl(fds[1], F_SETPIPE_SZ, 4096), 4096);
    if (nonBlockingWrite) ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  }
  ~SmallPipe() {
    closeRead();
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void closeRead() {
    if (fds[0] >= 0) ::close(fds[0]);
    fds[0] = -1;
  }
  // Reads until n bytes arrived or the deadline passed.
  std::string read(std::size_t n, std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    char buf[8192];
    while (out.size() < n && Clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t r = ::read(fds[0], buf, sizeof buf);
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  int fds[2] = {-1, -1};
};

// Standard output pointed at fd for the scope. Nothing may print to stdout
// meanwhile (gtest prints failures there): assert after the scope.
struct StdoutRedirect {
  explicit StdoutRedirect(int fd) : saved(::dup(1)) {
    std::fflush(stdout);
    ::dup2(fd, 1);
  }
  ~StdoutRedirect() {
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
  }
  int saved;
};

// A failing file write is retried (with backoff) until it works, resuming
// after the bytes that reached the file: nothing lost, nothing repeated,
// reported at the start, while it lasts and at the end.
TEST_F(LogWriterTest, FailingFileIsRetriedUntilItWorksAgain) {
  const fs::path file = dir_ / "server.log";
  FileSizeLimit limit;
  LogWriter::Options o = options(file);
  o.reportInterval = 100ms;
  ::testing::internal::CaptureStderr();
  {
    LogWriter writer(o);
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    Logged logged = logLines(*logger, 40);
    limit.set(1500);  // the disk fills up in the middle of the block
    logger->flush();
    // Six attempts take 20+40+80+160+320 ms of backoff; none drops the block.
    ASSERT_TRUE(waitFor([&] { return writer.counters().writeErrors >= 6; }));
    LogWriter::Counters c = writer.counters();
    EXPECT_TRUE(c.fileFailing);
    EXPECT_EQ(c.bytesLost, 0u);
    EXPECT_EQ(c.bytesWritten, 1500u);
    EXPECT_EQ(c.bytesPending, logged.bytes - 1500);
    limit.lift();
    writer.drain();
    EXPECT_EQ(messagesOf(readLines(file)), logged.messages);
    c = writer.counters();
    EXPECT_FALSE(c.fileFailing);
    EXPECT_EQ(c.bytesWritten, logged.bytes);
    EXPECT_EQ(fs::file_size(file), logged.bytes);
    EXPECT_EQ(c.bytesLost + c.bytesPending, 0u);
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot write log file '" + file.string() + "': File too large"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("still failing"), std::string::npos) << err;
  EXPECT_NE(err.find("bytes waiting"), std::string::npos) << err;
  EXPECT_NE(err.find("is writable again"), std::string::npos) << err;
}

// While the file fails, blocks queue up; once every block is queued the
// producer waits in acquire() (the server stops reading its sockets).
TEST_F(LogWriterTest, ProducersWaitWhileTheFileFails) {
  const fs::path file = dir_ / "server.log";
  FileSizeLimit limit;
  LogWriter::Options o = options(file);
  o.blockBytes = 1024;
  o.maxBlocks = 3;
  ::testing::internal::CaptureStderr();
  LogWriter writer(o);
  limit.set(0);
  std::atomic<bool> done{false};
  Logged logged;
  std::thread producer([&] {
    auto logger = makeBlockLogger("worker", writer, spdlog::level::info);
    logged = logLines(*logger, 2000);
    logger->flush();
    done = true;
  });
  // 2000 lines need about 100 blocks: the producer cannot be done before
  // the file works again.
  EXPECT_TRUE(waitFor([&] { return writer.counters().writeErrors >= 3; }));
  EXPECT_FALSE(done.load());
  EXPECT_LE(writer.counters().bytesPending, 3u * 1024u);
  limit.lift();
  runWithDeadline([&] { producer.join(); }, 20s);
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(file)), logged.messages);
  EXPECT_EQ(writer.counters().bytesLost, 0u);
  writer.stop();
  ::testing::internal::GetCapturedStderr();
}

// abandon(): what is queued or being retried counts as lost at once, the
// waiting producer goes on (its later blocks are counted, not queued), and
// acquire() never waits again, not even past maxBlocks.
TEST_F(LogWriterTest, AbandonCountsWhatIsUnwrittenAndAcquireNeverWaitsAgain) {
  LogWriter::Options o = options("/dev/full");
  o.blockBytes = 1024;
  o.maxBlocks = 2;
  ::testing::internal::CaptureStderr();
  LogWriter writer(o);
  Logged logged;
  std::thread producer([&] {
    auto logger = makeBlockLogger("worker", writer, spdlog::level::info);
    logged = logLines(*logger, 500);
    logger->flush();
  });
  EXPECT_TRUE(waitFor([&] { return writer.counters().writeErrors >= 2; }));
  writer.abandon();
  runWithDeadline([&] { producer.join(); }, 10s);
  LogWriter::Counters c = writer.counters();
  EXPECT_EQ(c.bytesWritten, 0u);
  EXPECT_EQ(c.fileBytesLost, logged.bytes);
  EXPECT_EQ(c.bytesLost, logged.bytes);
  EXPECT_EQ(c.bytesPending, 0u);
  runWithDeadline(
      [&] {
        std::vector<LogWriter::Block> held;
        for (int i = 0; i < 5; ++i)
          held.push_back(writer.acquire());
        for (LogWriter::Block& block : held) {
          block.append(std::string_view("late\n"));
          writer.submit(std::move(block));
        }
      },
      10s);
  EXPECT_EQ(writer.counters().bytesLost, logged.bytes + 5 * 5);
  auto start = Clock::now();
  EXPECT_TRUE(writer.stopWithin(0ms));
  EXPECT_LT(Clock::now() - start, 2s);
  ::testing::internal::GetCapturedStderr();
}

// stopWithin(): a file that keeps failing is given up at the deadline.
TEST_F(LogWriterTest, StopWithinGivesUpOnAFailingFile) {
  ::testing::internal::CaptureStderr();
  LogWriter writer(options("/dev/full"));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  Logged logged = logLines(*logger, 10);
  logger->flush();
  auto start = Clock::now();
  EXPECT_TRUE(writer.stopWithin(300ms));
  auto took = Clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
  LogWriter::Counters c = writer.counters();
  EXPECT_GE(c.writeErrors, 1u);
  EXPECT_EQ(c.bytesLost, logged.bytes);
  EXPECT_EQ(c.bytesPending, 0u);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot write log file '/dev/full': No space left on device"),
            std::string::npos)
      << err;
}

// A console nobody reads: a blocking one holds the writer inside write(2),
// which cannot be interrupted, so stopWithin() says false and the destructor
// does not join; a non-blocking one holds it in poll(), which abandon() ends.
TEST_F(LogWriterTest, StopWithinAConsoleNobodyReads) {
  SigpipeIgnored sigpipe;
  for (bool nonBlocking : {false, true}) {
    SCOPED_TRACE(nonBlocking ? "non-blocking console" : "blocking console");
    SmallPipe pipe(nonBlocking);
    LogWriter::Options o;
    o.consoleFd = pipe.fds[1];
    auto start = Clock::now();
    {
      LogWriter writer(o);
      auto logger = makeBlockLogger("server", writer, spdlog::level::info);
      Logged logged = logLines(*logger, 2000);  // two blocks, 30 pipes full
      logger->flush();
      // Once the pipe is full the writer is in write(2) or poll() for good.
      EXPECT_TRUE(waitFor([&] {
        int queued = 0;
        return ::ioctl(pipe.fds[0], FIONREAD, &queued) == 0 && queued >= 4096;
      }));
      EXPECT_EQ(writer.stopWithin(300ms), nonBlocking);
      LogWriter::Counters c = writer.counters();
      EXPECT_EQ(c.consoleBytesWritten + c.consoleBytesLost, logged.bytes);
      EXPECT_GE(c.consoleBytesLost, logged.bytes - 4096);
      EXPECT_EQ(c.bytesPending, 0u);
    }
    EXPECT_LT(Clock::now() - start, 5s);
    // Lets a stuck write(2) return (EPIPE or short): the detached thread
    // ends. Its descriptor stays open: nothing says when the thread is out of
    // write(2), and closing it under the thread would be a race.
    pipe.closeRead();
    pipe.fds[1] = -1;
  }
}

// A non-blocking standard output that fills up (EAGAIN) is waited for with
// poll(), not dropped. The real descriptor 1, as the server has it.
TEST_F(LogWriterTest, NonBlockingStdoutThatFillsUpIsWaitedFor) {
  SmallPipe pipe(/*nonBlockingWrite=*/true);
  Logged logged;
  std::string received;
  bool filled = false;
  LogWriter::Counters c;
  {
    StdoutRedirect redirect(pipe.fds[1]);
    LogWriter writer(LogWriter::Options{});
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    logged = logLines(*logger, 2000);
    logger->flush();
    // Read only once the pipe is full, so the writer meets EAGAIN.
    filled = waitFor([&] { return writer.counters().consoleBytesWritten >= 4096; });
    received = pipe.read(logged.bytes, 20s);
    writer.drain();
    c = writer.counters();
  }
  EXPECT_TRUE(filled);
  EXPECT_EQ(received.size(), logged.bytes);
  EXPECT_EQ(messagesOf(splitLines(received)), logged.messages);
  EXPECT_EQ(c.consoleBytesWritten, logged.bytes);
  EXPECT_EQ(c.consoleBytesLost, 0u);
  EXPECT_FALSE(c.consoleFailed);
}

// A console whose reader is gone (EPIPE) is switched off, said once, and
// every byte it misses is counted; the file gets everything.
TEST_F(LogWriterTest, BrokenConsoleIsCountedAsLostAndTheFileGoesOn) {
  const fs::path file = dir_ / "server.log";
  SigpipeIgnored sigpipe;
  SmallPipe pipe(false);
  pipe.closeRead();
  LogWriter::Options o = options(file);
  o.console = true;
  o.consoleFd = pipe.fds[1];
  ::testing::internal::CaptureStderr();
  LogWriter writer(o);
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  Logged first = logLines(*logger, 10);
  logger->flush();
  writer.drain();
  Logged later = logLines(*logger, 5, "later");
  logger->flush();
  writer.drain();
  LogWriter::Counters c = writer.counters();
  EXPECT_TRUE(c.consoleFailed);
  EXPECT_EQ(c.consoleBytesLost, first.bytes + later.bytes);
  EXPECT_EQ(c.fileBytesLost, 0u);
  EXPECT_EQ(c.bytesLost, c.consoleBytesLost);
  EXPECT_EQ(c.bytesWritten, first.bytes + later.bytes);
  EXPECT_EQ(readLines(file).size(), 15u);
  writer.stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(splitLines(err).size(), 1u) << err;
  EXPECT_NE(err.find("console output failed (Broken pipe)"), std::string::npos) << err;
}

// The owner learns each reopen's real outcome; a failed one keeps the old file.
TEST_F(LogWriterTest, ReopenReportsItsOutcome) {
  const fs::path file = dir_ / "server.log";
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<bool, std::string>> outcomes;
  LogWriter::Options o = options(file);
  o.onReopened = [&](bool ok, const std::string& error) {
    std::lock_guard lock(m);
    outcomes.emplace_back(ok, error);
    cv.notify_all();
  };
  auto outcome = [&](std::size_t n) {
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return outcomes.size() >= n; }));
    return outcomes.size() >= n ? outcomes[n - 1] : std::pair<bool, std::string>{};
  };
  ::testing::internal::CaptureStderr();
  LogWriter writer(o);
  fs::rename(file, dir_ / "server.log.1");
  writer.requestReopen();
  EXPECT_EQ(outcome(1), std::make_pair(true, std::string()));
  // Even root cannot open a directory for writing.
  fs::rename(file, dir_ / "server.log.2");
  fs::create_directory(file);
  writer.requestReopen();
  EXPECT_EQ(outcome(2), std::make_pair(false, std::string("Is a directory")));
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("still logging");
  logger->flush();
  writer.drain();
  EXPECT_EQ(messagesOf(readLines(dir_ / "server.log.2")),
            std::vector<std::string>{"still logging"});
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot reopen log file"), std::string::npos) << err;
}

// Fills the file up to a point in the middle of line 20, then reopens it
// (renamed away first when rotate) while the block is being retried, then
// frees the disk. Returns what was logged.
Logged cutMidLineThenReopen(const LogWriter::Options& options, bool rotate) {
  FileSizeLimit limit;
  std::promise<bool> reopened;
  LogWriter::Options o = options;
  o.onReopened = [&reopened](bool ok, const std::string&) { reopened.set_value(ok); };
  LogWriter writer(o);
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  Logged logged = logLines(*logger, 40);
  limit.set(static_cast<rlim_t>(logged.bytes / 2 + 10));
  logger->flush();
  EXPECT_TRUE(waitFor([&] { return writer.counters().writeErrors >= 1; }));
  if (rotate) fs::rename(o.filePath, o.filePath + ".1");
  writer.requestReopen();
  std::future<bool> done = reopened.get_future();
  EXPECT_EQ(done.wait_for(10s), std::future_status::ready);
  limit.lift();
  writer.drain();
  return logged;
}

// Reopening the same file (nothing rotated) goes on with the cut line.
TEST_F(LogWriterTest, ReopenWhileFailingOnTheSameFileGoesOnWithTheCutLine) {
  const fs::path file = dir_ / "server.log";
  ::testing::internal::CaptureStderr();
  Logged logged = cutMidLineThenReopen(options(file), false);
  EXPECT_EQ(messagesOf(readLines(file)), logged.messages);
  EXPECT_EQ(fs::file_size(file), logged.bytes);
  ::testing::internal::GetCapturedStderr();
}

// Reopening a new file (rotated while failing): the cut line starts again,
// whole, in the new file, so every line is whole in one of them.
TEST_F(LogWriterTest, ReopenWhileFailingOnANewFileStartsTheCutLineAgain) {
  const fs::path file = dir_ / "server.log";
  ::testing::internal::CaptureStderr();
  Logged logged = cutMidLineThenReopen(options(file), true);
  std::string old = readAll(file.string() + ".1");
  std::string now = readAll(file);
  ASSERT_FALSE(old.empty());
  EXPECT_NE(old.back(), '\n') << "the old file ends with a cut line";
  std::string whole = old.substr(0, old.rfind('\n') + 1);
  std::string head = old.substr(whole.size());
  EXPECT_EQ(now.substr(0, head.size()), head);
  std::vector<std::string> lines = splitLines(whole);
  for (const std::string& line : splitLines(now))
    lines.push_back(line);
  EXPECT_EQ(messagesOf(lines), logged.messages);
  ::testing::internal::GetCapturedStderr();
}

// A write abandoned in the middle of a line leaves the file cut; whoever
// writes to it next (here a restarted server) starts on a new line.
TEST_F(LogWriterTest, AfterACutLineTheNextBlockStartsOnANewLine) {
  const fs::path file = dir_ / "server.log";
  ::testing::internal::CaptureStderr();
  Logged logged;
  {
    FileSizeLimit limit;
    LogWriter writer(options(file));
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    logged = logLines(*logger, 40);
    limit.set(static_cast<rlim_t>(logged.bytes / 2 + 10));
    logger->flush();
    EXPECT_TRUE(waitFor([&] { return writer.counters().writeErrors >= 1; }));
    EXPECT_TRUE(writer.stopWithin(0ms));
    EXPECT_EQ(writer.counters().fileBytesLost, logged.bytes - (logged.bytes / 2 + 10));
  }
  {
    LogWriter writer(options(file));
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    logger->info("after restart");
  }
  // The lines before the cut, the cut one, then the next writer's first.
  std::size_t whole = 0;
  for (std::size_t bytes = 0;
       bytes + kPrefixBytes + logged.messages[whole].size() + 1 <= logged.bytes / 2 + 10; ++whole)
    bytes += kPrefixBytes + logged.messages[whole].size() + 1;
  std::vector<std::string> lines = readLines(file);
  ASSERT_EQ(lines.size(), whole + 2);
  EXPECT_EQ(messagesOf({lines.begin(), lines.begin() + static_cast<long>(whole)}),
            std::vector<std::string>(logged.messages.begin(),
                                     logged.messages.begin() + static_cast<long>(whole)));
  EXPECT_LT(lines[whole].size(), kPrefixBytes + logged.messages[whole].size()) << "cut";
  EXPECT_EQ(messagesOf({lines.back()}), std::vector<std::string>{"after restart"});
  ::testing::internal::GetCapturedStderr();
}

TEST_F(LogWriterTest, DrainWithNothingQueuedReturnsAtOnce) {
  LogWriter writer(options(dir_ / "server.log"));
  writer.drain();
  EXPECT_EQ(writer.counters().bytesWritten, 0u);
}

TEST_F(LogWriterTest, NoFileNoConsoleStillDrains) {
  LogWriter::Options o;
  o.console = false;
  LogWriter writer(o);
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("nowhere");
  logger->flush();
  writer.drain();
  EXPECT_EQ(writer.counters().bytesLost, 0u);
}

}  // namespace
}  // namespace uvframe
