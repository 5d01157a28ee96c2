// Unit tests for common/timing_wheel: never early, at most a tick late,
// deadlines beyond one revolution, scheduleNoLaterThan, cancelling and
// re-arming from inside a callback (itself and other nodes of the same slot),
// a late advance after a 10 s stall, 100,000 random deadlines checked
// against a reference computed from the deadlines alone, and the assert on a
// node destroyed while armed.
#include "timing_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

namespace uvframe {
namespace {

constexpr std::uint64_t kTickMs = 100;

/// n nodes whose data points at their own index, and when each fired.
struct Nodes {
  explicit Nodes(std::size_t n) : nodes(std::make_unique<TimerNode[]>(n)), firedAtMs(n) {
    for (std::size_t i = 0; i < n; ++i)
      nodes[i].data = &firedAtMs[i];
  }
  TimerNode& operator[](std::size_t i) { return nodes[i]; }
  std::size_t indexOf(const TimerNode& node) const {
    return static_cast<std::size_t>(&node - nodes.get());
  }

  std::unique_ptr<TimerNode[]> nodes;
  std::vector<std::vector<std::uint64_t>> firedAtMs;  ///< every advance time it fired at
};

/// Advances wheel to nowMs and records each firing in its node's list.
std::size_t advanceRecording(TimingWheel& wheel, std::uint64_t nowMs) {
  return wheel.advance(nowMs, [nowMs](TimerNode& node) {
    static_cast<std::vector<std::uint64_t>*>(node.data)->push_back(nowMs);
  });
}

std::uint64_t ceilToTickMs(std::uint64_t ms) {
  return (ms + kTickMs - 1) / kTickMs * kTickMs;
}

TEST(TimingWheel, NeverFiresEarly) {
  TimingWheel wheel(kTickMs, 16);
  const std::vector<std::uint64_t> deadlinesMs = {1, 99, 100, 101, 250, 1599, 1600, 1601, 4321};
  Nodes nodes(deadlinesMs.size());
  for (std::size_t i = 0; i < deadlinesMs.size(); ++i)
    wheel.schedule(nodes[i], deadlinesMs[i]);
  // Every millisecond: a node fires exactly at its deadline rounded up to a tick.
  for (std::uint64_t nowMs = 1; nowMs <= 5000; ++nowMs)
    advanceRecording(wheel, nowMs);
  for (std::size_t i = 0; i < deadlinesMs.size(); ++i) {
    ASSERT_EQ(nodes.firedAtMs[i].size(), 1u) << "deadline " << deadlinesMs[i];
    EXPECT_GE(nodes.firedAtMs[i][0], deadlinesMs[i]);
    EXPECT_EQ(nodes.firedAtMs[i][0], ceilToTickMs(deadlinesMs[i]));
  }
  EXPECT_EQ(wheel.size(), 0u);
}

// Random deadlines, one advance per tick: at tick boundaries (a timer that
// keeps its phase) a node fires less than a tick after its deadline; with
// advances at any other phase, at the first advance after the deadline
// rounded up to a tick, so less than two ticks after it.
void expectFiresWithinOneTickOfTheRoundedDeadline(std::uint64_t phaseMs) {
  SCOPED_TRACE(phaseMs);
  TimingWheel wheel(kTickMs, 32, 1000);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> deadlineMs(1000, 4000);
  Nodes nodes(500);
  std::vector<std::uint64_t> deadlines(500);
  for (std::size_t i = 0; i < 500; ++i)
    wheel.schedule(nodes[i], deadlines[i] = deadlineMs(rng));
  for (std::uint64_t nowMs = 1000 + phaseMs; nowMs <= 4200; nowMs += kTickMs)
    advanceRecording(wheel, nowMs);
  for (std::size_t i = 0; i < 500; ++i) {
    ASSERT_EQ(nodes.firedAtMs[i].size(), 1u);
    EXPECT_GE(nodes.firedAtMs[i][0], deadlines[i]);
    EXPECT_LT(nodes.firedAtMs[i][0], ceilToTickMs(deadlines[i]) + kTickMs);
    if (phaseMs == 0) {
      EXPECT_LT(nodes.firedAtMs[i][0], deadlines[i] + kTickMs);
    }
  }
}

TEST(TimingWheel, FiresWithinOneTickAfterTheDeadline) {
  expectFiresWithinOneTickOfTheRoundedDeadline(0);
  expectFiresWithinOneTickOfTheRoundedDeadline(37);
}

TEST(TimingWheel, DeadlineBeyondOneRevolutionWaitsForItsOwnRound) {
  // 8 slots of 100 ms: a revolution is 800 ms; these are 2.5 and 5 revolutions out.
  TimingWheel wheel(kTickMs, 8);
  Nodes nodes(3);
  wheel.schedule(nodes[0], 2000);
  wheel.schedule(nodes[1], 4000);
  wheel.schedule(nodes[2], 400);  // same slot as 2000 and 4000
  for (std::uint64_t nowMs = kTickMs; nowMs <= 5000; nowMs += kTickMs)
    advanceRecording(wheel, nowMs);
  EXPECT_EQ(nodes.firedAtMs[0], std::vector<std::uint64_t>{2000});
  EXPECT_EQ(nodes.firedAtMs[1], std::vector<std::uint64_t>{4000});
  EXPECT_EQ(nodes.firedAtMs[2], std::vector<std::uint64_t>{400});
}

TEST(TimingWheel, ScheduleNoLaterThanMovesEarlierOnly) {
  TimingWheel wheel(kTickMs, 64);
  Nodes nodes(1);
  wheel.scheduleNoLaterThan(nodes[0], 3000);  // unarmed: arms
  EXPECT_TRUE(TimingWheel::armed(nodes[0]));
  EXPECT_EQ(TimingWheel::deadline(nodes[0]), 3000u);
  wheel.scheduleNoLaterThan(nodes[0], 5000);  // later: no change
  EXPECT_EQ(TimingWheel::deadline(nodes[0]), 3000u);
  wheel.scheduleNoLaterThan(nodes[0], 3000);  // same: no change
  EXPECT_EQ(TimingWheel::deadline(nodes[0]), 3000u);
  wheel.scheduleNoLaterThan(nodes[0], 1200);  // earlier: moves
  EXPECT_EQ(TimingWheel::deadline(nodes[0]), 1200u);
  EXPECT_EQ(wheel.size(), 1u);
  for (std::uint64_t nowMs = kTickMs; nowMs <= 4000; nowMs += kTickMs)
    advanceRecording(wheel, nowMs);
  EXPECT_EQ(nodes.firedAtMs[0], std::vector<std::uint64_t>{1200});
}

TEST(TimingWheel, ScheduleMovesAnArmedNodeLater) {
  TimingWheel wheel(kTickMs, 64);
  Nodes nodes(1);
  wheel.schedule(nodes[0], 500);
  wheel.schedule(nodes[0], 900);
  EXPECT_EQ(wheel.size(), 1u);
  for (std::uint64_t nowMs = kTickMs; nowMs <= 1000; nowMs += kTickMs)
    advanceRecording(wheel, nowMs);
  EXPECT_EQ(nodes.firedAtMs[0], std::vector<std::uint64_t>{900});
}

TEST(TimingWheel, CancelDisarmsAndIsSafeOnAnUnarmedNode) {
  TimingWheel wheel(kTickMs, 16);
  Nodes nodes(2);
  wheel.cancel(nodes[0]);  // never armed
  wheel.schedule(nodes[0], 300);
  wheel.schedule(nodes[1], 300);
  EXPECT_EQ(wheel.size(), 2u);
  wheel.cancel(nodes[0]);
  wheel.cancel(nodes[0]);
  EXPECT_FALSE(TimingWheel::armed(nodes[0]));
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(advanceRecording(wheel, 1000), 1u);
  EXPECT_TRUE(nodes.firedAtMs[0].empty());
  EXPECT_EQ(nodes.firedAtMs[1].size(), 1u);
}

TEST(TimingWheel, OwnerCancelsAndDestroysItselfInsideOnDue) {
  struct Owner {
    TimerNode timer{this};
  };
  TimingWheel wheel(kTickMs, 16);
  std::vector<std::unique_ptr<Owner>> owners;
  for (int i = 0; i < 3; ++i) {
    owners.push_back(std::make_unique<Owner>());
    wheel.schedule(owners.back()->timer, 500);
  }
  std::size_t fired = wheel.advance(500, [&](TimerNode& node) {
    // A connection that closes cancels its node (already unarmed here: a
    // no-op) and goes away.
    wheel.cancel(node);
    void* self = node.data;  // node dies with its owner
    for (auto& owner : owners)
      if (owner.get() == self) owner.reset();
  });
  EXPECT_EQ(fired, 3u);
  EXPECT_EQ(wheel.size(), 0u);
  for (auto& owner : owners)
    EXPECT_EQ(owner, nullptr);
}

TEST(TimingWheel, CancelOfAnotherNodeOfTheSameSlotInsideOnDue) {
  TimingWheel wheel(kTickMs, 16);
  Nodes nodes(3);
  for (std::size_t i = 0; i < 3; ++i)
    wheel.schedule(nodes[i], 700);
  std::vector<std::size_t> order;
  std::size_t fired = wheel.advance(700, [&](TimerNode& node) {
    order.push_back(nodes.indexOf(node));
    // Whichever fires first cancels the two others, still in the ready list.
    for (std::size_t i = 0; i < 3; ++i)
      if (&nodes[i] != &node) wheel.cancel(nodes[i]);
  });
  EXPECT_EQ(fired, 1u);
  EXPECT_EQ(order, std::vector<std::size_t>{0});
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimingWheel, RescheduleOfAnotherNodeOfTheSameSlotInsideOnDue) {
  TimingWheel wheel(kTickMs, 16);
  Nodes nodes(2);
  wheel.schedule(nodes[0], 700);
  wheel.schedule(nodes[1], 700);
  wheel.advance(700, [&](TimerNode& node) {
    nodes.firedAtMs[nodes.indexOf(node)].push_back(700);
    if (&node == &nodes[0]) wheel.schedule(nodes[1], 1200);
  });
  EXPECT_EQ(nodes.firedAtMs[0].size(), 1u);
  EXPECT_TRUE(nodes.firedAtMs[1].empty());
  EXPECT_EQ(wheel.size(), 1u);
  for (std::uint64_t nowMs = 800; nowMs <= 1500; nowMs += kTickMs)
    advanceRecording(wheel, nowMs);
  EXPECT_EQ(nodes.firedAtMs[1], std::vector<std::uint64_t>{1200});
}

TEST(TimingWheel, RearmInsideOnDueToALaterTime) {
  // The lazy pattern: the node fires at the idle deadline it was armed for;
  // the owner saw activity since, so it re-arms for lastActivity + idle.
  constexpr std::uint64_t kIdleMs = 1000;
  TimingWheel wheel(kTickMs, 16);
  TimerNode node;
  std::uint64_t lastActivityMs = 0;
  std::vector<std::uint64_t> closedAtMs;
  std::size_t wakeUps = 0;
  wheel.schedule(node, lastActivityMs + kIdleMs);
  for (std::uint64_t nowMs = kTickMs; nowMs <= 6000; nowMs += kTickMs) {
    if (nowMs <= 2500 && nowMs % 700 == 0) lastActivityMs = nowMs;  // reads, no wheel call
    wheel.advance(nowMs, [&](TimerNode& due) {
      ++wakeUps;
      std::uint64_t realDeadlineMs = lastActivityMs + kIdleMs;
      if (nowMs >= realDeadlineMs) {
        closedAtMs.push_back(nowMs);
      } else {
        wheel.schedule(due, realDeadlineMs);
      }
    });
  }
  // Last activity at 2100: closed at 3100, after waking at 1000, 1700 (700+1000),
  // 2400 (1400+1000), 3100.
  EXPECT_EQ(closedAtMs, std::vector<std::uint64_t>{3100});
  EXPECT_EQ(wakeUps, 4u);
  EXPECT_FALSE(TimingWheel::armed(node));
}

TEST(TimingWheel, RearmForAPastDeadlineInsideOnDueFiresInTheNextAdvanceOnly) {
  TimingWheel wheel(kTickMs, 16);
  Nodes nodes(1);
  std::size_t calls = 0;
  wheel.schedule(nodes[0], 300);
  std::size_t fired = wheel.advance(300, [&](TimerNode& node) {
    ++calls;
    wheel.schedule(node, 200);  // already past
  });
  EXPECT_EQ(fired, 1u);
  EXPECT_EQ(calls, 1u);
  EXPECT_TRUE(TimingWheel::armed(nodes[0]));
  // The next advance fires it, even without a new tick.
  EXPECT_EQ(advanceRecording(wheel, 300), 1u);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimingWheel, PastDeadlineFiresInTheNextAdvance) {
  TimingWheel wheel(kTickMs, 16, 5000);
  Nodes nodes(2);
  wheel.schedule(nodes[0], 4200);  // in the past
  wheel.schedule(nodes[1], 5000);  // now, on a tick boundary already walked
  EXPECT_EQ(advanceRecording(wheel, 5001), 2u);
}

TEST(TimingWheel, LateAdvanceAfterATenSecondStallFiresEachDueNodeOnce) {
  // Revolutions of 1.6 s and of 60 s: a 10 s stall is longer than the one and
  // shorter than the other.
  for (std::size_t slots : {16u, 600u}) {
    SCOPED_TRACE(slots);
    TimingWheel wheel(kTickMs, slots);
    Nodes nodes(300);
    for (std::size_t i = 0; i < 300; ++i)
      wheel.schedule(nodes[i], 1 + i * 67);  // 1 ms .. 20 s
    advanceRecording(wheel, 100);
    advanceRecording(wheel, 10'100);  // the loop was stuck for 10 s
    for (std::uint64_t nowMs = 10'200; nowMs <= 21'000; nowMs += kTickMs)
      advanceRecording(wheel, nowMs);
    for (std::size_t i = 0; i < 300; ++i) {
      std::uint64_t dueMs = ceilToTickMs(1 + i * 67);
      std::uint64_t expectedMs = dueMs <= 100 ? 100 : dueMs <= 10'100 ? 10'100 : dueMs;
      EXPECT_EQ(nodes.firedAtMs[i], std::vector<std::uint64_t>{expectedMs}) << "node " << i;
    }
    EXPECT_EQ(wheel.size(), 0u);
  }
}

TEST(TimingWheel, HundredThousandRandomDeadlinesFireOnceAtTheirTick) {
  constexpr std::size_t kCount = 100'000;
  TimingWheel wheel(kTickMs, 600);
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<std::uint64_t> deadlineMs(0, 180'000);  // 3 revolutions
  Nodes nodes(kCount);
  std::vector<std::uint64_t> deadlines(kCount);
  for (std::size_t i = 0; i < kCount; ++i)
    wheel.schedule(nodes[i], deadlines[i] = deadlineMs(rng));
  // Advance times: mostly one tick apart with jitter, now and then a stall
  // of up to 70 s (longer than a revolution).
  std::vector<std::uint64_t> advancesMs;
  std::uniform_int_distribution<std::uint64_t> stepMs(1, 2 * kTickMs);
  std::uniform_int_distribution<int> percent(0, 99);
  for (std::uint64_t nowMs = 0; nowMs <= 190'000;) {
    advancesMs.push_back(nowMs);
    nowMs += percent(rng) == 0 ? stepMs(rng) * 350 : stepMs(rng);
  }
  advancesMs.push_back(190'000);
  std::size_t total = 0;
  for (std::uint64_t nowMs : advancesMs)
    total += advanceRecording(wheel, nowMs);
  EXPECT_EQ(total, kCount);
  EXPECT_EQ(wheel.size(), 0u);
  // Reference: the first advance whose time reaches the deadline rounded up
  // to a tick.
  for (std::size_t i = 0; i < kCount; ++i) {
    std::uint64_t dueMs = ceilToTickMs(deadlines[i]);
    auto it = std::lower_bound(advancesMs.begin(), advancesMs.end(), dueMs);
    ASSERT_EQ(nodes.firedAtMs[i], std::vector<std::uint64_t>{*it}) << "deadline " << deadlines[i];
  }
}

TEST(TimingWheel, ThrowingCallbackLeavesTheRestArmedForTheNextAdvance) {
  TimingWheel wheel(kTickMs, 16);
  Nodes nodes(3);
  for (std::size_t i = 0; i < 3; ++i)
    wheel.schedule(nodes[i], 200);
  EXPECT_THROW(wheel.advance(200, [](TimerNode&) { throw std::runtime_error("boom"); }),
               std::runtime_error);
  EXPECT_EQ(wheel.size(), 2u);
  EXPECT_EQ(advanceRecording(wheel, 200), 2u);
}

TEST(TimingWheel, DestroyingTheWheelDisarmsItsNodes) {
  Nodes nodes(2);
  {
    TimingWheel wheel(kTickMs, 16);
    wheel.schedule(nodes[0], 100);
    wheel.schedule(nodes[1], 100'000);
  }
  EXPECT_FALSE(TimingWheel::armed(nodes[0]));
  EXPECT_FALSE(TimingWheel::armed(nodes[1]));
}

TEST(TimingWheel, NodeDestroyedWhileArmedAsserts) {
#ifdef NDEBUG
  GTEST_SKIP() << "assert() is compiled out";
#else
  EXPECT_DEATH(
      {
        TimingWheel wheel(kTickMs, 16);
        auto node = std::make_unique<TimerNode>();
        wheel.schedule(*node, 100);
        node.reset();
      },
      "destroyed while armed");
#endif
}

}  // namespace
}  // namespace uvframe
