// Unit tests for common/ring_buffer: filling and consuming, compaction that
// moves only the partial tail, growth for frames larger than a chunk, reads
// capped at one chunk, returning storage to the pool (releaseIfEmpty,
// shrinkToFit, giveBackSurplus), the memory budget, and no heap traffic once
// warm.
#include "ring_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "frame_feeder.h"
#include "test_bytes.h"

namespace uvframe {
namespace {

using test::encodeFrames;
using test::FrameFeeder;
using test::textOf;

// Copies text into the writable span and commits it.
void put(RingBuffer& ring, std::string_view text, std::size_t frameBytes = 0) {
  std::span<std::byte> room = ring.prepareWrite(frameBytes);
  ASSERT_GE(room.size(), text.size());
  std::memcpy(room.data(), text.data(), text.size());
  ring.commit(text.size());
}

TEST(RingBuffer, NewRingHoldsNoStorage) {
  BufferPool pool(64, 0);
  RingBuffer ring(pool);
  EXPECT_FALSE(ring.hasStorage());
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.capacity(), 0u);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(RingBuffer, FillThenConsumeKeepsOrder) {
  BufferPool pool(64, 0);
  RingBuffer ring(pool);
  std::span<std::byte> room = ring.prepareWrite();
  EXPECT_EQ(room.size(), 64u);
  put(ring, "0123456789");
  EXPECT_EQ(ring.readableBytes(), 10u);
  ring.consume(4);
  EXPECT_EQ(textOf(ring.readable()), "456789");
  put(ring, "abc");
  EXPECT_EQ(textOf(ring.readable()), "456789abc");
  ring.unwrite(3);
  EXPECT_EQ(textOf(ring.readable()), "456789");
  ring.consume(6);
  EXPECT_TRUE(ring.empty());
  // Emptied: the whole block is writable again.
  EXPECT_EQ(ring.prepareWrite().size(), 64u);
}

TEST(RingBuffer, ReleaseIfEmptyReturnsStorageToPool) {
  BufferPool pool(64, 0);
  RingBuffer ring(pool);
  put(ring, "abcd");
  EXPECT_EQ(pool.bytesLent(), 64u);
  ring.releaseIfEmpty();
  EXPECT_TRUE(ring.hasStorage()) << "bytes are still unread";
  ring.consume(4);
  ring.releaseIfEmpty();
  EXPECT_FALSE(ring.hasStorage());
  EXPECT_EQ(pool.bytesLent(), 0u);
  EXPECT_EQ(pool.cachedChunks(), 1u);
}

TEST(RingBuffer, ReleaseStorageDropsUnreadBytes) {
  BufferPool pool(64, 0);
  RingBuffer ring(pool);
  put(ring, "partial");
  ring.releaseStorage();
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.hasStorage());
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(RingBuffer, DestructorReturnsStorage) {
  BufferPool pool(64, 0);
  {
    RingBuffer ring(pool);
    put(ring, "left over");
  }
  EXPECT_EQ(pool.bytesLent(), 0u);
  EXPECT_EQ(pool.cachedChunks(), 1u);
}

// After a read of many whole frames and one partial frame, the next read
// moves only the partial frame to the front.
TEST(RingBuffer, CompactionMovesOnlyThePartialTail) {
  BufferPool pool(8192, 0);
  FrameFeeder feeder(pool, FrameDecoder());
  std::vector<std::string> frames(79, std::string(96, 'f'));  // 79 * 100 bytes
  frames.push_back(std::string(96, 'g'));
  const std::string wire = encodeFrames(frames, ByteOrder::kLittle);
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(0, 7950)));
  EXPECT_EQ(feeder.frames().size(), 79u);
  EXPECT_EQ(feeder.ring().readableBytes(), 50u);
  EXPECT_EQ(feeder.ring().bytesMoved(), 0u);
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(7950)));
  EXPECT_EQ(feeder.ring().bytesMoved(), 50u);
  EXPECT_EQ(feeder.frames(), frames);
  EXPECT_FALSE(feeder.ring().hasStorage());
}

TEST(RingBuffer, NoCompactionWhileTheTailHasRoom) {
  BufferPool pool(65536, 0);
  FrameFeeder feeder(pool, FrameDecoder());
  std::vector<std::string> frames(10, std::string(96, 'f'));
  const std::string wire = encodeFrames(frames, ByteOrder::kLittle);
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(0, 950)));
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(950)));
  EXPECT_EQ(feeder.frames(), frames);
  EXPECT_EQ(feeder.ring().bytesMoved(), 0u);
}

TEST(RingBuffer, CompactsWhenTheFrameWouldRunPastTheEnd) {
  BufferPool pool(65536, 0);
  FrameFeeder feeder(pool, FrameDecoder());
  std::vector<std::string> frames(100, std::string(96, 'f'));  // 10,000 bytes
  frames.push_back(std::string(60000, 'L'));
  const std::string wire = encodeFrames(frames, ByteOrder::kLittle);
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(0, 10104)));
  EXPECT_EQ(feeder.nextFrameBytes(), 60004u);
  ASSERT_TRUE(feeder.read(std::string_view(wire).substr(10104)));
  EXPECT_EQ(feeder.ring().bytesMoved(), 104u);
  EXPECT_EQ(feeder.frames(), frames);
}

TEST(RingBuffer, GrowsForFrameLargerThanOneChunk) {
  BufferPool pool(64, 0);
  RingBuffer ring(pool);
  const std::string payload = [] {
    std::string p(1000, '\0');
    for (std::size_t i = 0; i < p.size(); ++i)
      p[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  const std::string wire = encodeFrames({payload}, ByteOrder::kLittle);
  put(ring, std::string_view(wire).substr(0, 34));
  FrameDecoder decoder;
  DecodeResult r = decoder.decode(ring.readable());
  ASSERT_EQ(r.status, DecodeResult::Status::kNeedMore);
  ASSERT_EQ(r.frameBytes, 1004u);

  std::span<std::byte> room = ring.prepareWrite(r.frameBytes);
  EXPECT_EQ(ring.capacity(), 1024u);
  EXPECT_EQ(room.size(), 64u) << "a read is at most one chunk, also into a grown block";
  EXPECT_EQ(textOf(ring.readable()), wire.substr(0, 34)) << "growth keeps the bytes";
  EXPECT_EQ(ring.bytesMoved(), 34u);
  EXPECT_EQ(pool.bytesLent(), 1024u);
  EXPECT_EQ(pool.cachedChunks(), 1u) << "the small chunk went back to the pool";

  for (std::size_t at = 34; at < wire.size();) {
    std::size_t n = std::min(room.size(), wire.size() - at);
    std::memcpy(room.data(), wire.data() + at, n);
    ring.commit(n);
    at += n;
    room = ring.prepareWrite(r.frameBytes);
  }
  EXPECT_EQ(ring.capacity(), 1024u) << "no move once grown";
  r = decoder.decode(ring.readable());
  ASSERT_EQ(r.status, DecodeResult::Status::kFrame);
  EXPECT_EQ(textOf(r.payload), payload);
  ring.consume(r.consumedBytes);
  ring.releaseIfEmpty();
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(RingBuffer, BudgetExhaustedGivesEmptySpanUntilMemoryFrees) {
  BufferPool pool(64, 128);
  RingBuffer a(pool), b(pool), c(pool);
  put(a, "ab");
  put(b, "cd");
  EXPECT_TRUE(c.prepareWrite().empty());
  EXPECT_FALSE(c.hasStorage());
  a.consume(2);
  a.releaseIfEmpty();
  std::span<std::byte> room = c.prepareWrite();
  EXPECT_EQ(room.size(), 64u);
  EXPECT_EQ(pool.bytesLent(), 128u);
}

TEST(RingBuffer, GrowthOverBudgetFailsAndKeepsBytes) {
  BufferPool pool(64, 256);
  RingBuffer ring(pool);
  put(ring, "0123456789");
  EXPECT_TRUE(ring.prepareWrite(1004).empty());
  EXPECT_EQ(textOf(ring.readable()), "0123456789");
  EXPECT_EQ(ring.capacity(), 64u);
  EXPECT_EQ(pool.bytesLent(), 64u);
}

// Many connections, each receiving frames in random pieces, cycle for a long
// time: once warm, the pool never goes to the heap again.
TEST(RingBuffer, SteadyStateMakesNoHeapAllocations) {
  BufferPool pool(4096, 0);
  std::vector<std::unique_ptr<FrameFeeder>> feeders;
  for (int i = 0; i < 8; ++i)
    feeders.push_back(std::make_unique<FrameFeeder>(pool, FrameDecoder()));
  std::mt19937 rng(99);
  std::vector<std::string> frames;
  for (int i = 0; i < 5; ++i)
    frames.push_back(std::string(rng() % 1500, 'p'));
  const std::string wire = encodeFrames(frames, ByteOrder::kLittle);

  auto cycle = [&] {
    // Every feeder gets the first part; then every feeder the rest, so all
    // eight hold a chunk at once.
    std::size_t split = rng() % wire.size();
    for (auto& f : feeders)
      ASSERT_TRUE(f->read(std::string_view(wire).substr(0, split)));
    for (auto& f : feeders) {
      ASSERT_TRUE(f->read(std::string_view(wire).substr(split)));
      ASSERT_EQ(f->frames(), frames);
      f->clearFrames();
    }
  };
  for (int i = 0; i < 10; ++i)
    cycle();
  const std::size_t warm = pool.heapAllocations();
  EXPECT_LE(warm, 8u);
  for (int i = 0; i < 2000; ++i)
    cycle();
  EXPECT_EQ(pool.heapAllocations(), warm);
  EXPECT_EQ(pool.bytesLent(), 0u);
  for (auto& f : feeders)
    EXPECT_EQ(f->frameCount(), 2010u * frames.size());
}

// A peer that stalls mid-frame gives its chunk back and keeps only its bytes.
TEST(RingBuffer, ShrinkToFitParksTheStalledBytesInASmallBlock) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  put(ring, "0123456789");
  ring.consume(3);
  EXPECT_EQ(pool.bytesLent(), 4096u);
  ASSERT_TRUE(ring.shrinkToFit(1024));
  EXPECT_EQ(textOf(ring.readable()), "3456789");
  EXPECT_EQ(ring.capacity(), BufferPool::kSmallClassBytes[0]);
  EXPECT_EQ(pool.bytesLent(), BufferPool::kSmallClassBytes[0]);
  EXPECT_EQ(pool.cachedChunks(), 1u);
  // Nothing more to gain: already small.
  EXPECT_FALSE(ring.shrinkToFit(1024));
}

TEST(RingBuffer, ShrinkToFitLeavesLargePartialsAlone) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  put(ring, std::string(2000, 'x'));
  EXPECT_FALSE(ring.shrinkToFit(1024));
  EXPECT_EQ(ring.capacity(), 4096u);
}

TEST(RingBuffer, ParkedRingTakesAFullChunkWhenBytesArriveAgain) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  put(ring, "abc");
  ASSERT_TRUE(ring.shrinkToFit(1024));
  std::span<std::byte> room = ring.prepareWrite();
  EXPECT_EQ(ring.capacity(), 4096u);
  EXPECT_EQ(room.size(), 4096u - 3);
  EXPECT_EQ(textOf(ring.readable()), "abc");
  EXPECT_EQ(pool.bytesLent(), 4096u);
}

TEST(RingBuffer, ParkedRingUsesItsOwnRoomWhenTheBudgetIsSpent) {
  // Budget: the parked block plus nothing else.
  BufferPool pool(4096, 4096 + BufferPool::kSmallClassBytes[0]);
  RingBuffer parked(pool);
  put(parked, "abc");
  RingBuffer hog(pool);
  ASSERT_TRUE(parked.shrinkToFit(1024));
  put(hog, "hog");  // takes the only chunk
  std::span<std::byte> room = parked.prepareWrite();
  EXPECT_EQ(room.size(), BufferPool::kSmallClassBytes[0] - 3) << "the small block's free tail";
  EXPECT_EQ(textOf(parked.readable()), "abc");
  // A frame that cannot fit in the small block must wait for memory.
  EXPECT_TRUE(parked.prepareWrite(1000).empty());
}

TEST(RingBuffer, ParkedBytesTakeTheSmallestClassThatFits) {
  BufferPool pool(65536, 0);
  RingBuffer ring(pool);
  put(ring, std::string(1000, 'm'));
  ASSERT_TRUE(ring.shrinkToFit(BufferPool::kSmallBlockBytes));
  EXPECT_EQ(ring.capacity(), BufferPool::kSmallClassBytes[1]);
  EXPECT_EQ(textOf(ring.readable()), std::string(1000, 'm'));
}

TEST(RingBuffer, ParkingAndUnparkingIsAllocationFreeOnceWarm) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  for (int round = 0; round < 3; ++round) {
    put(ring, "tail");
    ASSERT_TRUE(ring.shrinkToFit(BufferPool::kSmallBlockBytes));
    ring.prepareWrite();
    ring.consume(4);
    ring.releaseIfEmpty();
  }
  std::size_t warm = pool.heapAllocations();
  for (int round = 0; round < 100; ++round) {
    put(ring, "tail");
    ASSERT_TRUE(ring.shrinkToFit(BufferPool::kSmallBlockBytes));
    ring.prepareWrite();
    ring.consume(4);
    ring.releaseIfEmpty();
  }
  EXPECT_EQ(pool.heapAllocations(), warm);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

// Each read is at most one chunk, even into a block grown for a large frame,
// so one peer's read is never bigger than another's.
TEST(RingBuffer, PrepareWriteCapsEachReadAtOneChunk) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  put(ring, "abcd");
  std::span<std::byte> room = ring.prepareWrite(5 * 4096);
  EXPECT_EQ(ring.capacity(), 5u * 4096);
  EXPECT_EQ(room.size(), 4096u);
  std::memset(room.data(), 'x', room.size());
  ring.commit(room.size());
  EXPECT_EQ(ring.prepareWrite(5 * 4096).size(), 4096u);
  // Near the end of the block, what is left of it.
  ring.commit(4096 * 3);
  EXPECT_EQ(ring.prepareWrite(5 * 4096).size(), 4096u - 4);
}

TEST(RingBuffer, GiveBackSurplusWithoutStorageDoesNothing) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  EXPECT_FALSE(ring.giveBackSurplus());
  EXPECT_EQ(pool.heapAllocations(), 0u);
}

TEST(RingBuffer, GiveBackSurplusReleasesAnEmptyRing) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  put(ring, "abc");
  ring.consume(3);
  ASSERT_TRUE(ring.hasStorage());
  EXPECT_TRUE(ring.giveBackSurplus());
  EXPECT_FALSE(ring.hasStorage());
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(RingBuffer, GiveBackSurplusParksAShortTailInASmallBlock) {
  BufferPool pool(8192, 0);
  RingBuffer ring(pool);
  put(ring, std::string(100, 'a') + "tail");
  ring.consume(100);
  EXPECT_TRUE(ring.giveBackSurplus());
  EXPECT_EQ(ring.capacity(), BufferPool::kSmallClassBytes[0]);
  EXPECT_EQ(textOf(ring.readable()), "tail");
  EXPECT_EQ(pool.bytesLent(), BufferPool::kSmallClassBytes[0]);
  EXPECT_FALSE(ring.giveBackSurplus()) << "already as small as it gets";
}

TEST(RingBuffer, GiveBackSurplusMovesADoneGrownBlockBackToAChunk) {
  BufferPool pool(8192, 0);
  RingBuffer ring(pool);
  put(ring, "x");
  std::span<std::byte> room = ring.prepareWrite(4 * 8192);
  ASSERT_EQ(ring.capacity(), 4u * 8192);
  // The big frame is done; 6000 bytes of the next one remain.
  const std::string next(6000, 'n');
  std::memcpy(room.data(), next.data(), next.size());
  ring.commit(next.size());
  ring.consume(1);
  EXPECT_TRUE(ring.giveBackSurplus());
  EXPECT_EQ(ring.capacity(), 8192u);
  EXPECT_EQ(textOf(ring.readable()), next);
  EXPECT_EQ(pool.bytesLent(), 8192u);
}

TEST(RingBuffer, GiveBackSurplusKeepsWhatTheFrameStillNeeds) {
  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  // A grown block holding more than a chunk of an unfinished frame.
  put(ring, "h");
  for (int i = 0; i < 2; ++i) {
    std::span<std::byte> room = ring.prepareWrite(4 * 4096);
    std::memset(room.data(), 'p', room.size());
    ring.commit(room.size());
  }
  ASSERT_GT(ring.readableBytes(), 4096u);
  EXPECT_FALSE(ring.giveBackSurplus());
  EXPECT_EQ(ring.capacity(), 4u * 4096);
  // A chunk holding more than a small block can: nothing to give back.
  RingBuffer full(pool);
  put(full, std::string(BufferPool::kSmallBlockBytes - 1, 'f'));
  full.commit(2);
  EXPECT_FALSE(full.giveBackSurplus());
  EXPECT_EQ(full.capacity(), 4096u);
}

TEST(RingBuffer, GiveBackSurplusIsNeverRefusedByTheBudget) {
  BufferPool pool(4096, 3 * 4096 + 2 * 4096);
  pool.setGrowthReserve(3 * 4096);
  RingBuffer ring(pool);
  put(ring, "y");
  ring.prepareWrite(3 * 4096);
  ASSERT_EQ(ring.capacity(), 3u * 4096);
  BufferBlock hog1 = pool.acquire(1), hog2 = pool.acquire(1);
  ASSERT_TRUE(hog1 && hog2);
  ASSERT_FALSE(pool.acquire(1)) << "the budget is spent";
  EXPECT_TRUE(ring.giveBackSurplus());
  EXPECT_EQ(textOf(ring.readable()), "y");
  EXPECT_EQ(ring.capacity(), BufferPool::kSmallClassBytes[0]);
  EXPECT_EQ(pool.tokenBlocks(), 1u)
      << "the chunks' share is full: the small block stays the token's, so the budget holds";
  EXPECT_LE(pool.bytesLent(), pool.budgetBytes());
  pool.release(hog1);
  pool.release(hog2);
  ring.releaseStorage();
  EXPECT_EQ(pool.tokenBlocks(), 0u) << "the token goes with its block";
}

}  // namespace
}  // namespace uvframe
