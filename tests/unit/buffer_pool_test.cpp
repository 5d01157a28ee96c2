// Unit tests for common/buffer_pool: chunk sizes, the free-list cache, the
// byte budget, and the heap-allocation counter.
#include "buffer_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace uvframe {
namespace {

TEST(BufferPool, SmallRequestsGetOneStandardChunk) {
  BufferPool pool(64, 0);
  BufferBlock a = pool.acquire(0);
  BufferBlock b = pool.acquire(64);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a.capacity, 64u);
  EXPECT_EQ(b.capacity, 64u);
  EXPECT_EQ(pool.bytesLent(), 128u);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(BufferPool, LargeRequestsRoundUpToPowerOfTwo) {
  BufferPool pool(64, 0);
  BufferBlock a = pool.acquire(65);
  BufferBlock b = pool.acquire(1000);
  EXPECT_EQ(a.capacity, 128u);
  EXPECT_EQ(b.capacity, 1024u);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.cachedChunks(), 0u) << "only standard chunks are cached";
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(BufferPool, ReleasedChunkIsReusedWithoutHeapAllocation) {
  BufferPool pool(64, 0);
  BufferBlock a = pool.acquire(10);
  std::byte* first = a.data;
  pool.release(a);
  EXPECT_EQ(pool.cachedChunks(), 1u);
  BufferBlock b = pool.acquire(10);
  EXPECT_EQ(b.data, first);
  EXPECT_EQ(pool.heapAllocations(), 1u);
  EXPECT_EQ(pool.cachedChunks(), 0u);
  pool.release(b);
}

TEST(BufferPool, CacheHoldsAtMostMaxCachedChunks) {
  BufferPool pool(64, 0, 2);
  std::vector<BufferBlock> blocks;
  for (int i = 0; i < 5; ++i)
    blocks.push_back(pool.acquire(1));
  for (BufferBlock& b : blocks)
    pool.release(b);
  EXPECT_EQ(pool.cachedChunks(), 2u);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(BufferPool, BudgetRefusesThenRecoversWhenMemoryFrees) {
  BufferPool pool(64, 128);
  BufferBlock a = pool.acquire(1);
  BufferBlock b = pool.acquire(1);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_FALSE(pool.acquire(1)) << "a third chunk is over the budget";
  EXPECT_EQ(pool.bytesLent(), 128u);
  pool.release(a);
  BufferBlock c = pool.acquire(1);
  EXPECT_TRUE(c);
  pool.release(b);
  pool.release(c);
}

TEST(BufferPool, BlockLargerThanBudgetIsRefused) {
  BufferPool pool(64, 128);
  EXPECT_FALSE(pool.acquire(129));
  EXPECT_EQ(pool.bytesLent(), 0u);
  EXPECT_EQ(pool.heapAllocations(), 0u);
}

TEST(BufferPool, ZeroBudgetMeansUnlimited) {
  BufferPool pool(64, 0);
  std::vector<BufferBlock> blocks;
  for (int i = 0; i < 100; ++i) {
    blocks.push_back(pool.acquire(1));
    ASSERT_TRUE(blocks.back());
  }
  EXPECT_EQ(pool.bytesLent(), 6400u);
  for (BufferBlock& b : blocks)
    pool.release(b);
}

TEST(BufferPool, ReleasingAnEmptyBlockDoesNothing) {
  BufferPool pool(64, 0);
  pool.release(BufferBlock{});
  EXPECT_EQ(pool.bytesLent(), 0u);
  EXPECT_EQ(pool.cachedChunks(), 0u);
}

}  // namespace
}  // namespace uvframe
