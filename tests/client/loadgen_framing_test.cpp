// The framing options of the load generator without sockets: --framing and
// its options parsed and checked (alone and against --size), the frames
// FrameBatchWriter writes (runs, reused buffers, frames of drawn sizes)
// decoded by FramingDecoder back into PayloadPattern's payloads in every
// framing, and EchoChecker reading them back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "echo_checker.h"
#include "frame_batch_writer.h"
#include "framing_bytes.h"
#include "framing_cases.h"
#include "framing_limits.h"
#include "loadgen_options.h"
#include "loadgen_parse.h"
#include "loadgen_report.h"

namespace uvframe {
namespace {

using test::parseLoadgenArgs;

using test::announces;
using test::decodeAll;
using test::framingCases;
using test::framingOptionsOf;

constexpr std::uint32_t kMaxSize = 20000;

std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.begin(), {"--connections", "1"});
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string payloadOf(const PayloadPattern& p, std::uint64_t conn, std::uint64_t seq,
                      std::uint32_t size) {
  std::string payload(size, '\0');
  p.write(conn, seq, size, payload.data());
  return payload;
}

// The frames as appendHeader() and PayloadPattern::write() make them.
std::string referenceFrames(const PayloadPattern& p, const FramingOptions& f, std::uint64_t conn,
                            std::uint64_t firstSeq, std::uint64_t count, std::uint32_t size) {
  std::string out;
  for (std::uint64_t k = 0; k < count; ++k) {
    EXPECT_TRUE(appendHeader(f, size, out));
    out += payloadOf(p, conn, firstSeq + k, size);
  }
  return out;
}

// Sizes around every header-size step of every framing (varint 127/128,
// octet-counting 9/10 and 99/100, the 1-byte field's 255) and around the
// "conn=<id> seq=<n> " prefix.
const std::vector<std::uint32_t> kSizes = {
    0, 1, 2, 5, 9, 10, 13, 20, 64, 99, 100, 127, 128, 251, 255, 256, 999, 1000, 1024, 16383, 16384};

// --- options ---------------------------------------------------------------

TEST(LoadgenFramingOptions, DefaultIsTheFourByteLittleEndianLength) {
  LoadgenOptions o;
  ASSERT_EQ(parseLoadgenArgs(with({}, {}), o), "");
  EXPECT_EQ(o.framing, FramingOptions{});
  EXPECT_EQ(o.framing.kind, FramingKind::kLength);
  EXPECT_EQ(o.framing.lengthBytes, 4);
  EXPECT_EQ(o.framing.byteOrder, ByteOrder::kLittle);
  EXPECT_EQ(o.pipeline, 65536u / 68) << "the default pipeline is unchanged";
}

TEST(LoadgenFramingOptions, EveryFramingParsesAndFoldsInByteOrderAndMaxFrame) {
  for (const auto& c : framingCases()) {
    LoadgenOptions o;
    ASSERT_EQ(parseLoadgenArgs(with(c.args, {"--max-frame", "30000", "--size", "100"}), o), "")
        << c.name;
    EXPECT_EQ(o.framing, framingOptionsOf(c.args, 30000)) << c.name;
    EXPECT_EQ(o.framing.byteOrder, o.byteOrder) << c.name;
    EXPECT_EQ(o.framing.maxPayloadBytes, 30000u) << c.name;
  }
  LoadgenOptions o;
  ASSERT_EQ(parseLoadgenArgs(with({"--framing", "length", "--length-bytes", "2", "--byte-order",
                                   "big", "--length-offset", "6", "--length-adjust", "-2"},
                                  {}),
                             o),
            "");
  EXPECT_EQ(o.framing.kind, FramingKind::kLength);
  EXPECT_EQ(o.framing.lengthBytes, 2);
  EXPECT_EQ(o.framing.byteOrder, ByteOrder::kBig);
  EXPECT_EQ(o.framing.lengthOffset, 6u);
  EXPECT_EQ(o.framing.lengthAdjust, -2);
  LoadgenOptions octet;
  ASSERT_EQ(parseLoadgenArgs(with({"--framing", "octet"}, {}), octet), "");
  EXPECT_EQ(octet.framing.kind, FramingKind::kOctetCounting);
  LoadgenOptions varint;
  ASSERT_EQ(parseLoadgenArgs(with({"--framing", "varint"}, {}), varint), "");
  EXPECT_EQ(varint.framing.kind, FramingKind::kVarint);
}

TEST(LoadgenFramingOptions, BadCombinationsNameTheOption) {
  struct Bad {
    std::vector<std::string> args;
    std::string names;
  };
  const Bad bad[] = {
      {{"--framing", "netstring"}, "--framing"},
      {{"--length-bytes", "5"}, "--length-bytes"},
      {{"--length-bytes", "0"}, "--length-bytes"},
      {{"--length-offset", "5000"}, "--length-offset"},
      {{"--length-adjust", "x"}, "--length-adjust"},
      {{"--framing", "varint", "--length-bytes", "2"}, "--length-bytes"},
      {{"--framing", "octet-counting", "--length-offset", "1"}, "--length-offset"},
      {{"--framing", "varint", "--length-adjust", "-4"}, "--length-adjust"},
      {{"--length-bytes", "1", "--length-adjust", "-256"}, "--length-adjust"},
  };
  for (const auto& b : bad) {
    LoadgenOptions o;
    std::string error = parseLoadgenArgs(with(b.args, {}), o);
    EXPECT_NE(error.find(b.names), std::string::npos) << b.args[1] << ": " << error;
  }
}

TEST(LoadgenFramingOptions, SizesTheFramingCannotAnnounceAreRefused) {
  struct Case {
    std::vector<std::string> args;
    std::string size;
    bool ok;
    std::string says;  ///< part of the error when refused
  };
  const Case cases[] = {
      {{"--framing", "octet-counting"}, "0", false, "empty payload"},
      {{"--framing", "octet-counting"}, "0-10", false, "a payload of 0 bytes"},
      {{"--framing", "octet-counting"}, "1-10", true, ""},
      {{"--framing", "varint"}, "0-100000", true, ""},
      {{"--length-bytes", "1"}, "0-255", true, ""},
      {{"--length-bytes", "1"}, "300", false, "payloads of 0 to 255 bytes"},
      {{"--length-bytes", "1"}, "10-256", false, "a payload of 256 bytes"},
      {{"--length-bytes", "1", "--length-adjust", "-4"}, "251", true, ""},
      {{"--length-bytes", "1", "--length-adjust", "-4"}, "252", false, "0 to 251 bytes"},
      {{"--length-bytes", "2", "--length-adjust", "10"}, "5", false, "10 to 65545 bytes"},
      {{"--length-bytes", "2", "--length-adjust", "10"}, "10-65545", true, ""},
      {{"--length-bytes", "2"}, "65535", true, ""},
      {{"--length-bytes", "2"}, "65536", false, "--length-bytes 2"},
      {{"--length-bytes", "3"}, "1000000", true, ""},
      {{"--length-bytes", "8", "--length-adjust", "100"}, "50", false, "100 bytes or more"},
      {{"--length-bytes", "8", "--length-adjust", "-8"}, "0-1000", true, ""},
  };
  for (const auto& c : cases) {
    LoadgenOptions o;
    std::string error = parseLoadgenArgs(with(c.args, {"--size", c.size}), o);
    if (c.ok) {
      EXPECT_EQ(error, "") << c.args[1] << " --size " << c.size;
    } else {
      EXPECT_EQ(error.rfind("--size: ", 0), 0u) << error;
      EXPECT_NE(error.find(c.says), std::string::npos)
          << c.args[1] << " --size " << c.size << ": " << error;
    }
  }
}

TEST(LoadgenFramingOptions, DefaultPipelineCountsTheFramingsHeader) {
  LoadgenOptions offset;
  ASSERT_EQ(parseLoadgenArgs(with({"--length-offset", "100"}, {"--size", "28"}), offset), "");
  EXPECT_EQ(offset.pipeline, 65536u / (28 + 104));
  LoadgenOptions plain;
  ASSERT_EQ(parseLoadgenArgs(with({}, {"--size", "28"}), plain), "");
  EXPECT_EQ(plain.pipeline, 65536u / 32);
}

TEST(LoadgenFramingOptions, JsonSummaryNamesTheFraming) {
  LoadgenOptions plain;
  ASSERT_EQ(parseLoadgenArgs(with({}, {}), plain), "");
  auto j = resultJson(plain, LoadResult{});
  EXPECT_EQ(j["options"]["framing"], "length");
  EXPECT_EQ(j["options"]["length_bytes"], 4);
  EXPECT_EQ(j["options"]["length_offset"], 0);
  EXPECT_EQ(j["options"]["length_adjust"], 0);
  EXPECT_EQ(describeRun(plain).find("framing"), std::string::npos) << describeRun(plain);

  LoadgenOptions octet;
  ASSERT_EQ(parseLoadgenArgs(with({"--framing", "octet-counting"}, {}), octet), "");
  auto k = resultJson(octet, LoadResult{});
  EXPECT_EQ(k["options"]["framing"], "octet-counting");
  EXPECT_FALSE(k["options"].contains("length_bytes"));
  EXPECT_NE(describeRun(octet).find("framing=octet-counting"), std::string::npos);
  EXPECT_EQ(k["errors"]["echo_bad_header"], 0);
}

TEST(FramingLimits, WhyNotAnnouncedNamesTheLimit) {
  FramingOptions plain;
  EXPECT_EQ(whyNotAnnounced(plain, 0), "");
  EXPECT_EQ(whyNotAnnounced(plain, 1u << 20), "");
  FramingOptions octet;
  octet.kind = FramingKind::kOctetCounting;
  EXPECT_NE(whyNotAnnounced(octet, 0).find("--framing octet-counting"), std::string::npos);
  EXPECT_EQ(whyNotAnnounced(octet, 1), "");
  FramingOptions one;
  one.lengthBytes = 1;
  EXPECT_EQ(whyNotAnnounced(one, 255), "");
  EXPECT_EQ(whyNotAnnounced(one, 300),
            "a 1-byte length field (--length-bytes 1, --length-adjust 0) announces payloads of 0 "
            "to 255 bytes only");
  FramingOptions varint;
  varint.kind = FramingKind::kVarint;
  EXPECT_EQ(whyNotAnnounced(varint, 0), "");
  EXPECT_EQ(whyNotAnnounced(varint, 1u << 31), "");
}

// --- the bytes written -----------------------------------------------------

TEST(FramingBatchWriter, DefaultFramingIsTheByteOrderConstructor) {
  PayloadPattern p(kMaxSize);
  for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
    FramingOptions f;
    f.byteOrder = order;
    FrameBatchWriter a(p, order);
    FrameBatchWriter b(p, f);
    for (std::uint32_t size : {0u, 5u, 64u, 1000u}) {
      EXPECT_EQ(a.headerSize(size), kFrameHeaderBytes);
      EXPECT_EQ(b.headerSize(size), kFrameHeaderBytes);
      std::string x(3 * b.frameSize(size), '#');
      std::string y = x;
      FrameRunLayout lx, ly;
      a.writeRun(7, 95, 3, size, x.data(), lx);
      b.writeRun(7, 95, 3, size, y.data(), ly);
      EXPECT_EQ(x, y);
      EXPECT_EQ(x, referenceFrames(p, f, 7, 95, 3, size));
    }
  }
}

TEST(FramingBatchWriter, RunsDecodeIntoThePayloadsInEveryFraming) {
  PayloadPattern p(kMaxSize);
  const std::uint64_t conns[] = {0, 12345};
  const std::uint64_t seqs[] = {0, 5, 95, 99'999'990};
  const std::uint64_t counts[] = {1, 3, 17};
  for (const auto& c : framingCases()) {
    FramingOptions f = framingOptionsOf(c.args, kMaxSize);
    FrameBatchWriter w(p, f);
    for (std::uint32_t size : kSizes) {
      if (!announces(f, size)) continue;
      ASSERT_EQ(w.headerSize(size), framingHeaderBytes(f, size)) << c.name << " size=" << size;
      for (std::uint64_t conn : conns) {
        for (std::uint64_t seq : seqs) {
          for (std::uint64_t count : counts) {
            std::string out(count * w.frameSize(size) + 1, '#');
            FrameRunLayout layout;
            w.writeRun(conn, seq, count, size, out.data(), layout);
            ASSERT_EQ(out.back(), '#') << c.name << ": wrote past the run";
            out.pop_back();
            SCOPED_TRACE(c.name + " size=" + std::to_string(size) + " seq=" + std::to_string(seq) +
                         " count=" + std::to_string(count));
            ASSERT_EQ(out, referenceFrames(p, f, conn, seq, count, size));
            std::vector<std::string> payloads = decodeAll(f, out);
            ASSERT_EQ(payloads.size(), count);
            for (std::uint64_t k = 0; k < count; ++k)
              ASSERT_EQ(payloads[k], payloadOf(p, conn, seq + k, size)) << "frame " << k;
          }
        }
      }
    }
  }
}

TEST(FramingBatchWriter, ReusedBufferAndDigitGrowthInEveryFraming) {
  PayloadPattern p(kMaxSize);
  for (const auto& c : framingCases()) {
    FramingOptions f = framingOptionsOf(c.args, kMaxSize);
    FrameBatchWriter w(p, f);
    for (std::uint32_t size : {20u, 64u, 200u}) {
      if (!announces(f, size)) continue;
      SCOPED_TRACE(c.name + " size=" + std::to_string(size));
      // A pooled batch: 40 frames from seq 100, then 30 from 140 (reused,
      // only digits patched), then 30 from 980 (digits grow mid-run).
      std::size_t frameBytes = w.frameSize(size);
      std::string out(40 * frameBytes, '#');
      FrameRunLayout layout;
      w.writeRun(3, 100, 40, size, out.data(), layout);
      EXPECT_EQ(layout.frames, 40u);
      w.writeRun(3, 140, 30, size, out.data(), layout);
      std::string second = out.substr(0, 30 * frameBytes);
      EXPECT_EQ(second, referenceFrames(p, f, 3, 140, 30, size));
      w.writeRun(3, 980, 30, size, out.data(), layout);
      std::string third = out.substr(0, 30 * frameBytes);
      EXPECT_EQ(third, referenceFrames(p, f, 3, 980, 30, size));
      std::vector<std::string> payloads = decodeAll(f, third);
      ASSERT_EQ(payloads.size(), 30u);
      EXPECT_EQ(payloads[29], payloadOf(p, 3, 1009, size));
    }
  }
}

TEST(FramingBatchWriter, FramesOfDrawnSizesDecodeInEveryFraming) {
  // As fillBatch() writes --size MIN-MAX: frame by frame, each its size.
  PayloadPattern p(kMaxSize);
  for (const auto& c : framingCases()) {
    FramingOptions f = framingOptionsOf(c.args, kMaxSize);
    FrameBatchWriter w(p, f);
    std::vector<std::uint32_t> sizes;
    for (std::uint32_t size : kSizes)
      if (announces(f, size)) sizes.push_back(size);
    std::size_t total = 0;
    for (std::uint32_t size : sizes)
      total += w.frameSize(size);
    std::string out(total, '#');
    char* at = out.data();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      w.writeFrame(9, i, sizes[i], at);
      at += w.frameSize(sizes[i]);
    }
    std::vector<std::string> payloads = decodeAll(f, out);
    ASSERT_EQ(payloads.size(), sizes.size()) << c.name;
    for (std::size_t i = 0; i < sizes.size(); ++i)
      EXPECT_EQ(payloads[i], payloadOf(p, 9, i, sizes[i])) << c.name << " frame " << i;
  }
}

TEST(FramingBatchWriter, OffsetBytesAreZerosAndHeadersAreAsSpecified) {
  PayloadPattern p(kMaxSize);
  FrameBatchWriter offset(p, framingOptionsOf({"--length-offset", "3", "--byte-order", "big"}));
  std::string out(offset.frameSize(5), '#');
  offset.writeFrame(1, 2, 5, out.data());
  EXPECT_EQ(out.substr(0, 7), std::string("\0\0\0\0\0\0\x05", 7));
  FrameBatchWriter octet(p, framingOptionsOf({"--framing", "octet-counting"}));
  std::string o(octet.frameSize(127), '#');
  octet.writeFrame(1, 2, 127, o.data());
  EXPECT_EQ(o.substr(0, 4 + 13), "127 conn=1 seq=2 ");
  FrameBatchWriter varint(p, framingOptionsOf({"--framing", "varint"}));
  std::string v(varint.frameSize(300), '#');
  varint.writeFrame(1, 2, 300, v.data());
  EXPECT_EQ(v.substr(0, 2), "\xAC\x02");
  FrameBatchWriter adjust(p, framingOptionsOf({"--length-adjust", "-4"}));
  std::string a(adjust.frameSize(10), '#');
  adjust.writeFrame(1, 2, 10, a.data());
  EXPECT_EQ(a.substr(0, 4), std::string("\x0E\0\0\0", 4)) << "the length counts itself";
}

// --- the echo read back ----------------------------------------------------

TEST(FramingEchoChecker, FramesSplitAtEveryByteMatchInEveryFraming) {
  PayloadPattern p(kMaxSize);
  for (const auto& c : framingCases()) {
    FramingOptions f = framingOptionsOf(c.args, kMaxSize);
    FrameBatchWriter w(p, f);
    std::vector<std::uint32_t> sizes;
    for (std::uint32_t size : {1u, 30u, 128u, 300u, 1000u})
      if (announces(f, size)) sizes.push_back(size);
    std::string stream;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      std::string frame(w.frameSize(sizes[i]), '\0');
      w.writeFrame(4, i, sizes[i], frame.data());
      stream += frame;
    }
    for (std::size_t split = 0; split <= stream.size(); split += (split < 40 ? 1 : 97)) {
      EchoChecker checker(p, FramingDecoder(f), 4);
      for (std::size_t i = 0; i < sizes.size(); ++i)
        checker.expect(i, sizes[i], 0);
      LatencyHistogram latencies;
      auto bytes = std::as_bytes(std::span(stream.data(), stream.size()));
      EchoTally a = checker.feed(bytes.first(split), 10, latencies);
      EchoTally b = checker.feed(bytes.subspan(split), 20, latencies);
      EXPECT_EQ(a.frames + b.frames, sizes.size()) << c.name << " split " << split;
      EXPECT_EQ(a.bytes + b.bytes, stream.size()) << c.name;
      EXPECT_EQ(a.mismatched + b.mismatched, 0u) << c.name;
      EXPECT_FALSE(a.badHeader || b.badHeader || a.tooLarge || b.tooLarge) << c.name;
      EXPECT_EQ(checker.outstanding(), 0u) << c.name;
    }
  }
}

TEST(FramingEchoChecker, BadHeaderLosesTheStream) {
  PayloadPattern p(kMaxSize);
  LatencyHistogram latencies;
  EchoChecker octet(p, FramingDecoder(framingOptionsOf({"--framing", "octet-counting"})), 1);
  octet.expect(0, 5, 0);
  std::string garbage = "x5 hello";
  EchoTally t = octet.feed(std::as_bytes(std::span(garbage.data(), garbage.size())), 1, latencies);
  EXPECT_TRUE(t.badHeader);
  EXPECT_FALSE(t.tooLarge);
  EXPECT_EQ(t.frames, 0u);
  std::string more = "5 hello";
  t = octet.feed(std::as_bytes(std::span(more.data(), more.size())), 2, latencies);
  EXPECT_EQ(t.frames, 0u) << "after a bad header the rest is ignored";

  EchoChecker varint(p, FramingDecoder(framingOptionsOf({"--framing", "varint"})), 1);
  std::string longVarint(11, '\xFF');
  t = varint.feed(std::as_bytes(std::span(longVarint.data(), longVarint.size())), 1, latencies);
  EXPECT_TRUE(t.badHeader);

  EchoChecker small(p, FramingDecoder(framingOptionsOf({"--framing", "varint"}, 100)), 1);
  std::string big = "\xC8\x01";  // 200 > --max-frame 100
  t = small.feed(std::as_bytes(std::span(big.data(), big.size())), 1, latencies);
  EXPECT_TRUE(t.tooLarge);
  EXPECT_FALSE(t.badHeader);
}

}  // namespace
}  // namespace uvframe
