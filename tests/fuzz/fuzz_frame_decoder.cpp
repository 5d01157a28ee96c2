// libFuzzer target: RingBuffer + FrameDecoder fed the way the server feeds
// them (prepareWrite / commit / decode / consume / releaseIfEmpty, in reads of
// fuzzer-chosen sizes), checked against a reference model that parses the
// whole stream at once. Any difference in the frames, in where kTooLarge is
// reported, or in the bytes the ring holds traps.
//
// Input layout:
//   byte 0     bit 0: byte order (1 = big); bits 1-3: pool chunk size;
//              bit 4: max payload scaled by 16
//   bytes 1-2  max payload (little-endian, times 16 with bit 4: up to ~1 MiB)
//   bytes 3-6  four read sizes (byte + 1), used in turn
//   rest       the byte stream a peer sends
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "ring_buffer.h"

namespace {

using uvframe::ByteOrder;
using uvframe::DecodeResult;
using uvframe::kFrameHeaderBytes;

constexpr std::size_t kParamBytes = 7;
constexpr std::size_t kChunkSizes[8] = {4, 16, 64, 256, 1024, 4096, 8192, 65536};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Params {
  ByteOrder order;
  std::size_t chunkBytes;
  std::uint32_t maxPayloadBytes;
  std::size_t readSizes[4];
};

Params parseParams(const std::uint8_t* data) {
  Params p{};
  p.order = (data[0] & 1) != 0 ? ByteOrder::kBig : ByteOrder::kLittle;
  p.chunkBytes = kChunkSizes[(data[0] >> 1) & 7];
  p.maxPayloadBytes = static_cast<std::uint32_t>(data[1] | data[2] << 8);
  if ((data[0] & 0x10) != 0) p.maxPayloadBytes *= 16;
  for (std::size_t i = 0; i < 4; ++i)
    p.readSizes[i] = std::size_t{data[3 + i]} + 1;
  return p;
}

// The reference: frames as (offset, length) in the stream, the announced
// length that was too large (if any), and the bytes consumed by whole frames.
struct Model {
  std::vector<std::pair<std::size_t, std::size_t>> frames;
  std::optional<std::uint32_t> tooLarge;
  std::size_t consumed = 0;
};

Model parseWhole(std::span<const std::byte> stream, const Params& p) {
  Model m;
  std::size_t pos = 0;
  while (stream.size() - pos >= kFrameHeaderBytes) {
    std::uint32_t len = uvframe::decodeLength(stream.data() + pos, p.order);
    if (len > p.maxPayloadBytes) {
      m.tooLarge = len;
      break;
    }
    if (stream.size() - pos - kFrameHeaderBytes < len) break;
    m.frames.emplace_back(pos + kFrameHeaderBytes, len);
    pos += kFrameHeaderBytes + len;
  }
  m.consumed = pos;
  return m;
}

void run(std::span<const std::byte> stream, const Params& p) {
  const Model model = parseWhole(stream, p);
  uvframe::BufferPool pool(p.chunkBytes, 0, 4);
  uvframe::FrameDecoder decoder(p.order, p.maxPayloadBytes);
  std::size_t fed = 0, consumed = 0, frameIndex = 0, nextFrameBytes = 0, reads = 0;
  bool tooLarge = false;
  {
    uvframe::RingBuffer ring(pool);
    while (fed < stream.size() && !tooLarge) {
      std::span<std::byte> room = ring.prepareWrite(nextFrameBytes);
      check(!room.empty());  // no budget: there must always be room
      std::size_t n = std::min({room.size(), p.readSizes[reads++ % 4], stream.size() - fed});
      std::memcpy(room.data(), stream.data() + fed, n);
      ring.commit(n);
      fed += n;
      // The ring holds exactly the bytes received and not consumed yet.
      std::span<const std::byte> held = ring.readable();
      check(held.size() == fed - consumed);
      check(std::memcmp(held.data(), stream.data() + consumed, held.size()) == 0);
      while (true) {
        DecodeResult r = decoder.decode(ring.readable());
        if (r.status == DecodeResult::Status::kFrame) {
          check(frameIndex < model.frames.size());
          auto [offset, length] = model.frames[frameIndex++];
          check(offset == consumed + kFrameHeaderBytes && length == r.payload.size());
          check(r.consumedBytes == kFrameHeaderBytes + length);
          check(std::memcmp(r.payload.data(), stream.data() + offset, length) == 0);
          ring.consume(r.consumedBytes);
          consumed += r.consumedBytes;
          nextFrameBytes = 0;
          continue;
        }
        if (r.status == DecodeResult::Status::kTooLarge) {
          check(model.tooLarge && *model.tooLarge == r.payloadBytes);
          check(frameIndex == model.frames.size() && consumed == model.consumed);
          tooLarge = true;
        } else {
          std::size_t have = ring.readableBytes();
          std::size_t expected =
              have < kFrameHeaderBytes
                  ? 0
                  : kFrameHeaderBytes + uvframe::decodeLength(ring.readable().data(), p.order);
          check(r.frameBytes == expected && have < std::max(expected, kFrameHeaderBytes));
          nextFrameBytes = r.frameBytes;
        }
        break;
      }
      ring.releaseIfEmpty();
      check(ring.empty() == !ring.hasStorage());
    }
    check(frameIndex == model.frames.size());
    check(tooLarge == model.tooLarge.has_value());
    if (!tooLarge) {
      check(consumed == model.consumed);
      check(ring.readableBytes() == stream.size() - consumed);
    }
    check(pool.bytesLent() == ring.capacity());
  }
  check(pool.bytesLent() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kParamBytes) return 0;
  const Params p = parseParams(data);
  run(std::as_bytes(std::span(data + kParamBytes, size - kParamBytes)), p);
  return 0;
}
