// Unit tests for common/frame_reassembler, driven the way the server drives
// it (prepareRead -> commit -> next until false -> wholeFrames -> endRead):
// frames split at every byte, many frames per read, zero-length frames, a
// frame of exactly one chunk, skimming of frames larger than a chunk, whole
// frames kept for --echo, too-large lengths, the partial-frame state the
// timeouts read, storage going back to the pool, and refused reads that
// lose nothing (memory_rule_test.cpp: giving storage back between reads, no
// heap traffic once warm).
#include "frame_reassembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "frame_feeder.h"
#include "framing.h"
#include "test_bytes.h"

namespace uvframe {
namespace {

using test::encodeFrames;
using test::textOf;

constexpr std::size_t kChunk = 4096;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

// A frame as next() gave it: the payload bytes it carried and the full size.
struct Got {
  std::string payload;
  std::uint32_t payloadBytes = 0;
  bool operator==(const Got&) const = default;
};

void PrintTo(const Got& g, std::ostream* os) {
  *os << "{" << g.payload.size() << " of " << g.payloadBytes << " bytes}";
}

Got whole(const std::string& payload) {
  return {payload, static_cast<std::uint32_t>(payload.size())};
}
Got skimmed(const std::string& payload, std::size_t maxLogged) {
  return {payload.substr(0, maxLogged), static_cast<std::uint32_t>(payload.size())};
}

// n bytes that differ from their neighbours, so a shifted copy shows.
std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xFF);
  return s;
}

// What one read gave.
struct Read {
  std::size_t offered = 0;  ///< size of the span from prepareRead()
  std::size_t taken = 0;    ///< bytes received (0: the pool refused)
  std::vector<Got> frames;
  std::string wholeFrames;
  FrameReassembler::ReadEnd end;
};

// One socket read, as Connection::handleBytes does it: at most the offered
// room, then every frame, the wire bytes of those frames, and endRead().
Read readOnce(FrameReassembler& fr, std::string_view bytes) {
  Read r;
  std::span<std::byte> room = fr.prepareRead();
  r.offered = room.size();
  if (room.empty() || bytes.empty()) return r;
  r.taken = std::min(room.size(), bytes.size());
  std::memcpy(room.data(), bytes.data(), r.taken);
  fr.commit(r.taken);
  FrameReassembler::Frame f;
  while (fr.next(f))
    r.frames.push_back({textOf(f.payload), f.payloadBytes});
  r.wholeFrames = textOf(fr.wholeFrames());
  r.end = fr.endRead();
  return r;
}

// All the reads that receive bytes, in reads of at most readBytes; stops at a
// refused read or a too-large length.
struct Fed {
  std::vector<Got> frames;
  std::size_t taken = 0;
  std::size_t reads = 0;
  bool refused = false;
  std::optional<std::uint32_t> tooLarge;
};

Fed feed(FrameReassembler& fr, std::string_view bytes, std::size_t readBytes = kAll) {
  Fed fed;
  while (fed.taken < bytes.size()) {
    std::string_view next = bytes.substr(fed.taken, readBytes);
    Read r = readOnce(fr, next);
    if (r.taken == 0) {
      fed.refused = true;
      break;
    }
    ++fed.reads;
    fed.taken += r.taken;
    fed.frames.insert(fed.frames.end(), r.frames.begin(), r.frames.end());
    if (r.end.tooLarge) {
      fed.tooLarge = r.end.announced;
      break;
    }
  }
  return fed;
}

std::vector<Got> wholeAll(const std::vector<std::string>& payloads) {
  std::vector<Got> out;
  for (const std::string& p : payloads)
    out.push_back(whole(p));
  return out;
}

TEST(FrameReassembler, FramesSplitAtEveryByteComeOutWhole) {
  const std::vector<std::string> payloads = {"", "a", "hello", pattern(300), "", "end"};
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
    Fed first = feed(fr, std::string_view(wire).substr(0, split));
    Fed rest = feed(fr, std::string_view(wire).substr(split));
    first.frames.insert(first.frames.end(), rest.frames.begin(), rest.frames.end());
    ASSERT_EQ(first.frames, wholeAll(payloads)) << "split at " << split;
    EXPECT_FALSE(fr.hasPartial());
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
}

TEST(FrameReassembler, OneByteReadsYieldEachFrameOnItsLastByte) {
  const std::vector<std::string> payloads = {"xy", "", pattern(50), "z"};
  const std::string wire = encodeFrames(payloads, ByteOrder::kBig);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kBig), 64, false);
  std::vector<Got> got;
  std::size_t frameEnd = 0, index = 0;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Read r = readOnce(fr, std::string_view(wire).substr(i, 1));
    ASSERT_EQ(r.taken, 1u);
    bool last = index < payloads.size() && i + 1 == frameEnd + 4 + payloads[index].size();
    ASSERT_EQ(r.frames.size(), last ? 1u : 0u) << "byte " << i;
    if (last) frameEnd += 4 + payloads[index++].size();
    got.insert(got.end(), r.frames.begin(), r.frames.end());
  }
  EXPECT_EQ(got, wholeAll(payloads));
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(FrameReassembler, ManyFramesInOneRead) {
  std::vector<std::string> payloads;
  for (unsigned i = 0; i < 200; ++i)
    payloads.push_back(pattern(i % 17, i));
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  ASSERT_LE(wire.size(), kChunk);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
  Read r = readOnce(fr, wire);
  EXPECT_EQ(r.taken, wire.size());
  EXPECT_EQ(r.frames, wholeAll(payloads));
  EXPECT_EQ(r.wholeFrames, wire);
  EXPECT_TRUE(r.end.released);
  EXPECT_FALSE(r.end.newFrameBegan);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(FrameReassembler, ZeroLengthFramesAloneAndBetweenOthers) {
  const std::vector<std::string> payloads = {"", "", "", "mid", "", "", pattern(9), ""};
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  for (std::size_t readBytes : {std::size_t{1}, std::size_t{3}, std::size_t{4}, kAll}) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
    Fed fed = feed(fr, wire, readBytes);
    EXPECT_EQ(fed.frames, wholeAll(payloads)) << "reads of " << readBytes;
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
  // A read of only zero-length frames also echoes their headers.
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, true);
  const std::string empties = encodeFrames({"", ""}, ByteOrder::kLittle);
  Read r = readOnce(fr, empties);
  EXPECT_EQ(r.frames, wholeAll({"", ""}));
  EXPECT_EQ(r.wholeFrames, empties);
}

// Header plus payload exactly one chunk: kept whole, and the ring never
// grows; one byte more and the frame is skimmed.
TEST(FrameReassembler, FrameOfExactlyOneChunkIsKeptWhole) {
  const std::string exact = pattern(kChunk - 4, 3);
  const std::string wire = encodeFrames({exact, "next"}, ByteOrder::kLittle);
  for (std::size_t readBytes : {std::size_t{1000}, kChunk, kAll}) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
    std::size_t maxCapacity = 0;
    Fed fed;
    for (std::size_t at = 0; at < wire.size();) {
      Read r = readOnce(fr, std::string_view(wire).substr(at, readBytes));
      ASSERT_GT(r.taken, 0u);
      at += r.taken;
      fed.frames.insert(fed.frames.end(), r.frames.begin(), r.frames.end());
      maxCapacity = std::max(maxCapacity, fr.ring().capacity());
    }
    EXPECT_EQ(fed.frames, wholeAll({exact, "next"}));
    EXPECT_LE(maxCapacity, kChunk);
    EXPECT_EQ(pool.heapAllocations(), 1u) << "one chunk, never a bigger block";
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
  const std::string over = pattern(kChunk - 3, 4);
  EXPECT_EQ(feed(fr, encodeFrames({over}, ByteOrder::kLittle)).frames,
            std::vector<Got>{skimmed(over, 64)});
}

TEST(FrameReassembler, SkimmedFrameKeepsItsHeadAndFullSizeThenNormalFramesFollow) {
  const std::string big = pattern(20000, 5);
  const std::vector<std::string> payloads = {"before", big, "after", "", "last"};
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 100, false);
  ASSERT_TRUE(fr.skims());
  std::vector<Got> got;
  std::vector<std::size_t> framesPerRead;
  for (std::size_t at = 0; at < wire.size();) {
    Read r = readOnce(fr, std::string_view(wire).substr(at));
    ASSERT_GT(r.taken, 0u);
    EXPECT_LE(r.offered, kChunk);
    EXPECT_LE(pool.bytesLent(), kChunk) << "a skimmed frame costs one chunk";
    at += r.taken;
    framesPerRead.push_back(r.frames.size());
    got.insert(got.end(), r.frames.begin(), r.frames.end());
  }
  EXPECT_EQ(got, (std::vector<Got>{whole("before"), skimmed(big, 100), whole("after"), whole(""),
                                   whole("last")}));
  // The read that completes the big frame also yields the frames behind it.
  EXPECT_EQ(framesPerRead.back(), 4u);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(FrameReassembler, SkimmedFrameSplitAcrossManyReads) {
  const std::string big = pattern(1 << 20, 6);
  const std::string wire = encodeFrames({big, "tail"}, ByteOrder::kLittle);
  for (std::size_t readBytes : {std::size_t{1}, std::size_t{7}, std::size_t{4095}, kAll}) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
    std::vector<Got> got;
    std::size_t reads = 0;
    for (std::size_t at = 0; at < wire.size(); ++reads) {
      Read r = readOnce(fr, std::string_view(wire).substr(at, readBytes));
      ASSERT_GT(r.taken, 0u);
      at += r.taken;
      got.insert(got.end(), r.frames.begin(), r.frames.end());
      ASSERT_LE(pool.bytesLent(), kChunk);
      if (at < 4 + big.size()) {
        ASSERT_TRUE(fr.hasPartial());
        ASSERT_EQ(fr.unfinishedBytes(), at);
      }
    }
    EXPECT_EQ(got, (std::vector<Got>{skimmed(big, 64), whole("tail")})) << readBytes;
    EXPECT_GE(reads, wire.size() / kChunk);
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
}

// The head may itself arrive over several reads, shorter than maxLogged.
TEST(FrameReassembler, SkimmedHeadGathersAcrossReads) {
  const std::string big = pattern(9000, 7);
  const std::string wire = encodeFrames({big}, ByteOrder::kLittle);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 1000, false);
  ASSERT_TRUE(fr.skims());
  // Header and 10 payload bytes, then 5 at a time up to the head's end.
  ASSERT_EQ(readOnce(fr, std::string_view(wire).substr(0, 14)).taken, 14u);
  std::size_t at = 14;
  while (at < 4 + 1000) {
    ASSERT_EQ(readOnce(fr, std::string_view(wire).substr(at, 5)).taken, 5u);
    at += 5;
  }
  EXPECT_EQ(textOf(fr.ring().readable()), wire.substr(0, at));
  Fed rest = feed(fr, std::string_view(wire).substr(at), 333);
  EXPECT_EQ(rest.frames, std::vector<Got>{skimmed(big, 1000)});
}

TEST(FrameReassembler, TwoSkimmedFramesBackToBack) {
  const std::string a = pattern(5000, 8), b = pattern(70000, 9);
  const std::string wire = encodeFrames({a, b, "c"}, ByteOrder::kLittle);
  // Every split of the region around the boundary between the two frames.
  for (std::size_t split = 4 + a.size() - 6; split <= 4 + a.size() + 6; ++split) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 32, false);
    Fed first = feed(fr, std::string_view(wire).substr(0, split));
    Fed rest = feed(fr, std::string_view(wire).substr(split));
    first.frames.insert(first.frames.end(), rest.frames.begin(), rest.frames.end());
    EXPECT_EQ(first.frames, (std::vector<Got>{skimmed(a, 32), skimmed(b, 32), whole("c")}))
        << "split at " << split;
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
}

TEST(FrameReassembler, NoSkimmingWhenTheHeadWouldNotLeaveHalfAChunk) {
  BufferPool pool(256, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 125, false);  // 4 + 125 > 256 / 2
  EXPECT_FALSE(fr.skims());
  const std::string big = pattern(1000, 10);
  Fed fed = feed(fr, encodeFrames({big, "x"}, ByteOrder::kLittle), 256);
  EXPECT_EQ(fed.frames, wholeAll({big, "x"}));
  FrameReassembler edge(pool, FramingDecoder::lengthPrefix(), 124, false);
  EXPECT_TRUE(edge.skims());
}

// --echo: frames larger than a chunk are kept whole; the ring grows to hold
// one, every read is still at most one chunk, and wholeFrames() is exactly
// the wire bytes of the frames that completed in the read.
TEST(FrameReassembler, KeptWholeFramesGrowTheRingAndEchoExactWireBytes) {
  const std::string big = pattern(3 * kChunk + 100, 11);
  const std::vector<std::string> payloads = {"a", big, "", "b", big.substr(7), "c"};
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  for (std::size_t readBytes : {std::size_t{100}, std::size_t{3000}, kAll}) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, true);
    EXPECT_FALSE(fr.skims());
    std::vector<Got> got;
    std::string echoed;
    std::size_t maxCapacity = 0;
    for (std::size_t at = 0; at < wire.size();) {
      Read r = readOnce(fr, std::string_view(wire).substr(at, readBytes));
      ASSERT_GT(r.taken, 0u);
      EXPECT_LE(r.offered, kChunk);
      std::vector<std::string> mine;
      for (const Got& g : r.frames)
        mine.push_back(g.payload);
      EXPECT_EQ(r.wholeFrames, encodeFrames(mine, ByteOrder::kLittle));
      echoed += r.wholeFrames;
      got.insert(got.end(), r.frames.begin(), r.frames.end());
      maxCapacity = std::max(maxCapacity, fr.ring().capacity());
      at += r.taken;
    }
    EXPECT_EQ(got, wholeAll(payloads));
    EXPECT_EQ(echoed, wire);
    EXPECT_EQ(maxCapacity, 4 * kChunk) << "the frame rounded up to whole chunks";
    EXPECT_EQ(pool.bytesLent(), 0u);
  }
}

TEST(FrameReassembler, TooLargeLengthEndsTheReadWithTheAnnouncedLength) {
  std::string wire = encodeFrames({"ok", "fine"}, ByteOrder::kLittle);
  const std::size_t badAt = wire.size();
  wire += encodeFrames({pattern(1001)}, ByteOrder::kLittle);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kLittle, 1000), 64, false);
  // The bad header split: its first two bytes end the first read quietly.
  Read first = readOnce(fr, std::string_view(wire).substr(0, badAt + 2));
  EXPECT_EQ(first.frames, wholeAll({"ok", "fine"}));
  EXPECT_FALSE(first.end.tooLarge);
  Read second = readOnce(fr, std::string_view(wire).substr(badAt + 2, 10));
  EXPECT_TRUE(second.frames.empty());
  EXPECT_TRUE(second.end.tooLarge);
  EXPECT_EQ(second.end.announced, 1001u);
  EXPECT_EQ(textOf(fr.unread()), wire.substr(badAt, 12)) << "the sample for the warning";
}

TEST(FrameReassembler, TooLargeLengthRightAfterASkimmedFrame) {
  const std::string big = pattern(6000, 12);
  std::string wire = encodeFrames({big}, ByteOrder::kBig);
  const std::string bad = "GET / HTTP/1.1\r\n";
  wire += bad;
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(ByteOrder::kBig, 8000), 16, false);
  Fed fed = feed(fr, wire, 2500);
  EXPECT_EQ(fed.frames, std::vector<Got>{skimmed(big, 16)});
  ASSERT_TRUE(fed.tooLarge.has_value());
  EXPECT_EQ(*fed.tooLarge, 0x47455420u);  // "GET " read big-endian
  EXPECT_EQ(textOf(fr.unread()), bad.substr(0, wire.size() - (4 + big.size())));
  EXPECT_EQ(guessForeignProtocol(fr.unread()), "HTTP");
}

TEST(FrameReassembler, PartialFrameStateAcrossReads) {
  const std::string wire = encodeFrames({"0123456789", "ab", "xyz"}, ByteOrder::kLittle);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
  EXPECT_FALSE(fr.hasPartial());
  EXPECT_EQ(fr.unfinishedBytes(), 0u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 0u);

  // Half a header: a frame began, its size is not known yet.
  Read r = readOnce(fr, std::string_view(wire).substr(0, 2));
  EXPECT_TRUE(r.end.newFrameBegan);
  EXPECT_TRUE(fr.hasPartial());
  EXPECT_EQ(fr.unfinishedBytes(), 2u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 0u);
  // The same frame goes on: not a new one.
  r = readOnce(fr, std::string_view(wire).substr(2, 5));
  EXPECT_FALSE(r.end.newFrameBegan);
  EXPECT_EQ(fr.unfinishedBytes(), 7u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 14u);
  // It completes, "ab" too, and "xyz" begins in the same read.
  r = readOnce(fr, std::string_view(wire).substr(7, 7 + 6 + 2));
  EXPECT_EQ(r.frames, wholeAll({"0123456789", "ab"}));
  EXPECT_TRUE(r.end.newFrameBegan);
  EXPECT_TRUE(fr.hasPartial());
  EXPECT_EQ(fr.unfinishedBytes(), 2u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 0u);
  // The last read ends on a frame boundary.
  r = readOnce(fr, std::string_view(wire).substr(22));
  EXPECT_EQ(r.frames, wholeAll({"xyz"}));
  EXPECT_FALSE(r.end.newFrameBegan);
  EXPECT_TRUE(r.end.released);
  EXPECT_FALSE(fr.hasPartial());
  EXPECT_EQ(fr.unfinishedBytes(), 0u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 0u);
}

TEST(FrameReassembler, SkimmingReportsTheBytesSeenAndTheFullFrameSize) {
  const std::string big = pattern(10000, 13);
  const std::string wire = encodeFrames({big, "n"}, ByteOrder::kLittle);
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 16, false);
  Read r = readOnce(fr, std::string_view(wire).substr(0, 3000));
  EXPECT_TRUE(r.end.newFrameBegan);
  EXPECT_EQ(fr.unfinishedBytes(), 3000u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 10004u);
  EXPECT_EQ(fr.ring().readableBytes(), 4u + 16u) << "header and head only";
  r = readOnce(fr, std::string_view(wire).substr(3000, 4000));
  EXPECT_FALSE(r.end.newFrameBegan);
  EXPECT_EQ(fr.unfinishedBytes(), 7000u);
  EXPECT_EQ(fr.unfinishedFrameBytes(), 10004u);
  // The frame ends and "n" begins (its header only) in the same read.
  r = readOnce(fr, std::string_view(wire).substr(7000, 3006));
  EXPECT_EQ(r.frames, std::vector<Got>{skimmed(big, 16)});
  EXPECT_TRUE(r.end.newFrameBegan);
  EXPECT_EQ(fr.unfinishedBytes(), 2u);
  r = readOnce(fr, std::string_view(wire).substr(10006));
  EXPECT_EQ(r.frames, wholeAll({"n"}));
  EXPECT_TRUE(r.end.released);
  EXPECT_FALSE(fr.hasPartial());
}

TEST(FrameReassembler, StorageGoesBackWhenTheRingEmpties) {
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
  const std::string wire = encodeFrames({"one", "two"}, ByteOrder::kLittle);
  Read r = readOnce(fr, std::string_view(wire).substr(0, 9));
  EXPECT_FALSE(r.end.released);
  EXPECT_TRUE(fr.ring().hasStorage());
  EXPECT_EQ(pool.bytesLent(), kChunk);
  r = readOnce(fr, std::string_view(wire).substr(9));
  EXPECT_TRUE(r.end.released);
  EXPECT_FALSE(fr.ring().hasStorage());
  EXPECT_EQ(pool.bytesLent(), 0u);
  EXPECT_EQ(pool.cachedChunks(), 1u);
}

TEST(FrameReassembler, RefusedReadLosesNothingOnceMemoryIsGranted) {
  BufferPool pool(kChunk, 2 * kChunk);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, false);
  const std::vector<std::string> payloads = {"first", pattern(6000, 14), "third"};
  const std::string wire = encodeFrames(payloads, ByteOrder::kLittle);
  BufferBlock hog1 = pool.acquire(1), hog2 = pool.acquire(1);
  ASSERT_TRUE(hog1 && hog2);
  Read refused = readOnce(fr, wire);
  EXPECT_EQ(refused.offered, 0u);
  EXPECT_EQ(pool.lastRefusedBytes(), kChunk);
  EXPECT_FALSE(fr.ring().hasStorage());
  pool.release(hog1);
  Fed fed = feed(fr, wire, 1000);
  EXPECT_FALSE(fed.refused);
  EXPECT_EQ(fed.frames,
            (std::vector<Got>{whole("first"), skimmed(payloads[1], 64), whole("third")}));
  pool.release(hog2);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST(FrameReassembler, RefusedGrowthKeepsTheBytesAndResumesWhenGranted) {
  const std::size_t frameBlock = 3 * kChunk;
  BufferPool pool(kChunk, frameBlock + 2 * kChunk);
  pool.setGrowthReserve(frameBlock);
  FrameReassembler fr(pool, FramingDecoder::lengthPrefix(), 64, true);
  const std::string big = pattern(frameBlock - 4, 15);
  const std::string wire = encodeFrames({big, "z"}, ByteOrder::kLittle);
  ASSERT_EQ(readOnce(fr, std::string_view(wire).substr(0, 1000)).taken, 1000u);
  BufferBlock grower = pool.acquire(frameBlock);  // another peer takes the reserve
  ASSERT_TRUE(grower);
  Read refused = readOnce(fr, std::string_view(wire).substr(1000));
  EXPECT_EQ(refused.offered, 0u);
  EXPECT_EQ(pool.lastRefusedBytes(), frameBlock);
  EXPECT_EQ(fr.unfinishedBytes(), 1000u);
  EXPECT_EQ(textOf(fr.ring().readable()), wire.substr(0, 1000));
  pool.release(grower);
  Fed fed = feed(fr, std::string_view(wire).substr(1000));
  EXPECT_EQ(fed.frames, wholeAll({big, "z"}));
  EXPECT_EQ(pool.bytesLent(), 0u);
}

// Other framings: headers of different sizes between frames.
std::string encodeWith(const FramingOptions& o, const std::vector<std::string>& payloads) {
  std::string out;
  for (const std::string& p : payloads) {
    EXPECT_TRUE(appendHeader(o, p.size(), out));
    out += p;
  }
  return out;
}

FramingOptions framingOf(FramingKind kind) {
  FramingOptions o;
  o.kind = kind;
  return o;
}

TEST(FrameReassembler, OctetCountAndVarintFramesSplitAtEveryByteComeOutWhole) {
  const std::vector<std::string> payloads = {"a", "hello", pattern(300), "x", pattern(5000, 2)};
  for (FramingKind kind : {FramingKind::kOctetCounting, FramingKind::kVarint}) {
    const std::string wire = encodeWith(framingOf(kind), payloads);
    for (std::size_t split :
         {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{301}, kAll}) {
      BufferPool pool(kChunk, 0);
      FrameReassembler fr(pool, FramingDecoder(framingOf(kind)), 64, true);
      Fed fed = feed(fr, wire, split);
      EXPECT_EQ(fed.frames, wholeAll(payloads)) << toString(kind) << " split " << split;
      EXPECT_FALSE(fr.hasPartial());
    }
  }
}

TEST(FrameReassembler, OctetCountFrameLargerThanAChunkIsSkimmedBehindItsLongerHeader) {
  const std::vector<std::string> payloads = {pattern(3 * kChunk + 17), "after"};
  const std::string wire = encodeWith(framingOf(FramingKind::kOctetCounting), payloads);
  for (std::size_t split : {std::size_t{100}, std::size_t{kChunk}, kAll}) {
    BufferPool pool(kChunk, 0);
    FrameReassembler fr(pool, FramingDecoder(framingOf(FramingKind::kOctetCounting)), 64, false);
    ASSERT_TRUE(fr.skims());
    Fed fed = feed(fr, wire, split);
    EXPECT_EQ(fed.frames, (std::vector<Got>{skimmed(payloads[0], 64), whole("after")}))
        << "split " << split;
  }
}

TEST(FrameReassembler, BadHeaderEndsTheReadAfterTheFramesBeforeIt) {
  BufferPool pool(kChunk, 0);
  FrameReassembler fr(pool, FramingDecoder(framingOf(FramingKind::kOctetCounting)), 64, false);
  Read r = readOnce(fr, "2 ok1 x1a ignored");
  EXPECT_EQ(r.frames, (std::vector<Got>{whole("ok"), whole("x")}));
  EXPECT_TRUE(r.end.badHeader);
  EXPECT_EQ(r.end.badHeaderReason, "octet count not followed by a space");
  EXPECT_FALSE(r.end.tooLarge);
}

}  // namespace
}  // namespace uvframe
