// Experiment (not used by the product): FrameDecoder::decode with the length
// read inline. common/frame_codec.cpp's decodeLength() is an out-of-line call
// per frame that assembles the length byte by byte; here it is one 4-byte
// load (memcpy) plus a byte swap for big-endian streams, visible to the
// compiler at the call site. bench_codec runs it beside the real decoder; if
// it wins, decodeLength belongs in frame_codec.h as an inline function.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "frame_codec.h"

namespace uvframe::bench {

inline std::uint32_t expDecodeLength(const std::byte* header, ByteOrder order) {
  std::uint32_t v;
  std::memcpy(&v, header, sizeof v);
  bool swap = (order == ByteOrder::kLittle) != (std::endian::native == std::endian::little);
  return swap ? __builtin_bswap32(v) : v;
}

class ExpFrameDecoder {
 public:
  explicit ExpFrameDecoder(ByteOrder order = ByteOrder::kLittle,
                           std::uint32_t maxPayloadBytes = kDefaultMaxFrameBytes)
      : order_(order), maxPayloadBytes_(maxPayloadBytes) {}

  DecodeResult decode(std::span<const std::byte> input) const {
    DecodeResult r;
    if (input.size() < kFrameHeaderBytes) return r;
    r.payloadBytes = expDecodeLength(input.data(), order_);
    if (r.payloadBytes > maxPayloadBytes_) {
      r.status = DecodeResult::Status::kTooLarge;
      return r;
    }
    std::size_t total = kFrameHeaderBytes + r.payloadBytes;
    if (input.size() < total) {
      r.frameBytes = total;
      return r;
    }
    r.status = DecodeResult::Status::kFrame;
    r.payload = input.subspan(kFrameHeaderBytes, r.payloadBytes);
    r.consumedBytes = total;
    return r;
  }

 private:
  ByteOrder order_;
  std::uint32_t maxPayloadBytes_;
};

}  // namespace uvframe::bench
