// bench_log_line: the whole per-message log path, as the server runs it, and
// what it is measured against. Each line is
//   "[2026-11-25 19:00:00.123] [info] [tcp/127.0.0.1:55244] conn=42 seq=… \n"
// with a 64-byte printable payload; every scenario builds the peer prefix plus
// the rendered payload (PayloadRenderer) into a reused std::string first, then:
//   BlockLogger   logger->log(source_loc{}, info, line) on a logger from
//                 makeBlockLogger (LineFormatter -> per-thread BlockSink ->
//                 LogWriter thread -> file in /tmp): the product's path,
//                 reading the clock once per line like the scenarios below
//   BlockLoggerClockPerRead  the same, reading the clock once per 64 lines
//                 and passing it to logger->log(time, loc, level, msg), as
//                 server/connection.cpp's processFrames() does once per read:
//                 the server's path
//   BlockLoggerSpdlogPattern  BlockLogger with spdlog's stock
//                 pattern_formatter (uvframe::kLogPattern) set on the logger
//                 instead of LineFormatter, behind the same BlockSink: before
//   SpdlogAsync   spdlog's stock async_logger (one shared logger, thread pool
//                 with its mutex queue, basic_file_sink_mt, overflow: block)
//   RawFmtBlock   fmt::format_to into a private 64 KiB block, one write() per
//                 block on the producer thread: the ceiling
//   BuildOnly     the line building alone (prefix + PayloadRenderer)
//   BlockLoggerJson  BlockLoggerClockPerRead with --log-format json: the
//                 body "event":"message",…,"payload":"…" built by
//                 server/log_events (LogEvents::appendMessage) and
//                 JsonLineFormatter; compared with the text path (goal:
//                 at least 0.8 of its lines/s)
// with 1 and 2 producer threads. Times are wall-clock (UseRealTime), so
// items_per_second is lines/s of the whole run and 1e9 / it is ns/line.
// Counters: allocs_per_line (producer threads, averaged) and
// bg_allocs_per_line (the writer / pool thread, per line); target 0 for both.
// Before running, main() checks that LineFormatter writes exactly what
// spdlog's pattern writes (tests/unit/line_formatter_test.cpp does too).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bench_support.h"
#include "block_sink.h"
#include "json_line_formatter.h"
#include "line_formatter.h"
#include "log_events.h"
#include "log_writer.h"
#include "payload_renderer.h"
#include "ratio_reporter.h"

namespace {

constexpr std::size_t kPayloadBytes = 64;
constexpr std::size_t kPayloadVariants = 1024;
constexpr std::size_t kBlockBytes = 64 * 1024;
// Frames one read brings at 64 bytes each, for BlockLoggerClockPerRead.
constexpr unsigned kLinesPerRead = 64;
constexpr const char* kPeerPrefix = "[tcp/127.0.0.1:55244] ";

std::string tempLogPath(const char* scenario) {
  return "/tmp/uvframe-bench-" + std::to_string(::getpid()) + "-" + scenario + ".log";
}

/// Payloads like the loadgen's ("conn=<id> seq=<n> " + filler), all 64 bytes.
const std::vector<std::vector<std::byte>>& payloads() {
  static const auto all = [] {
    std::vector<std::vector<std::byte>> v;
    for (std::size_t i = 0; i < kPayloadVariants; ++i) {
      v.push_back(uvframe::bench::toBytes(uvframe::bench::loadgenText(
          "conn=" + std::to_string(i % 97) + " seq=" + std::to_string(i * 7919) + " ",
          kPayloadBytes)));
    }
    return v;
  }();
  return all;
}

/// Builds "[tcp/127.0.0.1:55244] <rendered payload>" into a reused string,
/// as server/connection.cpp's logFrame() does.
class LineBuilder {
 public:
  explicit LineBuilder(bool json = false) : json_(json) { line_.reserve(4096); }
  std::string_view next() {
    const auto& p = payloads()[i_++ % kPayloadVariants];
    if (!json_) {
      line_.assign(kPeerPrefix);
      renderer_.render(p, line_);
      return line_;
    }
    // As server/connection.cpp's logFrame() with --log-format json.
    line_.assign(jsonPrefix_);
    events_.appendMessage(line_, renderer_, p, 0);
    return line_;
  }

 private:
  bool json_;
  uvframe::PayloadRenderer renderer_;
  uvframe::LogEvents events_{uvframe::LogFormat::kJson};
  std::string jsonPrefix_ = events_.messagePrefix(uvframe::PeerAddress{"127.0.0.1", 55244, false});
  std::string line_;
  std::size_t i_ = 0;
};

/// One object shared by the threads of one benchmark run: the first thread to
/// join creates it, the last to leave destroys it. Every thread joins before
/// the loop's start barrier and leaves after its end barrier, so a run never
/// sees the object of another.
template <class T>
class RunShared {
 public:
  T& join() {
    std::lock_guard lock(mutex_);
    if (users_++ == 0) object_ = std::make_unique<T>();
    return *object_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--users_ == 0) object_.reset();
  }

 private:
  std::mutex mutex_;
  int users_ = 0;
  std::unique_ptr<T> object_;
};

/// spdlog's stock formatter for uvframe's pattern: what LineFormatter replaced.
std::unique_ptr<spdlog::pattern_formatter> makeSpdlogPattern() {
  return std::make_unique<spdlog::pattern_formatter>(uvframe::kLogPattern,
                                                     spdlog::pattern_time_type::local,
                                                     std::string(spdlog::details::os::default_eol));
}

struct BlockTarget {
  std::string path = tempLogPath("block");
  uvframe::LogWriter writer{uvframe::LogWriter::Options{false, path}};
  ~BlockTarget() {
    writer.stop();
    ::unlink(path.c_str());
  }
};

struct AsyncTarget {
  std::string path = tempLogPath("async");
  std::shared_ptr<spdlog::details::thread_pool> pool =
      std::make_shared<spdlog::details::thread_pool>(spdlog::details::default_async_q_size, 1);
  std::shared_ptr<spdlog::async_logger> logger;
  AsyncTarget() {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    logger = std::make_shared<spdlog::async_logger>("server", std::move(sink), pool,
                                                    spdlog::async_overflow_policy::block);
    logger->set_formatter(makeSpdlogPattern());
    logger->set_level(spdlog::level::info);
  }
  ~AsyncTarget() {
    logger.reset();
    pool.reset();  // joins the pool thread once its queue is written
    ::unlink(path.c_str());
  }
};

struct RawTarget {
  std::string path = tempLogPath("raw");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ~RawTarget() {
    ::close(fd);
    ::unlink(path.c_str());
  }
};

/// The ceiling: spdlog's line format done by hand with fmt into a private
/// 64 KiB block, the date part cached per second as spdlog does too.
class RawFmtWriter {
 public:
  explicit RawFmtWriter(int fd) : fd_(fd) { block_.reserve(kBlockBytes); }
  ~RawFmtWriter() { flush(); }
  void log(std::string_view line) {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    if (secs != cachedSecs_) {
      std::tm tm{};
      ::localtime_r(&secs, &tm);
      dateLen_ = std::strftime(date_, sizeof date_, "[%Y-%m-%d %H:%M:%S.", &tm);
      cachedSecs_ = secs;
    }
    fmt::format_to(fmt::appender(block_), "{}{:03}] [info] {}\n", std::string_view(date_, dateLen_),
                   ms % 1000, line);
    if (block_.size() >= kBlockBytes - kBlockBytes / 8) flush();
  }
  void flush() {
    if (block_.size() > 0 && ::write(fd_, block_.data(), block_.size()) < 0) {
      std::perror("bench_log_line: write");
    }
    block_.clear();
  }

 private:
  int fd_;
  fmt::memory_buffer block_;
  std::time_t cachedSecs_ = -1;
  char date_[32] = {};
  std::size_t dateLen_ = 0;
};

RunShared<BlockTarget> gBlock;
RunShared<AsyncTarget> gAsync;
RunShared<RawTarget> gRaw;

/// Runs the timed loop around logOne(line) and sets the common counters.
template <class LogOne>
void timedLines(benchmark::State& state, LogOne&& logOne, bool json = false) {
  LineBuilder builder(json);
  // Warm-up: enough lines to put every block of the writer into circulation
  // (32 blocks of ~480 lines), so the timed loop sees the steady state.
  for (int i = 0; i < 65536; ++i)
    logOne(builder.next());
  const auto allocs = uvframe::bench::countedLoop(state, [&] { logOne(builder.next()); });
  auto lines = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_line"] = benchmark::Counter(static_cast<double>(allocs.thread) / lines,
                                                         benchmark::Counter::kAvgThreads);
  if (state.thread_index() == 0) {
    state.counters["bg_allocs_per_line"] =
        static_cast<double>(allocs.background) / (lines * static_cast<double>(state.threads()));
  }
}

enum class Formatter { kLineFormatter, kSpdlogPattern, kJson };
enum class Clock { kPerLine, kPerRead };

/// The server's path (makeBlockLogger on a shared LogWriter), with the
/// product's formatter or spdlog's, and the clock read per line or per read.
void blockLoggerLines(benchmark::State& state, Formatter formatter, Clock clock) {
  uvframe::bench::markProducerThread();
  BlockTarget& target = gBlock.join();
  const bool json = formatter == Formatter::kJson;
  auto logger =
      uvframe::makeBlockLogger("server", target.writer, spdlog::level::info, false,
                               json ? uvframe::LogFormat::kJson : uvframe::LogFormat::kText);
  if (formatter == Formatter::kSpdlogPattern) logger->set_formatter(makeSpdlogPattern());
  spdlog::log_clock::time_point now;
  unsigned n = 0;
  timedLines(
      state,
      [&](std::string_view line) {
        if (clock == Clock::kPerLine) {
          logger->log(spdlog::source_loc{}, spdlog::level::info, line);
          return;
        }
        if (n++ % kLinesPerRead == 0) now = spdlog::log_clock::now();
        logger->log(now, spdlog::source_loc{}, spdlog::level::info, line);
      },
      json);
  logger->flush();
  logger.reset();
  gBlock.leave();
}

void BM_LogLine_BlockLogger_64B(benchmark::State& state) {
  blockLoggerLines(state, Formatter::kLineFormatter, Clock::kPerLine);
}
void BM_LogLine_BlockLoggerClockPerRead_64B(benchmark::State& state) {
  blockLoggerLines(state, Formatter::kLineFormatter, Clock::kPerRead);
}
void BM_LogLine_BlockLoggerSpdlogPattern_64B(benchmark::State& state) {
  blockLoggerLines(state, Formatter::kSpdlogPattern, Clock::kPerLine);
}
void BM_LogLine_BlockLoggerJson_64B(benchmark::State& state) {
  blockLoggerLines(state, Formatter::kJson, Clock::kPerRead);
}

void BM_LogLine_SpdlogAsync_64B(benchmark::State& state) {
  uvframe::bench::markProducerThread();
  AsyncTarget& target = gAsync.join();
  spdlog::async_logger* logger = target.logger.get();
  timedLines(state, [&](std::string_view line) {
    logger->log(spdlog::source_loc{}, spdlog::level::info, line);
  });
  gAsync.leave();
}

void BM_LogLine_RawFmtBlock_64B(benchmark::State& state) {
  uvframe::bench::markProducerThread();
  RawTarget& target = gRaw.join();
  {
    RawFmtWriter writer(target.fd);
    timedLines(state, [&](std::string_view line) { writer.log(line); });
  }
  gRaw.leave();
}

void BM_LogLine_BuildOnly_64B(benchmark::State& state) {
  uvframe::bench::markProducerThread();
  timedLines(state, [](std::string_view line) { benchmark::DoNotOptimize(line.data()); });
}

BENCHMARK(BM_LogLine_BlockLogger_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_BlockLoggerClockPerRead_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_BlockLoggerSpdlogPattern_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_BlockLoggerJson_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_SpdlogAsync_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_RawFmtBlock_64B)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_LogLine_BuildOnly_64B)->UseRealTime()->Threads(1);

void printNsPerLine(const uvframe::bench::RatioReporter& r, const std::string& name) {
  if (auto rate = r.rate(name)) {
    std::printf("%-62s %8.1f ns/line  %6.2f M lines/s\n", name.c_str(), 1e9 / *rate, *rate / 1e6);
  }
}

// LineFormatter must write exactly what spdlog's pattern writes, or the
// comparison with BlockLoggerSpdlogPattern is not like for like.
bool lineFormatterMatchesPattern() {
  auto pattern = makeSpdlogPattern();
  uvframe::LineFormatter mine;
  bool same = true;
  for (auto level : {spdlog::level::info, spdlog::level::warn, spdlog::level::debug}) {
    for (int ms : {0, 7, 45, 999, 1000, 61001}) {
      spdlog::details::log_msg msg(spdlog::source_loc{}, "server", level, "[tcp/::1:1] a\\x00");
      msg.time = spdlog::log_clock::time_point(std::chrono::milliseconds(1'790'000'000'000LL + ms));
      spdlog::memory_buf_t a, b;
      pattern->format(msg, a);
      mine.format(msg, b);
      same = same && fmt::to_string(a) == fmt::to_string(b);
    }
  }
  return same;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!lineFormatterMatchesPattern()) {
    std::fprintf(stderr, "bench_log_line: LineFormatter differs from spdlog's pattern\n");
    return 1;
  }
  const char* const scenarios[] = {"BlockLogger",
                                   "BlockLoggerClockPerRead",
                                   "BlockLoggerSpdlogPattern",
                                   "BlockLoggerJson",
                                   "SpdlogAsync",
                                   "RawFmtBlock"};
  uvframe::bench::RatioReporter reporter("items_per_second");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nWall-clock cost per line (all producer threads together):\n");
  for (const char* t : {"1", "2"}) {
    for (const char* s : scenarios)
      printNsPerLine(reporter, std::string("BM_LogLine_") + s + "_64B/real_time/threads:" + t);
  }
  printNsPerLine(reporter, "BM_LogLine_BuildOnly_64B/real_time/threads:1");
  std::printf("\nLines/s as a fraction of the raw fmt ceiling (RawFmtBlock):\n");
  for (const char* t : {"1", "2"}) {
    std::string suffix = std::string("_64B/real_time/threads:") + t;
    for (const char* s : scenarios) {
      if (std::string_view(s) == "RawFmtBlock") continue;
      reporter.printRatio(std::string(s) + " / RawFmtBlock, threads " + t,
                          "BM_LogLine_" + std::string(s) + suffix,
                          "BM_LogLine_RawFmtBlock" + suffix);
    }
  }
  std::printf("\nLineFormatter against spdlog's pattern_formatter, same BlockSink:\n");
  for (const char* t : {"1", "2"}) {
    std::string suffix = std::string("_64B/real_time/threads:") + t;
    reporter.printRatio(std::string("BlockLogger / BlockLoggerSpdlogPattern, threads ") + t,
                        "BM_LogLine_BlockLogger" + suffix,
                        "BM_LogLine_BlockLoggerSpdlogPattern" + suffix);
  }
  std::printf("\n--log-format json against text, same path (goal >= 0.80):\n");
  for (const char* t : {"1", "2"}) {
    std::string suffix = std::string("_64B/real_time/threads:") + t;
    reporter.printRatio(std::string("BlockLoggerJson / BlockLoggerClockPerRead, threads ") + t,
                        "BM_LogLine_BlockLoggerJson" + suffix,
                        "BM_LogLine_BlockLoggerClockPerRead" + suffix);
  }
  benchmark::Shutdown();
  return 0;
}
