// RingBuffer: see ring_buffer.h for the layout and why it compacts.
#include "ring_buffer.h"

#include <algorithm>
#include <cstring>

namespace uvframe {

std::span<std::byte> RingBuffer::prepareWrite(std::size_t frameBytes) {
  if (!block_) {
    block_ = pool_->acquire(frameBytes, 0, ownerId_);
    readIndex_ = writeIndex_ = 0;
    if (!block_) return {};
  }
  if (block_.capacity < pool_->chunkBytes()) {
    // A parked ring: its peer is sending again, so give it a full chunk (or
    // more). If the budget says no, the small block's own room still serves.
    if (!grow(std::max(frameBytes, pool_->chunkBytes())) &&
        (frameBytes > block_.capacity || writeIndex_ == block_.capacity)) {
      return {};
    }
  } else if (frameBytes > block_.capacity) {
    if (!grow(frameBytes)) return {};
  }
  // Compact when the current frame would run past the end of the block, or
  // when the free tail is too short to be worth a read of its own.
  std::size_t tail = block_.capacity - writeIndex_;
  bool frameDoesNotFit = readIndex_ + frameBytes > block_.capacity;
  if (readIndex_ > 0 && (frameDoesNotFit || tail < kMinReadBytes)) {
    compact();
  }
  return {block_.data + writeIndex_, std::min(block_.capacity - writeIndex_, pool_->chunkBytes())};
}

void RingBuffer::consume(std::size_t n) {
  readIndex_ += n;
  if (readIndex_ == writeIndex_) {
    // Nothing left: start again at the front for free.
    readIndex_ = writeIndex_ = 0;
  }
}

void RingBuffer::releaseStorage() {
  if (block_) {
    pool_->release(block_);
    block_ = {};
  }
  readIndex_ = writeIndex_ = 0;
}

bool RingBuffer::shrinkToFit(std::size_t maxBytes) {
  std::size_t n = readableBytes();
  if (!block_ || n == 0 || n > maxBytes || block_.capacity < pool_->chunkBytes()) return false;
  BufferBlock small = pool_->acquireSmaller(n, block_.token);
  if (!small) return false;
  if (small.capacity >= block_.capacity) {
    pool_->release(small);  // nothing to gain
    return false;
  }
  moveInto(small);
  return true;
}

bool RingBuffer::giveBackSurplus() {
  if (!block_) return false;
  if (empty()) {
    releaseStorage();
    return true;
  }
  std::size_t n = readableBytes();
  if (n <= BufferPool::kSmallBlockBytes) return shrinkToFit(BufferPool::kSmallBlockBytes);
  if (block_.capacity <= pool_->chunkBytes() || n > pool_->chunkBytes()) return false;
  BufferBlock chunk = pool_->acquireSmaller(n, block_.token);
  if (!chunk) return false;
  moveInto(chunk);
  return true;
}

void RingBuffer::compact() {
  std::size_t n = writeIndex_ - readIndex_;
  if (n > 0) {
    std::memmove(block_.data, block_.data + readIndex_, n);
    bytesMoved_ += n;
  }
  readIndex_ = 0;
  writeIndex_ = n;
}

bool RingBuffer::grow(std::size_t minCapacity) {
  BufferBlock bigger = pool_->acquire(minCapacity, block_.capacity, ownerId_, block_.token);
  if (!bigger) return false;
  moveInto(bigger);
  return true;
}

void RingBuffer::moveInto(BufferBlock other) {
  std::size_t n = writeIndex_ - readIndex_;
  if (n > 0) {
    std::memcpy(other.data, block_.data + readIndex_, n);
    bytesMoved_ += n;
  }
  pool_->release(block_);
  block_ = other;
  readIndex_ = 0;
  writeIndex_ = n;
}

}  // namespace uvframe
