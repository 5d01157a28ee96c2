// Unit tests for common/buffer_pool: chunk sizes, the free-list cache, the
// byte budget, the heap-allocation counter, and the memory rule's parts: the
// growth reserve that chunks leave alone, the growth token, asks that are
// never refused (smaller blocks, echo charges), and the FIFO of waiters and
// how many one release wakes (memory_rule_test.cpp plays the rule out with
// whole peers).
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

TEST(BufferPool, LargeRequestsRoundUpToWholeChunks) {
  BufferPool pool(64, 0);
  BufferBlock a = pool.acquire(65);
  BufferBlock b = pool.acquire(1000);
  BufferBlock c = pool.acquire(129);
  EXPECT_EQ(a.capacity, 128u);
  EXPECT_EQ(b.capacity, 1024u);
  EXPECT_EQ(c.capacity, 192u) << "three chunks, not a power of two";
  pool.release(a);
  pool.release(b);
  pool.release(c);
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

// The memory rule (buffer_pool.h, rules 1-5) with a 4 KiB chunk and a
// largest frame block of four chunks.
constexpr std::size_t kChunk = 4096;
constexpr std::size_t kFrameBlock = 4 * kChunk;

bool always(std::uint64_t) {
  return true;
}

TEST(BufferPool, ChunksLeaveTheGrowthReserveAlone) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  EXPECT_EQ(pool.growthReserveBytes(), kFrameBlock);
  BufferBlock a = pool.acquire(1), b = pool.acquire(kChunk);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool.acquire(1)) << "the third chunk would eat into the reserve";
  EXPECT_EQ(pool.lastRefusedBytes(), kChunk);
  EXPECT_EQ(pool.bytesHeld(), 2 * kChunk);
  pool.release(a);
  pool.release(b);
}

TEST(BufferPool, AWholeFrameBlockMayUseTheReserve) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock a = pool.acquire(1), b = pool.acquire(1);
  BufferBlock frame = pool.acquire(kFrameBlock - 100);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame.capacity, kFrameBlock) << "rounded up to whole chunks";
  EXPECT_EQ(pool.bytesHeld(), pool.budgetBytes());
  EXPECT_FALSE(pool.acquire(kChunk + 1)) << "a second frame block does not fit";
  EXPECT_EQ(pool.lastRefusedBytes(), 2 * kChunk);
  pool.release(frame);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

TEST(BufferPool, AWholeFrameBlockLargerThanTheBudgetIsRefused) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  EXPECT_FALSE(pool.acquire(kFrameBlock + 2 * kChunk + 1));
  EXPECT_EQ(pool.heapAllocations(), 0u);
}

TEST(BufferPool, AReserveAsLargeAsTheBudgetRefusesEveryChunk) {
  BufferPool pool(kChunk, kFrameBlock);
  pool.setGrowthReserve(2 * kFrameBlock);
  EXPECT_FALSE(pool.acquire(1));
  BufferBlock frame = pool.acquire(kFrameBlock);
  EXPECT_TRUE(frame);
  pool.release(frame);
}

TEST(BufferPool, AcquireSmallerIsNeverRefusedEvenPastTheBudget) {
  BufferPool pool(8192, 2 * 8192);
  BufferBlock a = pool.acquire(1), b = pool.acquire(1);
  ASSERT_FALSE(pool.acquire(1));
  std::vector<BufferBlock> smaller;
  for (std::size_t bytes :
       {std::size_t{1}, std::size_t{256}, std::size_t{257}, BufferPool::kSmallBlockBytes,
        BufferPool::kSmallBlockBytes + 1, std::size_t{8192}, std::size_t{8193}}) {
    smaller.push_back(pool.acquireSmaller(bytes));
    ASSERT_TRUE(smaller.back()) << bytes;
  }
  // The smallest class that fits; a chunk above the small classes; rounded
  // to 64 bytes from the heap above a chunk.
  std::vector<std::size_t> sizes;
  for (const BufferBlock& s : smaller)
    sizes.push_back(s.capacity);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{256, 256, 4096, 4096, 8192, 8192, 8256}));
  EXPECT_GT(pool.bytesHeld(), pool.budgetBytes());
  for (BufferBlock& s : smaller)
    pool.release(s);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(BufferPool, EchoChargesCountAgainstChunkGrants) {
  BufferPool pool(kChunk, 3 * kChunk);
  BufferBlock a = pool.acquire(1);
  pool.chargeEcho(kChunk + 1);
  EXPECT_EQ(pool.echoBytes(), kChunk + 1);
  EXPECT_EQ(pool.bytesHeld(), 2 * kChunk + 1);
  EXPECT_EQ(pool.bytesLent(), kChunk) << "echo bytes are held, not lent";
  EXPECT_FALSE(pool.acquire(1));
  pool.releaseEcho(1);
  BufferBlock b = pool.acquire(1);
  EXPECT_TRUE(b);
  pool.release(a);
  pool.release(b);
  pool.releaseEcho(kChunk);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

TEST(BufferPool, EchoChargesAreNeverRefused) {
  BufferPool pool(kChunk, 2 * kChunk);
  BufferBlock a = pool.acquire(1), b = pool.acquire(1);
  pool.chargeEcho(10 * kChunk);
  EXPECT_EQ(pool.bytesHeld(), 12 * kChunk);
  pool.releaseEcho(10 * kChunk);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

// Echo bytes count against chunks (rule 1) but cannot take the reserve: the
// growth token's block fits it whatever the echoes hold.
TEST(BufferPool, EchoChargesLeaveTheReserveToTheTokenHolder) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock a = pool.acquire(1);
  pool.chargeEcho(2 * kChunk);
  EXPECT_FALSE(pool.acquire(1)) << "no chunk beside the echoes";
  BufferBlock frame = pool.acquire(kFrameBlock);
  EXPECT_TRUE(frame);
  pool.release(frame);
  pool.release(a);
  pool.releaseEcho(2 * kChunk);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

TEST(BufferPool, TakeWakeableWakesAllThatFitOldestFirst) {
  BufferPool pool(kChunk, 8 * kChunk);
  std::vector<BufferBlock> held;
  for (int i = 0; i < 8; ++i)
    held.push_back(pool.acquire(1));
  for (std::uint64_t id : {11, 12, 13, 14, 15})
    pool.wait(id, kChunk);
  EXPECT_TRUE(pool.hasWaiters());
  EXPECT_TRUE(pool.takeWakeable(always).empty()) << "nothing is free";
  for (int i = 0; i < 3; ++i) {
    pool.release(held.back());
    held.pop_back();
  }
  // Three chunks free: three waiters, oldest first, each ask counted once.
  EXPECT_EQ(pool.takeWakeable(always), (std::vector<std::uint64_t>{11, 12, 13}));
  EXPECT_EQ(pool.waiterCount(), 2u);
  for (int i = 0; i < 3; ++i)
    held.push_back(pool.acquire(1));  // the woken peers read
  EXPECT_TRUE(pool.takeWakeable(always).empty());
  for (BufferBlock& b : held)
    pool.release(b);
  EXPECT_EQ(pool.takeWakeable(always), (std::vector<std::uint64_t>{14, 15}));
  EXPECT_FALSE(pool.hasWaiters());
}

// Oldest first, but a grower waiting for the token does not hold up the
// chunk waiters behind it.
TEST(BufferPool, TakeWakeableLetsChunkWaitersPassAWaitingGrower) {
  BufferPool pool(kChunk, 4 * kChunk);
  BufferBlock a = pool.acquire(1), b = pool.acquire(1);
  pool.wait(1, kChunk);
  pool.wait(2, 3 * kChunk);  // a grower: does not fit beside the two chunks
  pool.wait(3, kChunk);
  pool.wait(4, kChunk);  // the budget is spent once 1 and 3 read
  EXPECT_EQ(pool.takeWakeable(always), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(pool.waiterCount(), 2u);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.takeWakeable(always), (std::vector<std::uint64_t>{2, 4}));
  EXPECT_FALSE(pool.hasWaiters());
}

// Rule 2: one block larger than a chunk at a time (the growth token), inside
// the reserve and outside the chunks' share.
TEST(BufferPool, OnePeerAtATimeHoldsTheGrowthToken) {
  BufferPool pool(kChunk, 3 * kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock first = pool.acquire(kFrameBlock, 0, 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(pool.tokenBlocks(), 1u);
  EXPECT_FALSE(pool.acquire(2 * kChunk, 0, 2)) << "memory is free, the token is not";
  EXPECT_EQ(pool.lastRefusedBytes(), 2 * kChunk);
  // The token block does not count against the chunks' share.
  std::vector<BufferBlock> chunks;
  for (BufferBlock c = pool.acquire(1); c; c = pool.acquire(1))
    chunks.push_back(c);
  EXPECT_EQ(chunks.size(), 2u * kFrameBlock / kChunk + 2);
  pool.release(first);
  EXPECT_EQ(pool.tokenBlocks(), 0u);
  BufferBlock second = pool.acquire(2 * kChunk, 0, 2);
  EXPECT_TRUE(second);
  pool.release(second);
  for (BufferBlock& c : chunks)
    pool.release(c);
}

TEST(BufferPool, TheTokenHolderMayGrowAgain) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock small = pool.acquire(2 * kChunk, 0, 1);
  ASSERT_TRUE(small);
  // It passes the block it gives back once it has the new one.
  EXPECT_FALSE(pool.acquire(kFrameBlock, 0, 1));
  BufferBlock bigger = pool.acquire(kFrameBlock, small.capacity, 1);
  ASSERT_TRUE(bigger);
  EXPECT_EQ(pool.tokenBlocks(), 2u) << "both while the bytes move";
  pool.release(small);
  EXPECT_EQ(pool.tokenBlocks(), 1u);
  pool.release(bigger);
}

// Rule 2: a released token goes to the oldest peer waiting for it, and
// nobody else may take it until that peer does or the promise expires.
TEST(BufferPool, APromisedTokenWaitsForItsPeer) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock held = pool.acquire(kFrameBlock, 0, 1);
  pool.wait(7, kFrameBlock);
  pool.wait(8, kFrameBlock);
  EXPECT_TRUE(pool.takeWakeable(always).empty());
  pool.release(held);
  EXPECT_EQ(pool.takeWakeable(always), std::vector<std::uint64_t>{7});
  EXPECT_FALSE(pool.acquire(kFrameBlock, 0, 9)) << "a peer that never waited";
  EXPECT_TRUE(pool.takeWakeable(always).empty()) << "8 waits for 7 to take it";
  BufferBlock taken = pool.acquire(kFrameBlock, 0, 7);
  EXPECT_TRUE(taken);
  pool.release(taken);
  EXPECT_EQ(pool.takeWakeable(always), std::vector<std::uint64_t>{8});
}

TEST(BufferPool, AnUnclaimedTokenPromiseExpiresAfterTwoTicks) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  pool.wait(7, kFrameBlock);
  EXPECT_EQ(pool.takeWakeable(always), std::vector<std::uint64_t>{7});
  pool.expireTokenPromise();
  EXPECT_FALSE(pool.acquire(kFrameBlock, 0, 9)) << "one tick: still promised";
  pool.expireTokenPromise();
  BufferBlock taken = pool.acquire(kFrameBlock, 0, 9);
  EXPECT_TRUE(taken) << "7 never came: the token is free again";
  pool.release(taken);
}

TEST(BufferPool, TakeWakeableSkipsPeersNoLongerWaiting) {
  BufferPool pool(kChunk, 2 * kChunk);
  for (std::uint64_t id : {1, 2, 3, 4})
    pool.wait(id, kChunk);
  // 1 closed and 2 was resumed otherwise: they are dropped, and their asks
  // take nothing from 3 and 4.
  auto stillWaiting = [](std::uint64_t id) { return id > 2; };
  EXPECT_EQ(pool.takeWakeable(stillWaiting), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_FALSE(pool.hasWaiters());
}

TEST(BufferPool, TakeWakeableKeepsTheReserveFromChunkAsks) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  BufferBlock a = pool.acquire(1), b = pool.acquire(1);
  pool.wait(1, kChunk);
  EXPECT_TRUE(pool.takeWakeable(always).empty()) << "only the reserve is free";
  BufferPool growers(kChunk, kFrameBlock + 2 * kChunk);
  growers.setGrowthReserve(kFrameBlock);
  BufferBlock c = growers.acquire(1), d = growers.acquire(1);
  growers.wait(7, kFrameBlock);
  growers.wait(8, kFrameBlock);
  EXPECT_EQ(growers.takeWakeable(always), std::vector<std::uint64_t>{7})
      << "one frame block fits the reserve";
  for (BufferBlock* x : {&a, &b})
    pool.release(*x);
  for (BufferBlock* x : {&c, &d})
    growers.release(*x);
}

TEST(BufferPool, WaitersWithoutABudgetAreAllWoken) {
  BufferPool pool(kChunk, 0);
  pool.wait(1, kChunk);
  pool.wait(2, 1u << 30);
  EXPECT_EQ(pool.takeWakeable(always), (std::vector<std::uint64_t>{1, 2}));
}

}  // namespace
}  // namespace uvframe
