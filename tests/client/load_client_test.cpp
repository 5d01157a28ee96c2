// LoadClient's parts that need no loop: BatchBytes, the bytes of a write
// batch, which FrameBatchWriter's reuse relies on keeping.
#include "load_client.h"

#include <gtest/gtest.h>

#include <cstring>

namespace uvframe {
namespace {

TEST(BatchBytes, ShrinkingAndRegrowingWithinCapacityKeepsTheBytes) {
  BatchBytes b;
  EXPECT_EQ(b.size(), 0u);
  char* p = b.resize(1000);
  std::memset(p, 'x', 1000);
  EXPECT_EQ(b.resize(10), p);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.resize(1000), p) << "no new buffer within the capacity";
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(p[999], 'x');
}

TEST(BatchBytes, GrowingPastCapacityAtLeastDoublesIt) {
  BatchBytes b;
  b.resize(1000);
  b.resize(1001);
  EXPECT_GE(b.capacity(), 2000u);
  EXPECT_EQ(b.size(), 1001u);
  b.resize(10'000);
  EXPECT_EQ(b.capacity(), 10'000u);
}

}  // namespace
}  // namespace uvframe
