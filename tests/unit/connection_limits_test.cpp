// TokenBucket (--max-frame-rate, --max-byte-rate) and IpConnectionCounter
// (--max-connections-per-ip): the arithmetic and bookkeeping behind the
// per-connection and per-address limits, without sockets.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "ip_connection_counter.h"
#include "token_bucket.h"

namespace uvframe {
namespace {

TEST(TokenBucket, StartsWithOneSecondOfBurst) {
  TokenBucket b(100, 1000);
  EXPECT_DOUBLE_EQ(b.available(1000), 100);
  b.take(100, 1000);
  EXPECT_DOUBLE_EQ(b.available(1000), 0);
  EXPECT_EQ(b.msUntilPositive(1000), 10u);  // one token at 100/s
}

TEST(TokenBucket, RefillsAtTheRateAndNeverPastTheBurst) {
  TokenBucket b(10, 0);
  b.take(10, 0);
  EXPECT_DOUBLE_EQ(b.available(500), 5);
  EXPECT_DOUBLE_EQ(b.available(5000), 10);
}

TEST(TokenBucket, DebtIsPaidByWaiting) {
  TokenBucket b(1000, 0);
  b.take(3000, 0);  // one read brought 3,000 frames: all logged, 2 s of debt
  EXPECT_DOUBLE_EQ(b.available(0), -2000);
  EXPECT_EQ(b.msUntilPositive(0), 2001u);
  EXPECT_EQ(b.msUntilPositive(2001), 0u);
}

TEST(TokenBucket, OverTimeTheRateIsExact) {
  // A peer that always sends as much as it may gets rate x seconds (+ burst).
  TokenBucket b(250, 0);
  std::uint64_t now = 0;
  double taken = 0;
  while (now < 10'000) {
    double n = b.available(now);
    if (n >= 1) {
      b.take(n, now);
      taken += n;
    }
    now += 7;
  }
  EXPECT_NEAR(taken, 250 * 10 + 250, 5);
}

TEST(TokenBucket, SlowRatesBelowOnePerSecondStillAllowOne) {
  TokenBucket b(0.5, 0);
  EXPECT_DOUBLE_EQ(b.available(0), 1);
  b.take(1, 0);
  EXPECT_EQ(b.msUntilPositive(0), 2000u);
}

TEST(IpConnectionCounter, KeysIpv4AndMappedIpv6Alike) {
  auto a = IpConnectionCounter::keyOf("127.0.0.1");
  auto b = IpConnectionCounter::keyOf("::ffff:127.0.0.1");
  auto c = IpConnectionCounter::keyOf("::1");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_FALSE(IpConnectionCounter::keyOf("localhost"));
  EXPECT_FALSE(IpConnectionCounter::keyOf(""));
  EXPECT_FALSE(IpConnectionCounter::keyOf("1.2.3.4.5"));
}

TEST(IpConnectionCounter, RefusesTheConnectionPastTheLimitAndForgetsClosedOnes) {
  IpConnectionCounter counter;
  auto a = *IpConnectionCounter::keyOf("198.18.0.7");
  auto b = *IpConnectionCounter::keyOf("198.18.0.8");
  EXPECT_TRUE(counter.tryAdd(a, 2));
  EXPECT_TRUE(counter.tryAdd(a, 2));
  EXPECT_FALSE(counter.tryAdd(a, 2));
  EXPECT_TRUE(counter.tryAdd(b, 2)) << "another address has its own count";
  EXPECT_EQ(counter.count(a), 2u);
  counter.remove(a);
  EXPECT_TRUE(counter.tryAdd(a, 2));
  counter.remove(a);
  counter.remove(a);
  counter.remove(b);
  EXPECT_EQ(counter.addresses(), 0u) << "no entry is kept for an address with no connection";
  EXPECT_FALSE(counter.tryAdd(a, 0)) << "a limit of 0 admits nobody (the server does not ask)";
  EXPECT_EQ(counter.addresses(), 0u);
}

TEST(IpConnectionCounter, ManyThreadsNeverPassTheLimit) {
  IpConnectionCounter counter;
  auto key = *IpConnectionCounter::keyOf("10.0.0.1");
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (counter.tryAdd(key, 50)) admitted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(admitted.load(), 50);
  EXPECT_EQ(counter.count(key), 50u);
}

}  // namespace
}  // namespace uvframe
