// Unit tests that play out the memory rule of common/buffer_pool (rules 1-5
// in buffer_pool.h) with whole peers (FrameReassembler on a shared pool):
// storage given back between reads loses nothing, no heap traffic once warm,
// and a deterministic worker simulation showing that peers which all hold a
// chunk and all need to grow ("crafted growers") complete one at a time
// instead of wedging the worker. The pool's own rule tests are in
// buffer_pool_test.cpp. The last test is the reproducer of a defect the
// fuzzer found (a token holder's give-back overshooting the budget), fixed.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "frame_feeder.h"
#include "frame_reassembler.h"
#include "test_bytes.h"

namespace uvframe {
namespace {

constexpr std::size_t kChunk = 4096;
// The largest frame of these tests (header included) and its block.
constexpr std::size_t kFrameBlock = 4 * kChunk;

// A frame of payloadBytes whose bytes tell where they come from.
std::string payloadOf(std::size_t payloadBytes, std::size_t peer, std::size_t index) {
  std::string p(payloadBytes, '\0');
  for (std::size_t i = 0; i < payloadBytes; ++i)
    p[i] = static_cast<char>((i * 7 + peer * 31 + index * 101) & 0xFF);
  return p;
}

// What one read did.
struct ReadResult {
  std::size_t offered = 0;     ///< the span prepareRead() gave (0: refused)
  std::size_t taken = 0;       ///< bytes received
  std::size_t frames = 0;      ///< frames that came out
  std::size_t wholeBytes = 0;  ///< their wire bytes (what --echo queues)
  FrameReassembler::ReadEnd end;
};

// One socket read as Connection::handleBytes does it; appends each frame's
// payload (the head of a skimmed one) to got.
ReadResult readOnce(FrameReassembler& fr, std::string_view bytes, std::vector<std::string>& got) {
  ReadResult r;
  std::span<std::byte> room = fr.prepareRead();
  r.offered = room.size();
  if (room.empty() || bytes.empty()) return r;
  r.taken = std::min(room.size(), bytes.size());
  std::memcpy(room.data(), bytes.data(), r.taken);
  fr.commit(r.taken);
  FrameReassembler::Frame f;
  while (fr.next(f)) {
    got.push_back(test::textOf(f.payload));
    ++r.frames;
  }
  r.wholeBytes = r.frames > 0 ? fr.wholeFrames().size() : 0;
  r.end = fr.endRead();
  return r;
}

// The payloads as next() gives them: frames larger than a chunk skimmed to
// their first 64 bytes unless they are kept whole.
std::vector<std::string> expected(std::vector<std::string> payloads, bool keepWhole) {
  for (std::string& p : payloads)
    if (!keepWhole && p.size() + kFrameHeaderBytes > kChunk) p.resize(64);
  return payloads;
}

// What the server does between reads (parking a stalled tail, giving back
// surplus while others wait) never loses or duplicates a byte, skimming or not.
TEST(MemoryRule, GivingBackStorageBetweenReadsLosesNothing) {
  const std::string big = payloadOf(3 * kChunk + 5, 0, 0);
  const std::vector<std::string> payloads = {"a", big, payloadOf(3000, 0, 1), "", big, "b"};
  const std::string wire = test::encodeFrames(payloads, ByteOrder::kLittle);
  for (bool keepWhole : {false, true}) {
    for (std::size_t readBytes : {std::size_t{5}, std::size_t{999}, kChunk}) {
      BufferPool pool(kChunk, 0);
      FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, keepWhole);
      std::vector<std::string> got;
      unsigned step = 0;
      for (std::size_t at = 0; at < wire.size(); ++step) {
        ReadResult r = readOnce(fr, std::string_view(wire).substr(at, readBytes), got);
        ASSERT_GT(r.taken, 0u);
        at += r.taken;
        const std::size_t unfinished = fr.unfinishedBytes();
        if (step % 3 == 0) fr.ring().giveBackSurplus();
        if (step % 3 == 1) fr.ring().shrinkToFit(BufferPool::kSmallBlockBytes);
        ASSERT_EQ(fr.unfinishedBytes(), unfinished);
        ASSERT_EQ(pool.bytesLent(), fr.ring().capacity());
      }
      EXPECT_EQ(got, expected(payloads, keepWhole))
          << "keepWhole " << keepWhole << ", reads of " << readBytes;
      EXPECT_EQ(pool.bytesLent(), 0u);
    }
  }
}

// Eight peers receive a mix of frames (a skimmed one among them) in random
// pieces, parking their tails as the server does: once warm, the pool never
// goes to the heap again.
TEST(MemoryRule, ReassemblersInSteadyStateMakeNoHeapAllocations) {
  BufferPool pool(kChunk, 0);
  std::vector<std::unique_ptr<FrameReassembler>> peers;
  for (int i = 0; i < 8; ++i)
    peers.push_back(
        std::make_unique<FrameReassembler>(pool, FramingDecoder::lengthPrefix(), 64, false));
  std::mt19937 rng(7);
  const std::vector<std::string> payloads = {"x", payloadOf(700, 0, 1), payloadOf(20000, 0, 2), "",
                                             payloadOf(3000, 0, 3)};
  const std::string wire = test::encodeFrames(payloads, ByteOrder::kLittle);
  auto cycle = [&] {
    std::vector<std::size_t> at(peers.size(), 0);
    std::vector<std::vector<std::string>> got(peers.size());
    for (bool more = true; more;) {
      more = false;
      for (std::size_t p = 0; p < peers.size(); ++p) {
        if (at[p] == wire.size()) continue;
        std::string_view bytes = std::string_view(wire).substr(at[p], 1 + rng() % 5000);
        ReadResult r = readOnce(*peers[p], bytes, got[p]);
        ASSERT_GT(r.taken, 0u);
        at[p] += r.taken;
        if (rng() % 2 == 0) peers[p]->ring().shrinkToFit(BufferPool::kSmallBlockBytes);
        more = more || at[p] < wire.size();
      }
    }
    for (const auto& g : got)
      ASSERT_EQ(g, expected(payloads, false));
  };
  // Warm the caches for the worst moment: every peer holding a chunk while
  // it takes a small block of either class to park its tail.
  std::vector<BufferBlock> warmup;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    warmup.push_back(pool.acquire(1));
    warmup.push_back(pool.acquireSmaller(1));
    warmup.push_back(pool.acquireSmaller(BufferPool::kSmallBlockBytes));
  }
  for (BufferBlock& b : warmup)
    pool.release(b);
  for (int i = 0; i < 5; ++i)
    cycle();
  const std::size_t warm = pool.heapAllocations();
  for (int i = 0; i < 300; ++i)
    cycle();
  EXPECT_EQ(pool.heapAllocations(), warm);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

// ---- A worker reduced to what the memory rule sees -------------------------

// One peer: its stream, what was read of it, and whether it waits.
struct SimPeer {
  SimPeer(BufferPool& pool, std::uint64_t id, bool keepWhole, std::vector<std::string> frames)
      : reassembler(pool, FramingDecoder::lengthPrefix(ByteOrder::kLittle, 1u << 20), 64,
                    keepWhole),
        sent(std::move(frames)),
        wire(test::encodeFrames(sent, ByteOrder::kLittle)) {
    reassembler.ring().setOwnerId(id);  // as Connection does: the pool knows it by id
  }
  FrameReassembler reassembler;
  std::vector<std::string> sent;
  std::vector<std::string> got;
  std::string wire;
  std::size_t at = 0;
  bool waiting = false;
  bool done() const { return at == wire.size(); }
};

/// One worker's loop in turns: in each turn every peer that is not waiting
/// reads at most one chunk, exactly the steps Connection::handleBytes,
/// giveBackWhileOthersWait, waitForMemory and Worker::onMemoryReleased take
/// (echo bytes are charged and, the peers reading them at once, released at
/// the end of the turn).
class SimWorker {
 public:
  SimWorker(BufferPool& pool) : pool_(pool) {}
  void add(bool keepWhole, std::vector<std::string> frames) {
    peers_.push_back(
        std::make_unique<SimPeer>(pool_, idOf(peers_.size()), keepWhole, std::move(frames)));
  }
  /// Runs turns until every peer is done; false if the worker wedged (no
  /// byte moved for three ticks) or maxTurns passed.
  bool runToEnd(std::size_t maxTurns) {
    std::size_t idle = 0;
    for (turns_ = 0; turns_ < maxTurns && !allDone(); ++turns_) {
      idle = turn() ? 0 : idle + 1;
      if (idle > 3 * kTurnsPerTick) return false;
    }
    return allDone();
  }
  /// One turn; whether it moved a byte.
  bool runTurn() { return turn(); }
  bool allDone() const {
    for (const auto& p : peers_)
      if (!p->done()) return false;
    return true;
  }
  const SimPeer& peer(std::size_t i) const { return *peers_[i]; }
  std::size_t peerCount() const { return peers_.size(); }
  std::size_t maxBytesHeld() const { return maxHeld_; }
  std::size_t turns() const { return turns_; }
  std::size_t waits() const { return waits_; }

 private:
  // Peers are known to the pool by id, from 1 (0 is nobody).
  static std::uint64_t idOf(std::size_t index) { return index + 1; }
  SimPeer& peerOf(std::uint64_t id) { return *peers_[id - 1]; }

  bool turn() {
    std::size_t moved = 0;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      SimPeer& p = *peers_[i];
      if (p.waiting || p.done()) continue;
      moved += serve(idOf(i), p);
    }
    if (echoThisTurn_ > 0) {
      pool_.releaseEcho(echoThisTurn_);
      echoThisTurn_ = 0;
      onMemoryReleased();
    }
    // Worker::tick, every few turns: an unclaimed token promise expires.
    if (++turnsSinceTick_ == kTurnsPerTick) {
      turnsSinceTick_ = 0;
      pool_.expireTokenPromise();
      onMemoryReleased();
    }
    return moved > 0;
  }

  // One read of peer id, and what the server does after it.
  std::size_t serve(std::uint64_t id, SimPeer& p) {
    FrameReassembler& fr = p.reassembler;
    ReadResult r = readOnce(fr, std::string_view(p.wire).substr(p.at), p.got);
    note();
    if (r.offered == 0) {
      p.waiting = true;
      ++waits_;
      pool_.wait(id, pool_.lastRefusedBytes());
      return 0;
    }
    p.at += r.taken;
    echoThisTurn_ += r.wholeBytes;
    pool_.chargeEcho(r.wholeBytes);
    const bool socketHasMore = !p.done() && r.taken >= r.offered;
    bool released = r.end.released;
    if (pool_.hasWaiters()) {
      if (fr.ring().giveBackSurplus()) onMemoryReleased();
      if (socketHasMore && fr.ring().capacity() < pool_.chunkBytes() && !p.waiting) {
        p.waiting = true;
        ++waits_;
        pool_.wait(id, pool_.chunkBytes());
      }
    } else if (!socketHasMore && fr.ring().readableBytes() <= BufferPool::kSmallBlockBytes &&
               fr.ring().shrinkToFit(BufferPool::kSmallBlockBytes)) {
      released = true;
    }
    if (released) onMemoryReleased();
    note();
    return r.taken;
  }

  void onMemoryReleased() {
    if (!pool_.hasWaiters()) return;
    auto stillWaiting = [this](std::uint64_t id) { return peerOf(id).waiting; };
    for (std::uint64_t id : pool_.takeWakeable(stillWaiting))
      peerOf(id).waiting = false;
  }

  void note() { maxHeld_ = std::max(maxHeld_, pool_.bytesLent()); }

  BufferPool& pool_;
  std::vector<std::unique_ptr<SimPeer>> peers_;
  std::size_t echoThisTurn_ = 0;
  std::size_t maxHeld_ = 0;
  std::size_t turns_ = 0;
  std::size_t waits_ = 0;
  std::size_t turnsSinceTick_ = 0;
  static constexpr std::size_t kTurnsPerTick = 4;
};

// Each grower sends two frames of the largest size around small ones, so it
// holds a chunk of a frame it cannot finish without growing.
std::vector<std::string> growerFrames(std::size_t peer) {
  const std::size_t big = kFrameBlock - kFrameHeaderBytes;
  return {payloadOf(big, peer, 0), payloadOf(10, peer, 1), payloadOf(big, peer, 2),
          payloadOf(3000, peer, 3)};
}

void expectEveryFrameArrived(const SimWorker& worker) {
  for (std::size_t i = 0; i < worker.peerCount(); ++i)
    EXPECT_EQ(worker.peer(i).got, worker.peer(i).sent) << "peer " << i;
}

// K peers each take a chunk (all that chunk grants allow), then all need to
// grow. The reserve lets one grow and finish; what it gives back lets the
// next one grow; no turn passes without progress.
TEST(MemoryRule, CraftedGrowersCompleteOneAtATime) {
  for (std::size_t k : {2, 3, 6, 12}) {
    BufferPool pool(kChunk, kFrameBlock + k * kChunk);
    pool.setGrowthReserve(kFrameBlock);
    SimWorker worker(pool);
    for (std::size_t i = 0; i < k; ++i)
      worker.add(true, growerFrames(i));
    ASSERT_TRUE(worker.runToEnd(100000)) << k << " growers wedged after " << worker.turns();
    expectEveryFrameArrived(worker);
    EXPECT_LE(worker.maxBytesHeld(), pool.budgetBytes());
    EXPECT_GT(worker.waits(), 0u) << "the growers did have to wait";
    EXPECT_EQ(pool.bytesHeld(), 0u);
  }
}

// The smallest budget a worker gets (one frame block and two chunks) with
// many more growers than chunks.
TEST(MemoryRule, CraftedGrowersCompleteAtTheSmallestBudget) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  SimWorker worker(pool);
  for (std::size_t i = 0; i < 10; ++i)
    worker.add(true, growerFrames(i));
  ASSERT_TRUE(worker.runToEnd(100000)) << "wedged after " << worker.turns() << " turns";
  expectEveryFrameArrived(worker);
  EXPECT_LE(worker.maxBytesHeld(), pool.budgetBytes());
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

// Growers and skimming peers (frames larger than a chunk, not kept whole)
// share the budget: the skimmers never need more than a chunk.
TEST(MemoryRule, GrowersAndSkimmersShareTheBudget) {
  BufferPool pool(kChunk, kFrameBlock + 3 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  SimWorker worker(pool);
  for (std::size_t i = 0; i < 8; ++i)
    worker.add(i % 2 == 0, growerFrames(i));
  ASSERT_TRUE(worker.runToEnd(100000)) << "wedged after " << worker.turns() << " turns";
  for (std::size_t i = 0; i < worker.peerCount(); ++i)
    EXPECT_EQ(worker.peer(i).got, expected(worker.peer(i).sent, i % 2 == 0)) << "peer " << i;
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

// Why the reserve exists: without it, the same growers take every chunk the
// budget has and none can ever grow.
TEST(MemoryRule, WithoutTheReserveCraftedGrowersWedge) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  SimWorker worker(pool);
  for (std::size_t i = 0; i < 6; ++i)
    worker.add(true, growerFrames(i));
  EXPECT_FALSE(worker.runToEnd(100000));
  EXPECT_FALSE(worker.allDone());
  EXPECT_EQ(pool.bytesLent(), pool.budgetBytes()) << "six chunks, none can grow";
}

// ---- Growth token: what a ring does with it --------------------------------

// A token holder grows again from the block of its last frame (it gives that
// one back right after): alone in the pool with 20 KiB and a 4098-byte tail
// (more than a chunk, so giveBackSurplus() could not help), it gets the
// 32 KiB block of a 40 KiB budget.
TEST(MemoryRule, ALonePeerGrowsFromABlockGrownForAnEarlierFrame) {
  const std::uint32_t maxPayload = 2 * kFrameBlock - 4;
  BufferPool pool(kChunk, 2 * kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(2 * kFrameBlock);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kLittle, maxPayload), 64, true);
  fr.ring().setOwnerId(1);
  const std::vector<std::string> sent = {payloadOf(5 * kChunk - 6, 0, 0),
                                         payloadOf(maxPayload, 0, 1)};
  const std::string wire = test::encodeFrames(sent, ByteOrder::kLittle);
  std::vector<std::string> got;
  for (std::size_t at = 0; at < wire.size();) {
    ReadResult r = readOnce(fr, std::string_view(wire).substr(at), got);
    ASSERT_GT(r.offered, 0u) << "refused alone at byte " << at << ": holds " << pool.bytesHeld()
                             << ", asks " << pool.lastRefusedBytes() << " of "
                             << pool.budgetBytes();
    at += r.taken;
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

// With a chunk smaller than kSmallBlockBytes (the server's options forbid
// it, the classes do not) a parked tail may sit in a block larger than a
// chunk; that block counts as the token, so its owner still grows from it.
TEST(MemoryRule, APeerParkedInABlockLargerThanAChunkStillGrows) {
  const std::size_t chunk = 256, frameBlock = 8192;
  BufferPool pool(chunk, frameBlock + 2 * chunk);
  pool.setGrowthReserve(frameBlock);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kLittle, frameBlock - 4), 64,
                      true);
  fr.ring().setOwnerId(1);
  const std::vector<std::string> sent = {payloadOf(frameBlock - 4, 0, 0)};
  const std::string wire = test::encodeFrames(sent, ByteOrder::kLittle);
  std::vector<std::string> got;
  for (std::size_t at = 0, read = 0; at < wire.size(); ++read) {
    ReadResult r = readOnce(fr, std::string_view(wire).substr(at), got);
    ASSERT_GT(r.offered, 0u) << "refused alone at byte " << at << " in a " << fr.ring().capacity()
                             << "-byte block";
    at += r.taken;
    // The socket ran dry after the second read: the server parks the tail.
    if (read == 1) {
      ASSERT_TRUE(fr.ring().shrinkToFit(BufferPool::kSmallBlockBytes));
      ASSERT_GT(fr.ring().capacity(), chunk);
    }
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(pool.bytesHeld(), 0u);
}

// The token is promised to the oldest peer waiting for it: a peer streaming
// large frames, which gives its grown block back between frames while
// others wait, cannot take it again ahead of them (the second grower
// finishes while the first has done only a few of its 200 frames).
TEST(MemoryRule, AWaitingGrowerIsNotOvertakenByAPeerStreamingLargeFrames) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  SimWorker worker(pool);
  std::vector<std::string> stream;
  for (std::size_t i = 0; i < 200; ++i) {
    stream.push_back(payloadOf(kFrameBlock - kFrameHeaderBytes, 0, i));
    stream.push_back(payloadOf(10, 0, i));
  }
  worker.add(true, stream);
  worker.add(true, growerFrames(1));
  for (std::size_t turn = 0; turn < 100000 && !worker.peer(1).done(); ++turn)
    worker.runTurn();
  ASSERT_TRUE(worker.peer(1).done());
  EXPECT_LE(worker.peer(0).got.size(), 8u) << "frames the first peer completed meanwhile";
}

// ---- A defect the fuzzer found, fixed ---------------------------------------

// Rule 3 calls moving to a smaller block a net release, but moving out of
// the token's block moves bytes from the reserve into the chunks' share
// without asking: with the chunks' share full, the token holder's tail lands
// beside it, the next token holder takes the whole reserve, and the pool
// lent a chunk more than the budget (each such give-back added one, up to a
// block per peer that held the token). Fixed: BufferPool keeps the smaller
// block on the token's side (the holder keeps the token in it) when the
// chunks' share has no room for it (acquireSmaller(bytes, replacingToken)).
TEST(MemoryRule, GivingBackATokenBlockKeepsTheBudget) {
  BufferPool pool(kChunk, kFrameBlock + 2 * kChunk);
  pool.setGrowthReserve(kFrameBlock);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kLittle, kFrameBlock - 4), 64,
                      true);
  fr.ring().setOwnerId(1);
  // A frame of 15384 bytes in a 16 KiB block: the read that ends it also
  // brings 300 bytes of the next one.
  const std::string wire = test::encodeFrames(
      {payloadOf(kFrameBlock - 1004, 1, 0), payloadOf(kFrameBlock - 4, 1, 1)}, ByteOrder::kLittle);
  std::vector<std::string> got;
  std::size_t at = 0;
  for (std::size_t end : {std::size_t{1000}, std::size_t{2000}, kFrameBlock - 1100}) {
    while (at < end) {
      std::size_t n = readOnce(fr, std::string_view(wire).substr(at, end - at), got).taken;
      ASSERT_GT(n, 0u);
      at += n;
    }
  }
  ASSERT_EQ(pool.tokenBlocks(), 1u);
  BufferBlock hog1 = pool.acquire(1), hog2 = pool.acquire(1);  // the chunks' share is full
  ASSERT_TRUE(hog1 && hog2);
  ASSERT_EQ(readOnce(fr, std::string_view(wire).substr(at, 400), got).taken, 400u);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(fr.ring().giveBackSurplus()) << "others wait: the tail moves out";
  BufferBlock next = pool.acquire(kFrameBlock, 0, 2);  // the next token holder
  EXPECT_FALSE(next && pool.bytesLent() > pool.budgetBytes())
      << pool.bytesLent() << " bytes lent of a " << pool.budgetBytes() << "-byte budget";
  pool.release(next);
  pool.release(hog1);
  pool.release(hog2);
}

}  // namespace
}  // namespace uvframe
