// FrameFeeder: drives a RingBuffer and a FrameDecoder exactly the way the
// server's read path does, so tests can push "socket reads" of any size and
// collect the frames that come out.
//
//   prepareWrite(frameBytes or 0) -> copy the read into the span -> commit(n)
//   -> decode/consume while kFrame -> remember frameBytes on kNeedMore
//   -> releaseIfEmpty()
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "ring_buffer.h"

namespace uvframe::test {

/// A stream of frames, encoded with one byte order.
inline std::string encodeFrames(const std::vector<std::string>& payloads, ByteOrder order) {
  std::string wire;
  for (const std::string& p : payloads) {
    auto header = encodeHeader(static_cast<std::uint32_t>(p.size()), order);
    wire.append(reinterpret_cast<const char*>(header.data()), header.size());
    wire.append(p);
  }
  return wire;
}

/// One connection's receive path on a caller-owned pool.
class FrameFeeder {
 public:
  FrameFeeder(BufferPool& pool, FrameDecoder decoder) : ring_(pool), decoder_(decoder) {}

  /// One socket read of bytes. A read larger than the writable span is split
  /// into several reads, as a real socket would deliver it. Returns false if
  /// prepareWrite() gave no room (budget spent); the unread rest is dropped.
  bool read(std::string_view bytes) {
    while (!bytes.empty() && !tooLarge_) {
      std::span<std::byte> room = ring_.prepareWrite(nextFrameBytes_);
      if (room.empty()) return false;
      std::size_t n = std::min(room.size(), bytes.size());
      std::memcpy(room.data(), bytes.data(), n);
      ring_.commit(n);
      bytes.remove_prefix(n);
      parse();
    }
    return true;
  }

  /// Runs read() once per byte.
  void trickle(std::string_view bytes) {
    for (char c : bytes)
      read(std::string_view(&c, 1));
  }

  const std::vector<std::string>& frames() const { return frames_; }
  /// Frames decoded since construction, also those dropped by clearFrames().
  std::size_t frameCount() const { return frameCount_; }
  void clearFrames() { frames_.clear(); }
  /// The announced payload length when the decoder said kTooLarge.
  std::optional<std::uint32_t> tooLarge() const { return tooLarge_; }
  RingBuffer& ring() { return ring_; }
  std::size_t nextFrameBytes() const { return nextFrameBytes_; }

 private:
  void parse() {
    while (true) {
      DecodeResult r = decoder_.decode(ring_.readable());
      if (r.status == DecodeResult::Status::kFrame) {
        frames_.emplace_back(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
        ++frameCount_;
        ring_.consume(r.consumedBytes);
        nextFrameBytes_ = 0;
        continue;
      }
      if (r.status == DecodeResult::Status::kTooLarge) {
        tooLarge_ = r.payloadBytes;
      } else {
        nextFrameBytes_ = r.frameBytes;
      }
      break;
    }
    ring_.releaseIfEmpty();
  }

  RingBuffer ring_;
  FrameDecoder decoder_;
  std::size_t nextFrameBytes_ = 0;
  std::vector<std::string> frames_;
  std::size_t frameCount_ = 0;
  std::optional<std::uint32_t> tooLarge_;
};

}  // namespace uvframe::test
