// FrameBatchWriter: runs of frames are byte for byte the frames that
// encodeHeader() and PayloadPattern::write() make one at a time.
#include "frame_batch_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace uvframe {
namespace {

constexpr std::uint32_t kMaxSize = 1100;

// The frames as the load generator wrote them before FrameBatchWriter.
std::string referenceFrames(const PayloadPattern& p, ByteOrder order, std::uint64_t conn,
                            std::uint64_t firstSeq, std::uint64_t count, std::uint32_t size) {
  std::string out;
  for (std::uint64_t k = 0; k < count; ++k) {
    auto header = encodeHeader(size, order);
    out.append(reinterpret_cast<const char*>(header.data()), header.size());
    std::string payload(size, '\0');
    p.write(conn, firstSeq + k, size, payload.data());
    out += payload;
  }
  return out;
}

std::string run(const FrameBatchWriter& w, std::uint64_t conn, std::uint64_t firstSeq,
                std::uint64_t count, std::uint32_t size) {
  // A canary past the end catches a write beyond the run.
  std::string out(count * (kFrameHeaderBytes + size) + 1, '#');
  FrameRunLayout layout;
  w.writeRun(conn, firstSeq, count, size, out.data(), layout);
  EXPECT_EQ(out.back(), '#') << "wrote past the run";
  out.pop_back();
  return out;
}

// A buffer written by one run and then by the next, as a pooled write batch
// is: the second run's bytes, which may reuse the first's.
std::string rerun(const FrameBatchWriter& w, std::uint64_t conn, std::uint64_t seq1,
                  std::uint64_t count1, std::uint64_t seq2, std::uint64_t count2,
                  std::uint32_t size, FrameRunLayout& layout) {
  std::size_t frameBytes = kFrameHeaderBytes + size;
  std::string out(std::max(count1, count2) * frameBytes, '#');
  w.writeRun(conn, seq1, count1, size, out.data(), layout);
  w.writeRun(conn, seq2, count2, size, out.data(), layout);
  out.resize(count2 * frameBytes);
  return out;
}

TEST(FrameBatchWriter, RunEqualsFramesWrittenOneByOne) {
  PayloadPattern p(kMaxSize);
  const std::uint64_t conns[] = {0, 7, 12345, UINT64_MAX};
  const std::uint32_t sizes[] = {0, 1, 5, 13, 14, 15, 16, 19, 20, 21, 30, 63, 64, 65, 100, 1024};
  // Starts just below digit-count changes, at zero, and at the very top.
  const std::uint64_t seqs[] = {
      0, 1, 5, 9, 95, 990, 99'999'990, 9'999'999'999'999'999'990ull, UINT64_MAX - 300};
  const std::uint64_t counts[] = {1, 2, 3, 17, 250};
  for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
    FrameBatchWriter w(p, order);
    for (std::uint64_t conn : conns) {
      for (std::uint32_t size : sizes) {
        for (std::uint64_t seq : seqs) {
          for (std::uint64_t count : counts) {
            ASSERT_EQ(run(w, conn, seq, count, size),
                      referenceFrames(p, order, conn, seq, count, size))
                << "conn=" << conn << " seq=" << seq << " count=" << count << " size=" << size;
          }
        }
      }
    }
  }
}

TEST(FrameBatchWriter, ReusedBufferEqualsFramesWrittenOneByOne) {
  PayloadPattern p(kMaxSize);
  FrameBatchWriter w(p, ByteOrder::kLittle);
  struct Case {
    std::uint64_t seq1, count1, seq2, count2;
    std::uint64_t layoutFrames;  // what the buffer holds after, for sizes that fit the prefix
  };
  const Case cases[] = {
      {0, 10, 10, 10, 10},          // 0..9 has one digit, 10..19 two: no reuse
      {10, 963, 973, 963, 0},       // 973..1935 crosses into four digits
      {1000, 963, 1963, 963, 963},  // the closed loop's steady state: reused
      {1000, 963, 1963, 100, 963},  // shorter: a reused prefix of the buffer
      {1000, 100, 1100, 963, 963},  // longer: written afresh
      {9000, 963, 9963, 37, 963},   // up to 9999, still four digits: reused
      {9000, 963, 9963, 38, 0},     // 10000 needs five
      {5, 1, 6, 1, 1},              // one frame at a time (--echo)
      {99'999'000, 500, 99'999'500, 500, 500},
  };
  for (std::uint32_t size : {14u, 20u, 64u, 1024u}) {
    for (const Case& c : cases) {
      FrameRunLayout layout;
      std::string got = rerun(w, 77, c.seq1, c.count1, c.seq2, c.count2, size, layout);
      ASSERT_EQ(got, referenceFrames(p, ByteOrder::kLittle, 77, c.seq2, c.count2, size))
          << "seq1=" << c.seq1 << " seq2=" << c.seq2 << " count2=" << c.count2 << " size=" << size;
      // "conn=77 seq=<8 digits> " fits 64 bytes and more.
      if (size >= 64) {
        EXPECT_EQ(layout.frames, c.layoutFrames) << "seq2=" << c.seq2;
      }
    }
  }
}

TEST(FrameBatchWriter, LayoutOfAnotherConnectionOrSizeIsNotReused) {
  PayloadPattern p(kMaxSize);
  FrameBatchWriter w(p, ByteOrder::kBig);
  std::string out(100 * 68, '#');
  FrameRunLayout layout;
  w.writeRun(1, 100, 100, 64, out.data(), layout);
  w.writeRun(2, 200, 100, 64, out.data(), layout);
  EXPECT_EQ(out, referenceFrames(p, ByteOrder::kBig, 2, 200, 100, 64));
  EXPECT_EQ(layout.connId, 2u);
  // 100 frames of 4 + 60 bytes fit where 100 of 4 + 64 were.
  w.writeRun(2, 300, 100, 60, out.data(), layout);
  EXPECT_EQ(out.substr(0, 100 * 64), referenceFrames(p, ByteOrder::kBig, 2, 300, 100, 60));
  EXPECT_EQ(layout.sizeBytes, 60u);
}

TEST(FrameBatchWriter, DigitsGrowAcrossARun) {
  PayloadPattern p(64);
  FrameBatchWriter w(p, ByteOrder::kLittle);
  std::string s = run(w, 3, 98, 4, 20);
  const std::string len("\x14\x00\x00\x00", 4);
  EXPECT_EQ(s, len + "conn=3 seq=98 opqrst" + len + "conn=3 seq=99 opqrst" + len +
                   "conn=3 seq=100 pqrst" + len + "conn=3 seq=101 pqrst");
}

TEST(FrameBatchWriter, FramesShorterThanThePrefixCarryItsBeginning) {
  PayloadPattern p(64);
  FrameBatchWriter w(p, ByteOrder::kBig);
  const std::string len("\x00\x00\x00\x0c", 4);
  EXPECT_EQ(run(w, 12, 9, 2, 12), len + "conn=12 seq=" + len + "conn=12 seq=");
  EXPECT_EQ(run(w, 1, 9, 2, 13), std::string("\x00\x00\x00\x0d", 4) + "conn=1 seq=9 " +
                                     std::string("\x00\x00\x00\x0d", 4) + "conn=1 seq=10");
}

TEST(FrameBatchWriter, SingleFrameEqualsReference) {
  PayloadPattern p(kMaxSize);
  FrameBatchWriter w(p, ByteOrder::kLittle);
  for (std::uint32_t size : {0u, 3u, 64u, 1024u}) {
    std::string out(kFrameHeaderBytes + size, '\0');
    w.writeFrame(42, 1'000'000, size, out.data());
    EXPECT_EQ(out, referenceFrames(p, ByteOrder::kLittle, 42, 1'000'000, 1, size));
  }
}

}  // namespace
}  // namespace uvframe
