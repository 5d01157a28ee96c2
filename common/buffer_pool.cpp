// BufferPool: see buffer_pool.h.
#include "buffer_pool.h"

#include <bit>
#include <new>

namespace uvframe {

BufferPool::BufferPool(std::size_t chunkBytes, std::size_t budgetBytes, std::size_t maxCachedChunks)
    : chunkBytes_(chunkBytes), budgetBytes_(budgetBytes), maxCachedChunks_(maxCachedChunks) {
  freeChunks_.reserve(maxCachedChunks_);
}

BufferPool::~BufferPool() {
  for (std::byte* chunk : freeChunks_) {
    ::operator delete(chunk);
  }
}

BufferBlock BufferPool::acquire(std::size_t minBytes) {
  // Larger blocks are rounded up to a power of two so a peer whose frames
  // grow a little at a time does not reallocate at every step.
  std::size_t size = minBytes <= chunkBytes_ ? chunkBytes_ : std::bit_ceil(minBytes);
  if (budgetBytes_ != 0 && bytesLent_ + size > budgetBytes_) {
    return {};
  }
  std::byte* data = nullptr;
  if (size == chunkBytes_ && !freeChunks_.empty()) {
    data = freeChunks_.back();
    freeChunks_.pop_back();
  } else {
    data = static_cast<std::byte*>(::operator new(size, std::nothrow));
    if (data == nullptr) {
      return {};
    }
    ++heapAllocations_;
  }
  bytesLent_ += size;
  return {data, size};
}

void BufferPool::release(BufferBlock block) {
  if (!block) {
    return;
  }
  bytesLent_ -= block.capacity;
  if (block.capacity == chunkBytes_ && freeChunks_.size() < maxCachedChunks_) {
    freeChunks_.push_back(block.data);
  } else {
    ::operator delete(block.data);
  }
}

}  // namespace uvframe
