// bench_codec: frame decoding from the RingBuffer, the way the server does it,
// with the product's RingBuffer, BufferPool and FrameDecoder.
//
// Bytes arrive in reads of at most 64 KiB. Each read is
//   prepareWrite(frameBytesOrZero) -> memcpy of the next stream chunk into the
//   span (standing in for recv) -> commit -> decode(readable())/consume until
//   kNeedMore -> releaseIfEmpty
// over a pre-built stream of frames with payloads of 16, 64, 1024 and 65536
// bytes. Two decoding loops:
//   DecodeFromRing         one consume() per frame
//   DecodeFromRing_Cursor  an offset into readable() and one consume() per
//                          read, as server/connection.cpp's processFrames()
// BM_Memcpy_64KiB copies the same bytes with a plain memcpy: the reference.
// BM_DecodeFlat_FrameDecoder and BM_DecodeFlat_FramingDecoder walk one
// period of the same stream in place (no ring, cursor loop) with the fixed
// FrameDecoder and with FramingDecoder on the default framing (4 bytes,
// little endian): what the configurable framing costs per frame.
// BM_DecodeFlat_<Framing> does the same for each other framing over a stream
// in that framing (frames/s compared, as the headers differ in size).
// After the runs, main() prints the codec's bytes/s as a fraction of
// memcpy's (target: >= 0.90 at 1024-byte frames).
//
// Counters: items (frames/s), bytes (bytes read/s), moved_per_read_byte
// (RingBuffer::bytesMoved() / bytes read: compaction overhead) and
// allocs_per_frame (heap allocations in the timed loop per frame; target 0).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_support.h"
#include "buffer_pool.h"
#include "frame_codec.h"
#include "framing.h"
#include "ratio_reporter.h"
#include "ring_buffer.h"

namespace {

using uvframe::BufferPool;
using uvframe::ByteOrder;
using uvframe::DecodeResult;
using uvframe::FrameDecoder;
using uvframe::RingBuffer;

constexpr std::size_t kReadBytes = 64 * 1024;
constexpr std::size_t kChunkBytes = 64 * 1024;
// Big enough to leave L1/L2 behind like real socket data, small enough to
// build quickly; the stream is stored twice so any read is one memcpy.
constexpr std::size_t kMinStreamBytes = 4u << 20;

/// Whole frames of payloadBytes each, printable ASCII like the loadgen sends,
/// stored twice in a row.
struct FrameStream {
  std::vector<std::byte> bytes;  // 2 * length
  std::size_t length = 0;        // one period, a whole number of frames
};

FrameStream buildStream(std::size_t payloadBytes, const uvframe::FramingOptions& framing = {}) {
  std::vector<std::byte> one;
  std::size_t frameBytes = uvframe::framingHeaderBytes(framing, payloadBytes) + payloadBytes;
  std::size_t frames = std::max<std::size_t>(4, (kMinStreamBytes + frameBytes - 1) / frameBytes);
  one.reserve(frames * frameBytes);
  for (std::size_t f = 0; f < frames; ++f) {
    uvframe::appendHeader(framing, payloadBytes, one);
    auto payload = uvframe::bench::toBytes(uvframe::bench::loadgenText(
        "conn=" + std::to_string(f % 100) + " seq=" + std::to_string(f) + " ", payloadBytes));
    one.insert(one.end(), payload.begin(), payload.end());
  }
  FrameStream s;
  s.length = one.size();
  s.bytes = one;
  s.bytes.insert(s.bytes.end(), one.begin(), one.end());
  return s;
}

enum class Loop { kPerFrameConsume, kCursor };

/// One connection's receive path: ring, decoder and where the stream is.
template <Loop kLoop>
struct Receiver {
  BufferPool pool{kChunkBytes, 0};
  RingBuffer ring{pool};
  FrameDecoder decoder{ByteOrder::kLittle, uvframe::kDefaultMaxFrameBytes};
  std::size_t nextFrameBytes = 0;
  std::size_t streamOffset = 0;
  std::uint64_t frames = 0;
  std::uint64_t bytesRead = 0;

  // One read of at most kReadBytes and the decoding that follows it.
  void readOnce(const FrameStream& stream) {
    std::span<std::byte> w = ring.prepareWrite(nextFrameBytes);
    std::size_t n = std::min(w.size(), kReadBytes);
    std::memcpy(w.data(), stream.bytes.data() + streamOffset, n);
    streamOffset += n;
    if (streamOffset >= stream.length) streamOffset -= stream.length;
    ring.commit(n);
    bytesRead += n;
    if constexpr (kLoop == Loop::kPerFrameConsume) {
      decodePerFrame();
    } else {
      decodeWithCursor();
    }
    ring.releaseIfEmpty();
  }

  void decodePerFrame() {
    while (true) {
      DecodeResult r = decoder.decode(ring.readable());
      if (r.status != DecodeResult::Status::kFrame) {
        nextFrameBytes = r.frameBytes;
        break;
      }
      benchmark::DoNotOptimize(r.payload.data());
      ring.consume(r.consumedBytes);
      ++frames;
    }
  }

  void decodeWithCursor() {
    std::span<const std::byte> data = ring.readable();
    std::size_t offset = 0;
    while (true) {
      DecodeResult r = decoder.decode(data.subspan(offset));
      if (r.status != DecodeResult::Status::kFrame) {
        nextFrameBytes = r.frameBytes;
        break;
      }
      benchmark::DoNotOptimize(r.payload.data());
      offset += r.consumedBytes;
      ++frames;
    }
    ring.consume(offset);
  }
};

template <Loop kLoop>
void decodeFromRing(benchmark::State& state) {
  const auto payloadBytes = static_cast<std::size_t>(state.range(0));
  const FrameStream stream = buildStream(payloadBytes);
  Receiver<kLoop> rx;
  // Warm-up: let the pool cache its chunk and any growth happen once.
  for (int i = 0; i < 64; ++i)
    rx.readOnce(stream);
  const std::uint64_t frames0 = rx.frames, bytes0 = rx.bytesRead;
  const std::size_t moved0 = rx.ring.bytesMoved();
  const std::size_t heap0 = rx.pool.heapAllocations();
  const auto allocs = uvframe::bench::countedLoop(state, [&] { rx.readOnce(stream); });

  const auto frames = static_cast<double>(rx.frames - frames0);
  const auto bytes = static_cast<double>(rx.bytesRead - bytes0);
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["moved_per_read_byte"] =
      bytes > 0 ? static_cast<double>(rx.ring.bytesMoved() - moved0) / bytes : 0;
  state.counters["allocs_per_frame"] = frames > 0 ? static_cast<double>(allocs.thread) / frames : 0;
  state.counters["pool_heap_allocs"] = static_cast<double>(rx.pool.heapAllocations() - heap0);
  state.counters["frames_per_read"] = frames / static_cast<double>(state.iterations());
}

void BM_DecodeFromRing(benchmark::State& s) {
  decodeFromRing<Loop::kPerFrameConsume>(s);
}
void BM_DecodeFromRing_Cursor(benchmark::State& s) {
  decodeFromRing<Loop::kCursor>(s);
}
BENCHMARK(BM_DecodeFromRing)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024)->Arg(65536);
BENCHMARK(BM_DecodeFromRing_Cursor)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024)->Arg(65536);

// The reference: the same 64 KiB reads from the same kind of stream, copied
// into one 64 KiB buffer and not looked at.
void BM_Memcpy_64KiB(benchmark::State& state) {
  const FrameStream stream = buildStream(1024);
  std::vector<std::byte> dest(kReadBytes);
  std::size_t offset = 0;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    std::memcpy(dest.data(), stream.bytes.data() + offset, kReadBytes);
    benchmark::ClobberMemory();
    offset += kReadBytes;
    if (offset >= stream.length) offset -= stream.length;
    bytes += kReadBytes;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_Memcpy_64KiB);

/// Decodes every frame of one stream period from a flat buffer per iteration.
template <class Decoder>
void decodeFlat(benchmark::State& state, const Decoder& decoder,
                const uvframe::FramingOptions& framing = {}) {
  const FrameStream stream = buildStream(static_cast<std::size_t>(state.range(0)), framing);
  const std::span<const std::byte> period(stream.bytes.data(), stream.length);
  std::uint64_t frames = 0;
  for (auto _ : state) {
    std::size_t offset = 0;
    while (true) {
      auto r = decoder.decode(period.subspan(offset));
      if (r.consumedBytes == 0) break;
      benchmark::DoNotOptimize(r.payload.data());
      offset += r.consumedBytes;
      ++frames;
    }
    benchmark::DoNotOptimize(offset);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.length));
}

void BM_DecodeFlat_FrameDecoder(benchmark::State& s) {
  decodeFlat(s, FrameDecoder(ByteOrder::kLittle, uvframe::kDefaultMaxFrameBytes));
}
void BM_DecodeFlat_FramingDecoder(benchmark::State& s) {
  decodeFlat(s, uvframe::FramingDecoder(uvframe::FramingOptions{}));
}
BENCHMARK(BM_DecodeFlat_FrameDecoder)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);
BENCHMARK(BM_DecodeFlat_FramingDecoder)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);

// Each other framing over a stream in its own format.
void decodeFlatWith(benchmark::State& s, uvframe::FramingOptions framing) {
  decodeFlat(s, uvframe::FramingDecoder(framing), framing);
}
uvframe::FramingOptions lengthField(std::uint8_t bytes, ByteOrder order, std::int64_t adjust) {
  uvframe::FramingOptions o;
  o.lengthBytes = bytes;
  o.byteOrder = order;
  o.lengthAdjust = adjust;
  return o;
}
uvframe::FramingOptions framingOf(uvframe::FramingKind kind) {
  uvframe::FramingOptions o;
  o.kind = kind;
  return o;
}
void BM_DecodeFlat_Length2Big(benchmark::State& s) {
  decodeFlatWith(s, lengthField(2, ByteOrder::kBig, 0));
}
void BM_DecodeFlat_Length4CountsItself(benchmark::State& s) {
  decodeFlatWith(s, lengthField(4, ByteOrder::kBig, -4));
}
void BM_DecodeFlat_Length8(benchmark::State& s) {
  decodeFlatWith(s, lengthField(8, ByteOrder::kLittle, 0));
}
void BM_DecodeFlat_OctetCounting(benchmark::State& s) {
  decodeFlatWith(s, framingOf(uvframe::FramingKind::kOctetCounting));
}
void BM_DecodeFlat_Varint(benchmark::State& s) {
  decodeFlatWith(s, framingOf(uvframe::FramingKind::kVarint));
}
BENCHMARK(BM_DecodeFlat_Length2Big)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);
BENCHMARK(BM_DecodeFlat_Length4CountsItself)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);
BENCHMARK(BM_DecodeFlat_Length8)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);
BENCHMARK(BM_DecodeFlat_OctetCounting)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);
BENCHMARK(BM_DecodeFlat_Varint)->ArgName("payload")->Arg(16)->Arg(64)->Arg(1024);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  uvframe::bench::RatioReporter reporter("bytes_per_second");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nDecode bytes/s as a fraction of memcpy's (BM_Memcpy_64KiB):\n");
  for (const char* variant : {"", "_Cursor"}) {
    for (const char* size : {"16", "64", "1024", "65536"}) {
      std::string name = std::string("BM_DecodeFromRing") + variant + "/payload:" + size;
      reporter.printRatio(std::string("DecodeFromRing") + variant + " " + size + " B / memcpy",
                          name, "BM_Memcpy_64KiB", std::string(size) == "1024" ? 0.90 : 0.0);
    }
  }
  std::printf(
      "\nFramingDecoder (default framing) bytes/s as a fraction of FrameDecoder's"
      " (same stream):\n");
  for (const char* size : {"16", "64", "1024"}) {
    std::string suffix = std::string("/payload:") + size;
    reporter.printRatio(std::string("FramingDecoder / FrameDecoder ") + size + " B",
                        "BM_DecodeFlat_FramingDecoder" + suffix,
                        "BM_DecodeFlat_FrameDecoder" + suffix, 0.0);
  }
  std::printf(
      "\nEach framing's frames/s as a fraction of the default's (FrameDecoder, 4-byte"
      " length):\n");
  for (const char* framing :
       {"Length2Big", "Length4CountsItself", "Length8", "OctetCounting", "Varint"}) {
    for (const char* size : {"16", "64", "1024"}) {
      std::string suffix = std::string("/payload:") + size;
      reporter.printRatio(std::string(framing) + " / default " + size + " B",
                          std::string("BM_DecodeFlat_") + framing + suffix,
                          "BM_DecodeFlat_FrameDecoder" + suffix, 0.0, "items_per_second");
    }
  }
  benchmark::Shutdown();
  return 0;
}
