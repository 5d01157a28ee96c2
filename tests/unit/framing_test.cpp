// Unit tests for common/framing: the options and their validation, each
// framing's decoder at its boundaries, the default framing against
// FrameDecoder, every cut of a stream, and encoder -> decoder round trips.
#include "framing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "test_bytes.h"

namespace uvframe {
namespace {

using test::asBytes;
using test::textOf;
using Status = FramingResult::Status;

FramingOptions lengthOptions(unsigned bytes, ByteOrder order, std::uint32_t offset = 0,
                             std::int64_t adjust = 0, std::uint32_t max = kDefaultMaxFrameBytes) {
  FramingOptions o;
  o.lengthBytes = static_cast<std::uint8_t>(bytes);
  o.byteOrder = order;
  o.lengthOffset = offset;
  o.lengthAdjust = adjust;
  o.maxPayloadBytes = max;
  return o;
}

FramingOptions kindOptions(FramingKind kind, std::uint32_t max = kDefaultMaxFrameBytes) {
  FramingOptions o;
  o.kind = kind;
  o.maxPayloadBytes = max;
  return o;
}

FramingResult decode(const FramingOptions& o, std::string_view bytes) {
  EXPECT_EQ(validateFramingOptions(o), "");
  return FramingDecoder(o).decode(asBytes(bytes));
}

std::string frame(const FramingOptions& o, std::string_view payload) {
  std::string wire;
  EXPECT_TRUE(appendHeader(o, payload.size(), wire));
  wire.append(payload);
  return wire;
}

// Every configuration the cut and round-trip tests run through.
std::vector<FramingOptions> allConfigs() {
  std::vector<FramingOptions> configs;
  for (unsigned bytes : {1u, 2u, 3u, 4u, 8u}) {
    for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
      configs.push_back(lengthOptions(bytes, order));
      configs.push_back(lengthOptions(bytes, order, 3, -static_cast<std::int64_t>(bytes)));
    }
  }
  configs.push_back(lengthOptions(2, ByteOrder::kBig, 1, 2));
  configs.push_back(kindOptions(FramingKind::kOctetCounting));
  configs.push_back(kindOptions(FramingKind::kVarint));
  return configs;
}

TEST(FramingOptions, KindsParseAndPrint) {
  EXPECT_EQ(parseFramingKind("length"), FramingKind::kLength);
  EXPECT_EQ(parseFramingKind("octet-counting"), FramingKind::kOctetCounting);
  EXPECT_EQ(parseFramingKind("varint"), FramingKind::kVarint);
  EXPECT_EQ(parseFramingKind("Length"), std::nullopt);
  EXPECT_EQ(parseFramingKind(""), std::nullopt);
  for (FramingKind k : {FramingKind::kLength, FramingKind::kOctetCounting, FramingKind::kVarint})
    EXPECT_EQ(parseFramingKind(toString(k)), k);
}

TEST(FramingOptions, ValidationNamesTheOptionAtFault) {
  EXPECT_EQ(validateFramingOptions({}), "");
  for (unsigned bytes : {1u, 2u, 3u, 4u, 8u})
    EXPECT_EQ(validateFramingOptions(lengthOptions(bytes, ByteOrder::kBig)), "");
  EXPECT_EQ(validateFramingOptions(lengthOptions(5, ByteOrder::kBig)),
            "--length-bytes must be 1, 2, 3, 4 or 8, not 5");
  EXPECT_EQ(validateFramingOptions(lengthOptions(0, ByteOrder::kBig)),
            "--length-bytes must be 1, 2, 3, 4 or 8, not 0");
  EXPECT_NE(validateFramingOptions(lengthOptions(4, ByteOrder::kBig, 4097)).find("--length-offset"),
            std::string::npos);
  EXPECT_EQ(validateFramingOptions(lengthOptions(4, ByteOrder::kBig, 4096)), "");
  EXPECT_NE(validateFramingOptions(lengthOptions(8, ByteOrder::kBig, 0, kMaxLengthAdjust + 1))
                .find("--length-adjust must lie within"),
            std::string::npos);
  EXPECT_EQ(validateFramingOptions(lengthOptions(8, ByteOrder::kBig, 0, -kMaxLengthAdjust)), "");
  EXPECT_EQ(validateFramingOptions(lengthOptions(1, ByteOrder::kBig, 0, -256)),
            "--length-adjust -256 makes every 1-byte length negative");
  EXPECT_EQ(validateFramingOptions(lengthOptions(1, ByteOrder::kBig, 0, -255)), "");
  FramingOptions octet = kindOptions(FramingKind::kOctetCounting);
  octet.lengthBytes = 2;
  EXPECT_EQ(validateFramingOptions(octet),
            "--length-bytes applies only to --framing length, not --framing octet-counting");
  FramingOptions varint = kindOptions(FramingKind::kVarint);
  varint.lengthAdjust = -4;
  EXPECT_NE(validateFramingOptions(varint).find("--length-adjust"), std::string::npos);
  varint = kindOptions(FramingKind::kVarint);
  varint.byteOrder = ByteOrder::kBig;  // a general option: ignored, not refused
  EXPECT_EQ(validateFramingOptions(varint), "");
}

TEST(FramingOptions, DescribeForTheListeningLine) {
  EXPECT_EQ(describeFraming({}),
            "framing=length, length-bytes=4, byte-order=little, length-offset=0, length-adjust=0");
  EXPECT_EQ(describeFraming(kindOptions(FramingKind::kVarint)), "framing=varint");
}

// The default framing answers exactly as FrameDecoder at every prefix of
// random streams, limits and bad lengths included.
TEST(FramingDecoder, DefaultDecodesLikeFrameDecoder) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string wire;
    while (wire.size() < 64)
      wire.push_back(static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 24));
    std::uint32_t max = rng() % 40;
    FrameDecoder reference(ByteOrder::kLittle, max);
    FramingDecoder decoder(lengthOptions(4, ByteOrder::kLittle, 0, 0, max));
    for (std::size_t at = 0; at <= wire.size(); ++at) {
      auto input = asBytes(std::string_view(wire).substr(0, at));
      DecodeResult a = reference.decode(input);
      FramingResult b = decoder.decode(input);
      ASSERT_EQ(static_cast<int>(a.status), static_cast<int>(b.status)) << round << " " << at;
      ASSERT_EQ(a.frameBytes, b.frameBytes);
      ASSERT_EQ(a.consumedBytes, b.consumedBytes);
      if (a.status == DecodeResult::Status::kTooLarge) {
        ASSERT_EQ(a.payloadBytes, b.lengthField);
      } else {
        ASSERT_EQ(a.payloadBytes, b.payloadBytes);
      }
      ASSERT_EQ(a.payload.data(), b.payload.data());
      ASSERT_EQ(a.payload.size(), b.payload.size());
    }
  }
}

TEST(FramingDecoder, EveryLengthWidthInBothByteOrders) {
  struct Case {
    unsigned bytes;
    ByteOrder order;
    std::string_view header;
  };
  // 0x0005 announced by each width and order; 8-byte big endian last.
  const Case cases[] = {
      {1, ByteOrder::kLittle, "\x05"},
      {1, ByteOrder::kBig, "\x05"},
      {2, ByteOrder::kLittle, std::string_view("\x05\x00", 2)},
      {2, ByteOrder::kBig, std::string_view("\x00\x05", 2)},
      {3, ByteOrder::kLittle, std::string_view("\x05\x00\x00", 3)},
      {3, ByteOrder::kBig, std::string_view("\x00\x00\x05", 3)},
      {4, ByteOrder::kLittle, std::string_view("\x05\x00\x00\x00", 4)},
      {4, ByteOrder::kBig, std::string_view("\x00\x00\x00\x05", 4)},
      {8, ByteOrder::kLittle, std::string_view("\x05\0\0\0\0\0\0\0", 8)},
      {8, ByteOrder::kBig, std::string_view("\0\0\0\0\0\0\0\x05", 8)},
  };
  for (const Case& c : cases) {
    FramingOptions o = lengthOptions(c.bytes, c.order);
    std::string wire = std::string(c.header) + "hello+";
    FramingResult r = decode(o, wire);
    ASSERT_EQ(r.status, Status::kFrame) << c.bytes;
    EXPECT_EQ(textOf(r.payload), "hello");
    EXPECT_EQ(r.headerBytes, c.bytes);
    EXPECT_EQ(r.consumedBytes, c.bytes + 5);
    EXPECT_EQ(frame(o, "hello"), std::string(c.header) + "hello");
    EXPECT_EQ(decode(o, wire.substr(0, c.bytes + 2)).frameBytes, c.bytes + 5);
    EXPECT_EQ(decode(o, wire.substr(0, c.bytes - 1)).frameBytes, 0u) << "header incomplete";
  }
  // Byte order matters in every byte: 0x010203 in 3 bytes.
  EXPECT_EQ(decode(lengthOptions(3, ByteOrder::kBig, 0, 0, UINT32_MAX), "\x01\x02\x03").frameBytes,
            3u + 0x010203u);
  EXPECT_EQ(
      decode(lengthOptions(3, ByteOrder::kLittle, 0, 0, UINT32_MAX), "\x01\x02\x03").frameBytes,
      3u + 0x030201u);
}

TEST(FramingDecoder, OffsetBytesAreSkippedUnchecked) {
  FramingOptions o = lengthOptions(2, ByteOrder::kBig, 3);
  FramingResult r = decode(o, std::string_view("\xFF\x00\x7F\x00\x02ok", 7));
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(textOf(r.payload), "ok");
  EXPECT_EQ(r.headerBytes, 5u);
  EXPECT_EQ(decode(o, std::string_view("\xFF\x00\x7F\x00", 4)).status, Status::kNeedMore);
  EXPECT_EQ(frame(o, "ok"), std::string("\0\0\0\0\x02ok", 7)) << "offset written as zeros";
}

TEST(FramingDecoder, AdjustWhenTheLengthCountsItself) {
  FramingOptions o = lengthOptions(4, ByteOrder::kBig, 0, -4);
  FramingResult r = decode(o, std::string_view("\0\0\0\x06hi", 6));
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(textOf(r.payload), "hi");
  EXPECT_EQ(r.lengthField, 6u);
  FramingResult empty = decode(o, std::string_view("\0\0\0\x04", 4));
  ASSERT_EQ(empty.status, Status::kFrame);
  EXPECT_EQ(empty.payloadBytes, 0u);
  FramingResult negative = decode(o, std::string_view("\0\0\0\x03", 4));
  EXPECT_EQ(negative.status, Status::kBadHeader);
  EXPECT_EQ(negative.reason, "adjusted length below zero");
  EXPECT_EQ(frame(o, "hi"), std::string("\0\0\0\x06hi", 6));
}

TEST(FramingDecoder, PositiveAdjustAddsBytesAfterTheField) {
  FramingOptions o = lengthOptions(1, ByteOrder::kLittle, 0, 2);
  FramingResult r = decode(o,
                           "\x01"
                           "abc");
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(textOf(r.payload), "abc");
  std::string out;
  EXPECT_FALSE(appendHeader(o, 1, out)) << "field would be -1";
  EXPECT_EQ(out, "");
  EXPECT_EQ(framingHeaderBytes(o, 1), 0u);
  // The adjust cannot wrap a huge 8-byte field round to a small payload.
  FramingOptions wide = lengthOptions(8, ByteOrder::kLittle, 0, 100);
  FramingResult huge = decode(wide, std::string(8, '\xFF'));
  EXPECT_EQ(huge.status, Status::kTooLarge);
  EXPECT_EQ(huge.lengthField, UINT64_MAX);
}

TEST(FramingDecoder, MaxFrameExactlyAndOneAbove) {
  for (FramingOptions o :
       {lengthOptions(4, ByteOrder::kLittle, 0, 0, 10),
        lengthOptions(2, ByteOrder::kBig, 1, -2, 10), kindOptions(FramingKind::kOctetCounting, 10),
        kindOptions(FramingKind::kVarint, 10)}) {
    std::string at = frame(o, std::string(10, 'x'));
    FramingResult r = decode(o, at);
    ASSERT_EQ(r.status, Status::kFrame) << describeFraming(o);
    EXPECT_EQ(r.payloadBytes, 10u);
    std::string above;
    ASSERT_TRUE(appendHeader(o, 11, above));
    FramingResult big = decode(o, above);
    EXPECT_EQ(big.status, Status::kTooLarge) << describeFraming(o);
    EXPECT_EQ(big.lengthField, 11 - static_cast<std::uint64_t>(o.lengthAdjust))
        << "the field as received";
  }
}

TEST(FramingDecoder, EightByteLengthsAbove4GiB) {
  FramingOptions o = lengthOptions(8, ByteOrder::kBig, 0, 0, UINT32_MAX);
  FramingResult r = decode(o, std::string_view("\0\0\0\x01\0\0\0\x05", 8));
  EXPECT_EQ(r.status, Status::kTooLarge);
  EXPECT_EQ(r.lengthField, (std::uint64_t{1} << 32) + 5);
  FramingResult fits = decode(o, std::string_view("\0\0\0\0\xFF\xFF\xFF\xFF", 8));
  EXPECT_EQ(fits.status, Status::kNeedMore);
  EXPECT_EQ(fits.frameBytes, std::size_t{8} + UINT32_MAX);
  // With -8 the 2^32 + 7 field still lies above the 32-bit limit; 2^32 + 7 - 8 fits.
  FramingOptions self = lengthOptions(8, ByteOrder::kLittle, 0, -8, UINT32_MAX);
  EXPECT_EQ(decode(self, std::string_view("\x07\0\0\0\x01\0\0\0", 8)).status, Status::kNeedMore);
  EXPECT_EQ(decode(self, std::string_view("\x08\0\0\0\x01\0\0\0", 8)).status, Status::kTooLarge);
}

TEST(FramingDecoder, OctetCountingFollowsRfc6587) {
  FramingOptions o = kindOptions(FramingKind::kOctetCounting, UINT32_MAX);
  FramingResult r = decode(o, "5 hello5 world");
  ASSERT_EQ(r.status, Status::kFrame);
  EXPECT_EQ(textOf(r.payload), "hello");
  EXPECT_EQ(r.consumedBytes, 7u);
  EXPECT_EQ(decode(o, "12 hello").frameBytes, 15u);
  EXPECT_EQ(decode(o, "").status, Status::kNeedMore);
  EXPECT_EQ(decode(o, "12").status, Status::kNeedMore);
  EXPECT_EQ(decode(o, "12").frameBytes, 0u);
  EXPECT_EQ(decode(o, "1234567890").status, Status::kNeedMore) << "10 digits, space to come";
  FramingResult ten = decode(o, "9999999999 ");
  EXPECT_EQ(ten.status, Status::kTooLarge);
  EXPECT_EQ(ten.lengthField, 9'999'999'999u);
  struct Bad {
    std::string_view wire, reason;
  };
  for (Bad b :
       {Bad{"00 ", "octet count begins with 0"}, Bad{"012 abc", "octet count begins with 0"},
        Bad{"12345678901", "octet count longer than 10 digits"},
        Bad{"12345678901 ", "octet count longer than 10 digits"},
        Bad{"12x", "octet count not followed by a space"},
        Bad{"12\t", "octet count not followed by a space"},
        Bad{" 12 ", "octet count is not a decimal number"},
        Bad{"<34>1 2026", "octet count is not a decimal number"}}) {
    FramingResult bad = decode(o, b.wire);
    EXPECT_EQ(bad.status, Status::kBadHeader) << b.wire;
    EXPECT_EQ(bad.reason, b.reason) << b.wire;
  }
  // rsyslog sends "0 " for an empty message: an empty frame, not an error.
  FramingResult empty = decode(o, "0 5 hello");
  EXPECT_EQ(empty.status, Status::kFrame);
  EXPECT_EQ(empty.payloadBytes, 0u);
  EXPECT_EQ(empty.consumedBytes, 2u);
  EXPECT_EQ(decode(o, "0").status, Status::kNeedMore);
  std::string out;
  EXPECT_FALSE(appendHeader(o, 0, out)) << "no zero-length frame in RFC 6587";
  EXPECT_EQ(framingHeaderBytes(o, 9'999'999'999u), 11u);
  EXPECT_EQ(framingHeaderBytes(o, 10'000'000'000u), 0u);
}

TEST(FramingDecoder, VarintUpToTenBytes) {
  FramingOptions o = kindOptions(FramingKind::kVarint, UINT32_MAX);
  FramingResult empty = decode(o, std::string_view("\0", 1));
  ASSERT_EQ(empty.status, Status::kFrame);
  EXPECT_EQ(empty.consumedBytes, 1u);
  EXPECT_EQ(decode(o, "\x96\x01").frameBytes, 2u + 150u);
  EXPECT_EQ(frame(o, std::string(150, 'v')).substr(0, 2), "\x96\x01");
  EXPECT_EQ(decode(o, std::string(9, '\x80')).status, Status::kNeedMore);
  // Ten bytes: zero written long (accepted, as protobuf does), and 2^64 - 1.
  FramingResult longZero = decode(o, std::string(9, '\x80') + std::string(1, '\0'));
  ASSERT_EQ(longZero.status, Status::kFrame);
  EXPECT_EQ(longZero.consumedBytes, 10u);
  FramingResult max64 = decode(o, std::string(9, '\xFF') + "\x01");
  EXPECT_EQ(max64.status, Status::kTooLarge);
  EXPECT_EQ(max64.lengthField, UINT64_MAX);
  FramingResult eleven = decode(o, std::string(10, '\x80') + std::string(1, '\0'));
  EXPECT_EQ(eleven.status, Status::kBadHeader);
  EXPECT_EQ(eleven.reason, "varint longer than 10 bytes");
  EXPECT_EQ(decode(o, std::string(10, '\x80')).status, Status::kBadHeader) << "known at byte 10";
  FramingResult overflow = decode(o, std::string(9, '\xFF') + "\x02");
  EXPECT_EQ(overflow.status, Status::kBadHeader);
  EXPECT_EQ(overflow.reason, "varint above 64 bits");
  EXPECT_EQ(framingHeaderBytes(o, UINT64_MAX), 10u);
  EXPECT_EQ(framingHeaderBytes(o, 127), 1u);
  EXPECT_EQ(framingHeaderBytes(o, 128), 2u);
}

TEST(FramingDecoder, ZeroLengthPayloads) {
  for (const FramingOptions& o : allConfigs()) {
    if (framingHeaderBytes(o, 0) == 0) continue;  // octet counting; a positive adjust
    std::string wire = frame(o, "") + frame(o, "");
    FramingResult r = decode(o, wire);
    ASSERT_EQ(r.status, Status::kFrame) << describeFraming(o);
    EXPECT_EQ(r.payloadBytes, 0u);
    EXPECT_EQ(r.consumedBytes, wire.size() / 2);
  }
}

// Decodes a whole stream: the frames, then how it ended (status and offset).
struct Decoded {
  std::vector<std::string> frames;
  Status end = Status::kNeedMore;
  std::size_t endOffset = 0;
  bool operator==(const Decoded&) const = default;
};

// Feeds wire in the given pieces the way a receive ring does: unconsumed
// bytes stay, new ones are appended, frames are taken from the front.
Decoded feed(const FramingDecoder& d, std::string_view wire, const std::vector<std::size_t>& cuts) {
  Decoded out;
  std::string ring;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    std::size_t to = i < cuts.size() ? cuts[i] : wire.size();
    ring.append(wire.substr(from, to - from));
    from = to;
    std::size_t offset = 0;
    FramingResult r;
    while ((r = d.decode(asBytes(std::string_view(ring).substr(offset)))).status ==
           Status::kFrame) {
      EXPECT_LE(r.consumedBytes, ring.size() - offset);
      out.frames.push_back(textOf(r.payload));
      offset += r.consumedBytes;
    }
    out.endOffset += offset;
    ring.erase(0, offset);
    if (r.status != Status::kNeedMore) {
      out.end = r.status;
      return out;
    }
  }
  return out;
}

TEST(FramingDecoder, EveryCutOfAStreamGivesTheSameFrames) {
  std::mt19937 rng(7);
  for (FramingOptions o : allConfigs()) {
    // A small limit, so that the 0xFF bytes below are too large for any width.
    o.maxPayloadBytes = 200;
    FramingDecoder d(o);
    const std::size_t smallest =
        o.kind == FramingKind::kOctetCounting
            ? 1
            : static_cast<std::size_t>(std::max<std::int64_t>(0, o.lengthAdjust));
    std::string wire;
    std::vector<std::string> payloads;
    for (int f = 0; f < 12; ++f) {
      std::string p(rng() % 9 + smallest, '\0');
      for (char& c : p)
        c = static_cast<char>(rng());
      payloads.push_back(p);
      wire += frame(o, p);
    }
    // Whole, then byte by byte, then random pieces: the same frames.
    Decoded whole = feed(d, wire, {});
    EXPECT_EQ(whole.frames, payloads) << describeFraming(o);
    EXPECT_EQ(whole.endOffset, wire.size());
    std::vector<std::size_t> everyByte;
    for (std::size_t i = 1; i < wire.size(); ++i)
      everyByte.push_back(i);
    EXPECT_EQ(feed(d, wire, everyByte), whole) << describeFraming(o);
    for (int round = 0; round < 50; ++round) {
      std::vector<std::size_t> cuts;
      for (std::size_t at = rng() % 7; at < wire.size(); at += 1 + rng() % 11)
        cuts.push_back(at);
      ASSERT_EQ(feed(d, wire, cuts), whole) << describeFraming(o) << " round " << round;
    }
    // A single cut at every position, with garbage after the last frame
    // (0xFF bytes: too large or bad for every framing here).
    std::string spoiled = wire + std::string(12, '\xFF');
    Decoded bad = feed(d, spoiled, {});
    EXPECT_NE(bad.end, Status::kNeedMore) << describeFraming(o);
    EXPECT_EQ(bad.endOffset, wire.size());
    for (std::size_t at = 0; at <= spoiled.size(); ++at)
      ASSERT_EQ(feed(d, spoiled, {at}), bad) << describeFraming(o) << " cut " << at;
  }
}

TEST(FramingEncoder, RoundTripsEverySizeItCanAnnounce) {
  for (const FramingOptions& o : allConfigs()) {
    FramingOptions wide = o;
    wide.maxPayloadBytes = UINT32_MAX;
    FramingDecoder d(wide);
    for (std::uint64_t size : {0ull, 1ull, 2ull, 127ull, 128ull, 251ull, 255ull, 256ull, 300ull,
                               65535ull, 65536ull, 70000ull}) {
      std::string wire;
      if (!appendHeader(o, size, wire)) {
        EXPECT_EQ(framingHeaderBytes(o, size), 0u);
        continue;
      }
      EXPECT_EQ(wire.size(), framingHeaderBytes(o, size)) << describeFraming(o) << " " << size;
      std::size_t header = wire.size();
      wire.append(size, 'p');
      FramingResult r = d.decode(asBytes(wire));
      ASSERT_EQ(r.status, Status::kFrame) << describeFraming(o) << " " << size;
      EXPECT_EQ(r.payloadBytes, size);
      EXPECT_EQ(r.headerBytes, header);
      EXPECT_EQ(r.consumedBytes, wire.size());
    }
  }
  // What a field cannot hold is refused, not wrapped.
  std::vector<std::byte> out;
  EXPECT_FALSE(appendHeader(lengthOptions(1, ByteOrder::kLittle), 256, out));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(appendHeader(lengthOptions(1, ByteOrder::kLittle, 0, -4), 251, out));
  EXPECT_FALSE(appendHeader(lengthOptions(1, ByteOrder::kLittle, 0, -4), 252, out));
  EXPECT_TRUE(appendHeader(lengthOptions(3, ByteOrder::kBig), 0xFFFFFF, out));
  EXPECT_FALSE(appendHeader(lengthOptions(3, ByteOrder::kBig), 0x1000000, out));
  EXPECT_EQ(out.size(), 4u);
}

}  // namespace
}  // namespace uvframe
