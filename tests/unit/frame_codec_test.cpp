// Unit tests for common/frame_codec: header encoding in both byte orders,
// FrameDecoder on plain spans and through a RingBuffer fed like the server
// feeds it (split at every byte, trickled, oversized), and the foreign
// protocol guess.
#include "frame_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "frame_feeder.h"
#include "test_bytes.h"

namespace uvframe {
namespace {

using test::asBytes;
using test::encodeFrames;
using test::FrameFeeder;
using Status = DecodeResult::Status;

// Several frames: empty ones, short, multi-byte text, and two longer than the
// 64-byte chunks the feeders use, so growth and compaction happen mid-stream.
std::vector<std::string> sampleFrames() {
  return {"hello",
          "",
          std::string(100, 'x'),
          "\xEC\x95\x88\xEB\x85\x95\xED\x95\x98\xEC\x84\xB8\xEC\x9A\x94",  // 안녕하세요
          "",
          "a",
          std::string(300, 'y') + "end",
          ""};
}

std::string hexOf(const std::array<std::byte, kFrameHeaderBytes>& h) {
  std::string s;
  for (std::byte b : h) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (!s.empty()) s.push_back(' ');
    s.push_back(kHex[std::to_integer<unsigned>(b) >> 4]);
    s.push_back(kHex[std::to_integer<unsigned>(b) & 0xF]);
  }
  return s;
}

class FrameDecoderByteOrder : public ::testing::TestWithParam<ByteOrder> {};

TEST(FrameCodec, LittleEndianHeaderKnownBytes) {
  EXPECT_EQ(hexOf(encodeHeader(10, ByteOrder::kLittle)), "0a 00 00 00");
  EXPECT_EQ(hexOf(encodeHeader(0x01020304, ByteOrder::kLittle)), "04 03 02 01");
  EXPECT_EQ(hexOf(encodeHeader(0xFFFFFFFFu, ByteOrder::kLittle)), "ff ff ff ff");
}

TEST(FrameCodec, BigEndianHeaderKnownBytes) {
  EXPECT_EQ(hexOf(encodeHeader(10, ByteOrder::kBig)), "00 00 00 0a");
  EXPECT_EQ(hexOf(encodeHeader(0x01020304, ByteOrder::kBig)), "01 02 03 04");
}

TEST(FrameCodec, DecodeLengthOfKnownBytes) {
  const std::byte le10[] = {std::byte{0x0a}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_EQ(decodeLength(le10, ByteOrder::kLittle), 10u);
  EXPECT_EQ(decodeLength(le10, ByteOrder::kBig), 0x0a000000u);
  const std::byte high[] = {std::byte{0x80}, std::byte{0x01}, std::byte{0xff}, std::byte{0x7f}};
  EXPECT_EQ(decodeLength(high, ByteOrder::kLittle), 0x7fff0180u);
  EXPECT_EQ(decodeLength(high, ByteOrder::kBig), 0x8001ff7fu);
}

TEST_P(FrameDecoderByteOrder, HeaderRoundTrip) {
  const ByteOrder order = GetParam();
  std::mt19937 rng(12345);
  std::vector<std::uint32_t> values = {0, 1, 255, 256, 65535, 65536, 0x7fffffff, 0xffffffff};
  for (int i = 0; i < 1000; ++i)
    values.push_back(static_cast<std::uint32_t>(rng()));
  for (std::uint32_t v : values) {
    auto header = encodeHeader(v, order);
    EXPECT_EQ(decodeLength(header.data(), order), v);
  }
}

TEST(FrameCodec, ParseByteOrderNames) {
  EXPECT_EQ(parseByteOrder("little"), ByteOrder::kLittle);
  EXPECT_EQ(parseByteOrder("le"), ByteOrder::kLittle);
  EXPECT_EQ(parseByteOrder("big"), ByteOrder::kBig);
  EXPECT_EQ(parseByteOrder("network"), ByteOrder::kBig);
  EXPECT_EQ(parseByteOrder("middle"), std::nullopt);
  EXPECT_EQ(toString(ByteOrder::kLittle), "little");
  EXPECT_EQ(toString(ByteOrder::kBig), "big");
}

TEST(FrameDecoder, NeedsFourBytesBeforeKnowingTheFrameSize) {
  FrameDecoder decoder;
  std::string wire = encodeFrames({"0123456789"}, ByteOrder::kLittle);
  for (std::size_t n = 0; n < kFrameHeaderBytes; ++n) {
    DecodeResult r = decoder.decode(asBytes(wire).first(n));
    EXPECT_EQ(r.status, Status::kNeedMore);
    EXPECT_EQ(r.frameBytes, 0u) << n;
  }
  for (std::size_t n = kFrameHeaderBytes; n < wire.size(); ++n) {
    DecodeResult r = decoder.decode(asBytes(wire).first(n));
    EXPECT_EQ(r.status, Status::kNeedMore);
    EXPECT_EQ(r.frameBytes, 14u) << n;
    EXPECT_EQ(r.payloadBytes, 10u);
  }
  DecodeResult r = decoder.decode(asBytes(wire));
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(r.consumedBytes, 14u);
  EXPECT_EQ(test::textOf(r.payload), "0123456789");
}

TEST(FrameDecoder, ZeroLengthFrameIsAnEmptyMessage) {
  FrameDecoder decoder;
  std::string wire = encodeFrames({"", "", "z"}, ByteOrder::kLittle);
  DecodeResult r = decoder.decode(asBytes(wire));
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(r.payloadBytes, 0u);
  EXPECT_TRUE(r.payload.empty());
  EXPECT_EQ(r.consumedBytes, kFrameHeaderBytes);
}

TEST(FrameDecoder, ManyFramesInOneSpan) {
  FrameDecoder decoder;
  std::string wire = encodeFrames(sampleFrames(), ByteOrder::kLittle);
  std::span<const std::byte> rest = asBytes(wire);
  std::vector<std::string> out;
  while (true) {
    DecodeResult r = decoder.decode(rest);
    if (r.status != Status::kFrame) break;
    out.push_back(test::textOf(r.payload));
    rest = rest.subspan(r.consumedBytes);
  }
  EXPECT_EQ(out, sampleFrames());
  EXPECT_TRUE(rest.empty());
}

TEST_P(FrameDecoderByteOrder, PayloadOfExactlyMaxIsAccepted) {
  const ByteOrder order = GetParam();
  FrameDecoder decoder(order, 16);
  std::string wire = encodeFrames({std::string(16, 'm')}, order);
  DecodeResult r = decoder.decode(asBytes(wire));
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(r.payloadBytes, 16u);
}

TEST_P(FrameDecoderByteOrder, PayloadOfMaxPlusOneIsTooLarge) {
  const ByteOrder order = GetParam();
  FrameDecoder decoder(order, 16);
  // Only the header is needed to refuse the frame.
  std::string header = encodeFrames({std::string(17, 'm')}, order).substr(0, kFrameHeaderBytes);
  DecodeResult r = decoder.decode(asBytes(header));
  EXPECT_EQ(r.status, Status::kTooLarge);
  EXPECT_EQ(r.payloadBytes, 17u);
  EXPECT_EQ(r.consumedBytes, 0u);
}

TEST(FrameDecoder, DefaultLimitIsOneMebibyte) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.maxPayloadBytes(), 1048576u);
  auto ok = encodeHeader(1048576, ByteOrder::kLittle);
  EXPECT_EQ(decoder.decode(ok).status, Status::kNeedMore);
  EXPECT_EQ(decoder.decode(ok).frameBytes, 1048580u);
  auto tooBig = encodeHeader(1048577, ByteOrder::kLittle);
  EXPECT_EQ(decoder.decode(tooBig).status, Status::kTooLarge);
}

TEST(FrameDecoder, HttpRequestIsTooLargeAndRecognised) {
  FrameDecoder decoder;
  std::string_view request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  DecodeResult r = decoder.decode(asBytes(request));
  EXPECT_EQ(r.status, Status::kTooLarge);
  EXPECT_EQ(r.payloadBytes, 0x20544547u);  // "GET " read little-endian
  EXPECT_EQ(guessForeignProtocol(asBytes(request)), "HTTP");
}

// Every split of the stream into two reads, and the feeder's ring must give
// back exactly the frames that went in, then hold nothing. With 64 KiB chunks
// each read fits in one span; with 64-byte chunks the ring also has to
// compact and grow between and within the reads.
TEST_P(FrameDecoderByteOrder, StreamSplitAtEveryByteIntoTwoReads) {
  const ByteOrder order = GetParam();
  const std::vector<std::string> frames = sampleFrames();
  const std::string wire = encodeFrames(frames, order);
  for (std::size_t chunkBytes : {std::size_t{65536}, std::size_t{64}}) {
    for (std::size_t split = 0; split <= wire.size(); ++split) {
      BufferPool pool(chunkBytes, 0);
      {
        FrameFeeder feeder(pool, FrameDecoder(order, 1024));
        ASSERT_TRUE(feeder.read(std::string_view(wire).substr(0, split)));
        ASSERT_TRUE(feeder.read(std::string_view(wire).substr(split)));
        ASSERT_EQ(feeder.frames(), frames) << "split at " << split << ", chunk " << chunkBytes;
        EXPECT_FALSE(feeder.tooLarge());
        EXPECT_TRUE(feeder.ring().empty());
        EXPECT_FALSE(feeder.ring().hasStorage()) << "split at " << split;
      }
      EXPECT_EQ(pool.bytesLent(), 0u);
    }
  }
}

TEST_P(FrameDecoderByteOrder, StreamTrickledOneByteAtATime) {
  const ByteOrder order = GetParam();
  const std::vector<std::string> frames = sampleFrames();
  const std::string wire = encodeFrames(frames, order);
  BufferPool pool(64, 0);
  FrameFeeder feeder(pool, FrameDecoder(order, 1024));
  feeder.trickle(wire);
  EXPECT_EQ(feeder.frames(), frames);
  EXPECT_FALSE(feeder.ring().hasStorage());
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST_P(FrameDecoderByteOrder, HeaderSplitAcrossReads) {
  const ByteOrder order = GetParam();
  const std::string wire = encodeFrames({"abc", "defg"}, order);
  for (std::size_t split = 1; split < kFrameHeaderBytes; ++split) {
    BufferPool pool(4096, 0);
    FrameFeeder feeder(pool, FrameDecoder(order));
    feeder.read(std::string_view(wire).substr(0, split));
    EXPECT_TRUE(feeder.frames().empty());
    EXPECT_EQ(feeder.nextFrameBytes(), 0u) << "frame size unknown with a partial header";
    feeder.read(std::string_view(wire).substr(split));
    EXPECT_EQ(feeder.frames(), (std::vector<std::string>{"abc", "defg"}));
  }
}

TEST_P(FrameDecoderByteOrder, RandomReadSizesReassembleExactly) {
  const ByteOrder order = GetParam();
  std::mt19937 rng(2024);
  std::vector<std::string> frames;
  for (int i = 0; i < 200; ++i) {
    std::string p(rng() % 200, '\0');
    for (char& c : p)
      c = static_cast<char>(rng());
    frames.push_back(std::move(p));
  }
  const std::string wire = encodeFrames(frames, order);
  BufferPool pool(128, 0);
  FrameFeeder feeder(pool, FrameDecoder(order, 1024));
  for (std::size_t pos = 0; pos < wire.size();) {
    std::size_t n = std::min<std::size_t>(1 + rng() % 300, wire.size() - pos);
    ASSERT_TRUE(feeder.read(std::string_view(wire).substr(pos, n)));
    pos += n;
  }
  EXPECT_EQ(feeder.frames(), frames);
  EXPECT_EQ(pool.bytesLent(), 0u);
}

TEST_P(FrameDecoderByteOrder, TooLargeAfterValidFramesReportsLength) {
  const ByteOrder order = GetParam();
  std::string wire = encodeFrames({"ok", std::string(16, 'm')}, order);
  wire += encodeFrames({std::string(17, 'n')}, order);
  wire += encodeFrames({"never"}, order);
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    BufferPool pool(64, 0);
    FrameFeeder feeder(pool, FrameDecoder(order, 16));
    feeder.read(std::string_view(wire).substr(0, split));
    feeder.read(std::string_view(wire).substr(split));
    EXPECT_EQ(feeder.frames(), (std::vector<std::string>{"ok", std::string(16, 'm')}));
    ASSERT_TRUE(feeder.tooLarge()) << "split at " << split;
    EXPECT_EQ(*feeder.tooLarge(), 17u);
  }
}

INSTANTIATE_TEST_SUITE_P(BothOrders, FrameDecoderByteOrder,
                         ::testing::Values(ByteOrder::kLittle, ByteOrder::kBig),
                         [](const auto& param) { return std::string(toString(param.param)); });

TEST(GuessForeignProtocol, HttpMethods) {
  EXPECT_EQ(guessForeignProtocol(asBytes("GET / HTTP/1.1\r\n")), "HTTP");
  EXPECT_EQ(guessForeignProtocol(asBytes("POST /api HTTP/1.1\r\n")), "HTTP");
  EXPECT_EQ(guessForeignProtocol(asBytes("GET ")), "HTTP");
}

TEST(GuessForeignProtocol, TlsClientHello) {
  const std::byte hello[] = {std::byte{0x16}, std::byte{0x03}, std::byte{0x01}, std::byte{0x02},
                             std::byte{0x00}};
  EXPECT_EQ(guessForeignProtocol(hello), "TLS");
}

TEST(GuessForeignProtocol, ProxyProtocol) {
  EXPECT_EQ(guessForeignProtocol(asBytes("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")), "PROXY protocol");
}

TEST(GuessForeignProtocol, TooFewBytesGiveNothingAway) {
  EXPECT_EQ(guessForeignProtocol(asBytes("")), "");
  EXPECT_EQ(guessForeignProtocol(asBytes("GE")), "");
  const std::byte tlsStart[] = {std::byte{0x16}};
  EXPECT_EQ(guessForeignProtocol(tlsStart), "");
}

TEST(GuessForeignProtocol, RandomBytesAreUnknown) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::array<std::byte, 8> bytes{};
    for (std::byte& b : bytes)
      b = static_cast<std::byte>(rng());
    // A first byte outside printable ASCII, CR and 0x16 can start no known
    // prefix, so the guess must stay empty.
    bytes[0] = static_cast<std::byte>(0x80 | (rng() & 0x7F));
    EXPECT_EQ(guessForeignProtocol(bytes), "") << i;
  }
  // A plausible little-endian header of a short frame is not foreign either.
  auto header = encodeHeader(42, ByteOrder::kLittle);
  EXPECT_EQ(guessForeignProtocol(header), "");
}

}  // namespace
}  // namespace uvframe
