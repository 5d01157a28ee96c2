// bench_timeouts: what one timeout check costs at 10,000 and 100,000 idle
// connections, today's sweep against the TimingWheel (common/timing_wheel).
//
//   Sweep_NothingDue              one pass of Worker::sweep: every connection of
//                                 an unordered_map<ConnId, unique_ptr<Conn>> is
//                                 checked with the comparisons of
//                                 Connection::checkTimeouts and parkIfStalled;
//                                 nothing is due. Conn is a small struct with
//                                 just the fields those read.
//   Sweep_NothingDue_ConnSized    the same with Conn padded to sizeof(Connection)
//                                 (472 B, the closing flag inside the 248-byte
//                                 uv_tcp_t and the timestamps after it, as in
//                                 server/connection.h): the real cache traffic.
//   Wheel_Advance_NothingDue      one advance by one tick (100 ms) when no node
//                                 is due: the connections are armed 30..60 s
//                                 ahead (re-armed, untimed, every 290 ticks).
//   Wheel_Advance_Due1in600       one advance by one tick in the steady state of
//                                 a 60 s idle timeout with busy peers: deadlines
//                                 spread over 600 ticks, so 1/600 of the nodes
//                                 fire; each looks at its owner's last activity
//                                 and re-arms 60 s ahead (the lazy pattern).
//   Wheel_ScheduleNoLaterThan_Unchanged  the per-read call when nothing changes.
//
// Each benchmark's time is per pass; the per_conn counter is its CPU time
// divided by the connections held. main() prints one summary line per size
// (CPU time per pass and per connection).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "timing_wheel.h"

namespace {

using uvframe::TimerNode;
using uvframe::TimingWheel;

constexpr std::uint64_t kTickMs = 100;
constexpr std::size_t kSlots = 600;  // one revolution = 60 s
constexpr std::uint64_t kIdleTimeoutMs = 60'000;
constexpr std::uint64_t kStartMs = 1'000'000;

// What the sweep reads from ServerOptions (through worker_.options()).
struct Options {
  double idleTimeoutSeconds = 60;
  double frameTimeoutSeconds = 30;
};

// The fields checkTimeouts and parkIfStalled read, in the order of
// server/connection.h.
struct TimeoutFields {
  std::uint64_t lastActivityMs = 0;
  std::uint64_t partialSinceMs = 0;
  std::uint64_t lastWriteProgressMs = 0;
  std::uint8_t paused = 0;
  bool hasPartial = false;
  bool announced = true;
};

struct SmallConn {
  bool closing = false;  // uv_is_closing()
  TimeoutFields f;
};

// As big as server/connection.h's Connection, with the fields where its
// members sit: the closing flag inside the uv_tcp_t, the timestamps behind it.
struct ConnSizedConn {
  unsigned char handleHead[88] = {};
  bool closing = false;  // uv_handle_t::flags
  unsigned char handleTail[248 - 89] = {};
  unsigned char ringPeerTag[96] = {};
  TimeoutFields f;
  unsigned char rest[472 - 248 - 96 - sizeof(TimeoutFields)] = {};
};
static_assert(sizeof(ConnSizedConn) == 472);

constexpr unsigned kPausedForEcho = 1;

enum Verdict : unsigned { kNone = 0, kWriteTimeout = 1, kFrameTimeout = 2, kIdle = 4, kPark = 8 };

// Connection::checkTimeouts: the same comparisons, a verdict instead of close().
template <class Conn>
unsigned checkTimeouts(const Conn& c, const Options& o, std::uint64_t nowMs) {
  if (c.closing || !c.f.announced) return kNone;
  auto frameTimeoutMs = static_cast<std::uint64_t>(o.frameTimeoutSeconds * 1000);
  if (c.f.paused & kPausedForEcho) {
    return frameTimeoutMs > 0 && nowMs - c.f.lastWriteProgressMs >= frameTimeoutMs ? kWriteTimeout
                                                                                   : kNone;
  }
  if (c.f.paused != 0) return kNone;
  if (frameTimeoutMs > 0 && c.f.hasPartial && nowMs - c.f.partialSinceMs >= frameTimeoutMs)
    return kFrameTimeout;
  if (o.idleTimeoutSeconds > 0 &&
      nowMs - c.f.lastActivityMs >= static_cast<std::uint64_t>(o.idleTimeoutSeconds * 1000)) {
    return kIdle;
  }
  return kNone;
}

// Connection::parkIfStalled, up to the shrinkToFit call.
template <class Conn>
unsigned parkIfStalled(const Conn& c, std::uint64_t nowMs) {
  constexpr std::uint64_t kParkAfterMs = 1000;
  if (c.closing || !c.f.hasPartial || nowMs - c.f.lastActivityMs < kParkAfterMs) return kNone;
  return kPark;
}

template <class Conn>
void sweepNothingDue(benchmark::State& state) {
  const auto conns = static_cast<std::size_t>(state.range(0));
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> map;
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> idleForMs(0, 50'000);
  // Ids as Worker hands them out; allocated one by one, as connections arrive.
  for (std::uint64_t id = 0; id < conns; ++id) {
    auto c = std::make_unique<Conn>();
    c->f.lastActivityMs = kStartMs - idleForMs(rng);
    map.emplace(id, std::move(c));
  }
  Options options;
  benchmark::DoNotOptimize(options);
  std::uint64_t nowMs = kStartMs;
  unsigned verdicts = 0;
  for (auto _ : state) {
    for (auto& [id, c] : map) {
      verdicts |= checkTimeouts(*c, options, nowMs);
      verdicts |= parkIfStalled(*c, nowMs);
    }
    benchmark::DoNotOptimize(verdicts);
    benchmark::ClobberMemory();
  }
  if (verdicts != kNone) state.SkipWithError("a connection was due");
  state.counters["per_conn"] =
      benchmark::Counter(static_cast<double>(conns), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

void BM_Sweep_NothingDue(benchmark::State& state) {
  sweepNothingDue<SmallConn>(state);
}
void BM_Sweep_NothingDue_ConnSized(benchmark::State& state) {
  sweepNothingDue<ConnSizedConn>(state);
}

/// A connection as the lead will have it: its node embedded, data = this.
struct WheelConn {
  TimerNode timer{this};
  std::uint64_t lastActivityMs = 0;
};

/// conns connections in the same map as the server's, each armed at a
/// deadline drawn from [firstMs, lastMs).
struct WheelFixture {
  WheelFixture(std::size_t conns, std::uint64_t firstMs, std::uint64_t lastMs)
      : wheel(kTickMs, kSlots, kStartMs) {
    for (std::uint64_t id = 0; id < conns; ++id)
      map.emplace(id, std::make_unique<WheelConn>());
    arm(firstMs, lastMs);
  }
  ~WheelFixture() {
    for (auto& [id, c] : map)
      wheel.cancel(c->timer);
  }

  void arm(std::uint64_t firstMs, std::uint64_t lastMs) {
    std::uniform_int_distribution<std::uint64_t> deadlineMs(firstMs, lastMs - 1);
    for (auto& [id, c] : map)
      wheel.schedule(c->timer, deadlineMs(rng));
  }

  TimingWheel wheel;
  std::mt19937_64 rng{2};
  std::unordered_map<std::uint64_t, std::unique_ptr<WheelConn>> map;
};

void setPerConn(benchmark::State& state, std::size_t conns) {
  state.counters["per_conn"] =
      benchmark::Counter(static_cast<double>(conns), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

void BM_Wheel_Advance_NothingDue(benchmark::State& state) {
  const auto conns = static_cast<std::size_t>(state.range(0));
  constexpr std::uint64_t kTicksPerArm = 290;
  std::uint64_t nowMs = kStartMs;
  WheelFixture fx(conns, nowMs + 30'000, nowMs + kIdleTimeoutMs);
  std::size_t fired = 0;
  std::uint64_t ticks = 0;
  for (auto _ : state) {
    nowMs += kTickMs;
    fired += fx.wheel.advance(nowMs, [](TimerNode&) {});
    if (++ticks % kTicksPerArm == 0) {
      // The earliest deadline is 10 ticks away: push them all out again.
      state.PauseTiming();
      fx.arm(nowMs + 30'000, nowMs + kIdleTimeoutMs);
      state.ResumeTiming();
    }
  }
  if (fired != 0) state.SkipWithError("a node was due");
  setPerConn(state, conns);
}

void BM_Wheel_Advance_Due1in600(benchmark::State& state) {
  const auto conns = static_cast<std::size_t>(state.range(0));
  std::uint64_t nowMs = kStartMs;
  // Deadlines over the next revolution: each tick, 1/600 of them come due.
  WheelFixture fx(conns, nowMs + 1, nowMs + kIdleTimeoutMs + 1);
  std::size_t fired = 0;
  auto onDue = [&](TimerNode& node) {
    // The lazy pattern: the peer was active since the node was armed, so its
    // real deadline is later; re-arm for it.
    auto* c = static_cast<WheelConn*>(node.data);
    c->lastActivityMs = nowMs - 50;
    std::uint64_t deadlineMs = c->lastActivityMs + kIdleTimeoutMs;
    if (deadlineMs > nowMs) fx.wheel.schedule(node, deadlineMs);
  };
  // One revolution untimed, so the wheel is in its steady state.
  for (std::size_t t = 0; t < kSlots; ++t)
    fx.wheel.advance(nowMs += kTickMs, onDue);
  for (auto _ : state) {
    nowMs += kTickMs;
    fired += fx.wheel.advance(nowMs, onDue);
  }
  if (fx.wheel.size() != conns) state.SkipWithError("a node was lost");
  state.counters["fired_per_pass"] =
      static_cast<double>(fired) / static_cast<double>(state.iterations());
  setPerConn(state, conns);
}

void BM_Wheel_ScheduleNoLaterThan_Unchanged(benchmark::State& state) {
  TimingWheel wheel(kTickMs, kSlots, kStartMs);
  TimerNode node;
  wheel.schedule(node, kStartMs + 30'000);
  std::uint64_t deadlineMs = kStartMs + 40'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(deadlineMs);
    wheel.scheduleNoLaterThan(node, deadlineMs);
    benchmark::ClobberMemory();
  }
  wheel.cancel(node);
}

BENCHMARK(BM_Sweep_NothingDue)
    ->ArgName("conns")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sweep_NothingDue_ConnSized)
    ->ArgName("conns")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond);
// A fixed count: each 290 timed ticks cost one untimed re-arm of every node.
BENCHMARK(BM_Wheel_Advance_NothingDue)
    ->ArgName("conns")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Iterations(290 * 100)
    ->Unit(benchmark::kNanosecond);
BENCHMARK(BM_Wheel_Advance_Due1in600)
    ->ArgName("conns")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Wheel_ScheduleNoLaterThan_Unchanged)->Unit(benchmark::kNanosecond);

/// The console output, plus each run's CPU time per iteration in ns (the
/// time the per_conn counters divide).
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      nsPerPass_[run.run_name.str()] =
          run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void printSummary() const {
    for (long conns : {10'000L, 100'000L}) {
      std::string arg = "/conns:" + std::to_string(conns);
      std::printf("timeouts at %6ld idle conns (cpu):", conns);
      print("sweep", "BM_Sweep_NothingDue" + arg, conns);
      print("sweep(472 B conns)", "BM_Sweep_NothingDue_ConnSized" + arg, conns);
      print("wheel tick, none due", "BM_Wheel_Advance_NothingDue" + arg + "/iterations:29000",
            conns);
      print("wheel tick, 1/600 due", "BM_Wheel_Advance_Due1in600" + arg, conns);
      std::printf("\n");
    }
  }

 private:
  void print(const char* label, const std::string& name, long conns) const {
    auto it = nsPerPass_.find(name);
    if (it == nsPerPass_.end()) {
      std::printf("  %s n/a;", label);
      return;
    }
    std::printf("  %s %.4g us/pass (%.3g ns/conn);", label, it->second / 1e3,
                it->second / static_cast<double>(conns));
  }

  std::map<std::string, double> nsPerPass_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.printSummary();
  benchmark::Shutdown();
  return 0;
}
