// Unit tests for common/log_writer and common/block_sink: lines logged
// through per-thread block loggers reach the file exactly once, in order,
// with the uvframe prefix; reopen after rename (logrotate); and a failing
// file (/dev/full) is counted, reported and does not hang shutdown.
// Synchronisation is by flush()+drain()/stop() only, never by sleeping.
#include "log_writer.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
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
            for (int i = 0; i < 200; ++i) {
              loggers[t]->info("t={} n={}", t, i);
              if (i % 50 == 49) loggers[t]->flush();
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

TEST_F(LogWriterTest, FullDiskCountsErrorsAndLostBytes) {
  LogWriter::Options o = options("/dev/full");
  o.retryWindow = std::chrono::milliseconds(50);
  ::testing::internal::CaptureStderr();
  auto start = Clock::now();
  {
    LogWriter writer(o);
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    std::size_t bytes = 0;
    for (int i = 0; i < 10; ++i) {
      std::string message = "lost line " + std::to_string(i);
      logger->info(message);
      bytes += kPrefixBytes + message.size() + 1;
    }
    logger->flush();
    writer.drain();
    LogWriter::Counters c = writer.counters();
    EXPECT_GE(c.writeErrors, 1u);
    EXPECT_EQ(c.bytesLost, bytes);
    EXPECT_EQ(c.bytesWritten, 0u);
    writer.stop();
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot write log file '/dev/full'"), std::string::npos) << err;
}

// The first failing block is retried with backoff for the whole retry window;
// while the file keeps failing, later blocks get a single attempt each.
TEST_F(LogWriterTest, FailingBlockIsRetriedForTheRetryWindow) {
  LogWriter::Options o = options("/dev/full");
  o.retryWindow = std::chrono::milliseconds(600);
  ::testing::internal::CaptureStderr();
  LogWriter writer(o);
  auto logger = makeBlockLogger("server", writer, spdlog::level::info);
  logger->info("first block");
  logger->flush();
  auto start = Clock::now();
  writer.drain();
  auto firstBlockTime = Clock::now() - start;
  // Backoff of 20, 40, 80, 160 ms: at least three attempts fit in 600 ms,
  // also on a busy machine.
  std::uint64_t errorsAfterFirst = writer.counters().writeErrors;
  EXPECT_GE(errorsAfterFirst, 3u);
  EXPECT_GE(firstBlockTime, std::chrono::milliseconds(550));

  logger->info("second block");
  logger->flush();
  writer.drain();
  EXPECT_EQ(writer.counters().writeErrors, errorsAfterFirst + 1);
  writer.stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("(retrying)"), std::string::npos) << err;
}

// Restores the file size limit and the SIGXFSZ disposition on scope exit.
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

// A write cut short (the file size limit stands in for a disk filling up in
// the middle of a block) resumes where it stopped when retried, so no line is
// written twice or torn.
TEST_F(LogWriterTest, RetryAfterPartialWriteDoesNotRepeatBytes) {
  const fs::path file = dir_ / "server.log";
  FileSizeLimit limit;
  LogWriter::Options o = options(file);
  o.retryWindow = std::chrono::seconds(30);
  ::testing::internal::CaptureStderr();
  {
    LogWriter writer(o);
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    std::vector<std::string> expected;
    for (int i = 0; i < 40; ++i) {
      logger->info("[tcp/127.0.0.1:55244] line {}", i);
      expected.push_back("[tcp/127.0.0.1:55244] line " + std::to_string(i));
    }
    limit.set(1000);
    logger->flush();
    // Wait (bounded) for the writer to hit the limit, then lift it so the
    // retry succeeds.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (writer.counters().writeErrors == 0 && Clock::now() < deadline)
      std::this_thread::yield();
    limit.lift();
    ASSERT_GE(writer.counters().writeErrors, 1u);
    writer.drain();
    EXPECT_EQ(messagesOf(readLines(file)), expected);
    EXPECT_EQ(writer.counters().bytesWritten, fs::file_size(file));
    EXPECT_EQ(writer.counters().bytesLost, 0u);
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("is writable again"), std::string::npos) << err;
}

TEST_F(LogWriterTest, StopDuringRetryReturnsQuickly) {
  LogWriter::Options o = options("/dev/full");
  o.retryWindow = std::chrono::minutes(10);
  ::testing::internal::CaptureStderr();
  auto start = Clock::now();
  {
    LogWriter writer(o);
    auto logger = makeBlockLogger("server", writer, spdlog::level::info);
    logger->info("doomed");
    logger->flush();
    writer.stop();
    EXPECT_EQ(writer.counters().bytesLost, kPrefixBytes + 7);
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
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
