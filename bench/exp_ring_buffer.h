// Experiment (not used by the product): common/ring_buffer's RingBuffer with
// two possible changes:
//   kGrowFrames    for frames bigger than a pool chunk, the grown block holds
//                  kGrowFrames frames instead of one
//                  (bit_ceil(kGrowFrames * frameBytes)); 1 = as today
//   kAlignWrite    compaction moves the partial frame to an offset that makes
//                  the write position (where recv copies to) a multiple of 64;
//                  a misaligned destination makes memcpy about 7 % slower
//                  here, and the kernel's copy to user space is the same kind
//                  of copy
//
// With 64 KiB frames, 64 KiB reads and a 128 KiB block (today), the block has
// room for one frame and the start of the next, so after almost every frame
// the partial next frame is moved to the front: bench_codec measures half a
// byte moved per byte read. With room for four frames, compaction happens
// about every third frame. bench_codec runs this copy beside the real ring.
#pragma once

#include <bit>
#include <cstring>
#include <span>

#include "buffer_pool.h"

namespace uvframe::bench {

template <std::size_t kGrowFrames, bool kAlignWrite = false>
class ExpRingBuffer {
 public:
  static constexpr std::size_t kMinReadBytes = 4096;
  explicit ExpRingBuffer(BufferPool& pool) : pool_(&pool) {}
  ~ExpRingBuffer() { releaseStorage(); }

  std::span<std::byte> prepareWrite(std::size_t frameBytes = 0) {
    if (!block_) {
      block_ = pool_->acquire(frameBytes);
      readIndex_ = writeIndex_ = 0;
      if (!block_) return {};
    }
    if (frameBytes > block_.capacity) {
      // The only change: room for kGrowFrames frames, not one.
      if (!grow(std::bit_ceil(frameBytes * kGrowFrames))) return {};
    }
    std::size_t tail = block_.capacity - writeIndex_;
    bool frameDoesNotFit = readIndex_ + frameBytes > block_.capacity;
    if (readIndex_ > 0 && (frameDoesNotFit || tail < kMinReadBytes)) compact();
    return {block_.data + writeIndex_, block_.capacity - writeIndex_};
  }
  void commit(std::size_t n) { writeIndex_ += n; }
  std::span<const std::byte> readable() const {
    return {block_.data + readIndex_, writeIndex_ - readIndex_};
  }
  void consume(std::size_t n) {
    readIndex_ += n;
    if (readIndex_ == writeIndex_) readIndex_ = writeIndex_ = 0;
  }
  bool empty() const { return readIndex_ == writeIndex_; }
  void releaseIfEmpty() {
    if (empty()) releaseStorage();
  }
  void releaseStorage() {
    if (block_) pool_->release(block_);
    block_ = {};
    readIndex_ = writeIndex_ = 0;
  }
  std::size_t bytesMoved() const { return bytesMoved_; }

 private:
  void compact() {
    std::size_t n = writeIndex_ - readIndex_;
    // Pad the front so that readIndex_ + n is a multiple of 64 (the block
    // itself is 64-byte aligned, from operator new of >= 64 KiB).
    std::size_t pad = kAlignWrite ? (64 - n % 64) % 64 : 0;
    if (pad >= readIndex_) pad = 0;  // no room to move backwards by that much
    if (n > 0) std::memmove(block_.data + pad, block_.data + readIndex_, n);
    bytesMoved_ += n;
    readIndex_ = pad;
    writeIndex_ = pad + n;
  }
  bool grow(std::size_t minCapacity) {
    BufferBlock bigger = pool_->acquire(minCapacity);
    if (!bigger) return false;
    std::size_t n = writeIndex_ - readIndex_;
    if (n > 0) std::memcpy(bigger.data, block_.data + readIndex_, n);
    bytesMoved_ += n;
    pool_->release(block_);
    block_ = bigger;
    readIndex_ = 0;
    writeIndex_ = n;
    return true;
  }

  BufferPool* pool_;
  BufferBlock block_;
  std::size_t readIndex_ = 0;
  std::size_t writeIndex_ = 0;
  std::size_t bytesMoved_ = 0;
};

}  // namespace uvframe::bench
