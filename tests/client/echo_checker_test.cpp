// EchoChecker: reassembly of echoed frames at any split, mismatch, extra and
// missing frames, and latency from the start time.
#include "echo_checker.h"

#include <gtest/gtest.h>

#include <cstring>

#include <string>

namespace uvframe {
namespace {

class EchoCheckerTest : public ::testing::Test {
 protected:
  std::string frame(std::uint64_t seq, std::uint32_t size) {
    std::string out(kFrameHeaderBytes + size, '\0');
    auto header = encodeHeader(size, ByteOrder::kLittle);
    std::memcpy(out.data(), header.data(), header.size());
    pattern_.write(kConn, seq, size, out.data() + kFrameHeaderBytes);
    return out;
  }
  EchoTally feed(const std::string& bytes, std::uint64_t nowNs = 1000) {
    return checker_.feed(std::as_bytes(std::span(bytes.data(), bytes.size())), nowNs, latencies_);
  }

  static constexpr std::uint64_t kConn = 5;
  PayloadPattern pattern_{4096};
  EchoChecker checker_{pattern_, FrameDecoder(ByteOrder::kLittle, 4096), kConn};
  LatencyHistogram latencies_;
};

TEST_F(EchoCheckerTest, WholeFramesInOneReadMatch) {
  for (std::uint64_t seq = 0; seq < 3; ++seq)
    checker_.expect(seq, 100, 0);
  EchoTally t = feed(frame(0, 100) + frame(1, 100) + frame(2, 100));
  EXPECT_EQ(t.frames, 3u);
  EXPECT_EQ(t.bytes, 3u * 104);
  EXPECT_EQ(t.mismatched, 0u);
  EXPECT_EQ(t.extra, 0u);
  EXPECT_EQ(checker_.outstanding(), 0u);
}

TEST_F(EchoCheckerTest, FramesSplitAtEveryByteReassemble) {
  std::string all;
  for (std::uint64_t seq = 0; seq < 4; ++seq) {
    checker_.expect(seq, static_cast<std::uint32_t>(seq * 7), 0);
    all += frame(seq, static_cast<std::uint32_t>(seq * 7));
  }
  std::uint64_t frames = 0, mismatched = 0;
  for (char c : all) {
    EchoTally t = feed(std::string(1, c));
    frames += t.frames;
    mismatched += t.mismatched;
  }
  EXPECT_EQ(frames, 4u);
  EXPECT_EQ(mismatched, 0u);
}

TEST_F(EchoCheckerTest, OneCorruptByteIsOneMismatch) {
  checker_.expect(0, 64, 0);
  checker_.expect(1, 64, 0);
  std::string bytes = frame(0, 64) + frame(1, 64);
  bytes[4 + 30] ^= 0x20;
  EchoTally t = feed(bytes);
  EXPECT_EQ(t.frames, 2u);
  EXPECT_EQ(t.mismatched, 1u);
}

TEST_F(EchoCheckerTest, FrameNotSentIsExtra) {
  checker_.expect(0, 10, 0);
  EchoTally t = feed(frame(0, 10) + frame(1, 10));
  EXPECT_EQ(t.frames, 2u);
  EXPECT_EQ(t.extra, 1u);
}

TEST_F(EchoCheckerTest, LengthAboveLimitLosesTheStream) {
  checker_.expect(0, 10, 0);
  auto header = encodeHeader(1u << 30, ByteOrder::kLittle);
  EchoTally t = feed(std::string(reinterpret_cast<const char*>(header.data()), 4));
  EXPECT_TRUE(t.tooLarge);
  EXPECT_EQ(feed(frame(0, 10)).frames, 0u) << "bytes after a lost stream are ignored";
}

TEST_F(EchoCheckerTest, LatencyCountsFromTheStartTime) {
  checker_.expect(0, 8, 250);
  feed(frame(0, 8), 1250);
  ASSERT_EQ(latencies_.count(), 1u);
  EXPECT_EQ(latencies_.maxNs(), 1000u);
}

TEST_F(EchoCheckerTest, FramesStartedDuringWarmupAreNotTimed) {
  checker_.expect(0, 8, 100);
  checker_.expect(1, 8, 600);
  std::string both = frame(0, 8) + frame(1, 8);
  EchoTally t =
      checker_.feed(std::as_bytes(std::span(both.data(), both.size())), 1000, latencies_, 500);
  EXPECT_EQ(t.frames, 2u);
  ASSERT_EQ(latencies_.count(), 1u);
  EXPECT_EQ(latencies_.maxNs(), 400u);
}

TEST_F(EchoCheckerTest, OutstandingFramesAreDroppedAndCounted) {
  for (std::uint64_t seq = 0; seq < 5; ++seq)
    checker_.expect(seq, 1, 0);
  feed(frame(0, 1));
  EXPECT_EQ(checker_.outstanding(), 4u);
  EXPECT_EQ(checker_.dropOutstanding(), 4u);
  EXPECT_EQ(checker_.outstanding(), 0u);
}

}  // namespace
}  // namespace uvframe
