// BufferPool: see buffer_pool.h.
#include "buffer_pool.h"

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
  for (auto& list : freeSmall_) {
    for (std::byte* small : list)
      ::operator delete(small);
  }
}

BufferBlock BufferPool::acquire(std::size_t minBytes) {
  // Larger blocks are rounded up to whole chunks: a 1 MiB frame then needs
  // 1 MiB and one chunk, not the 2 MiB a power of two would take.
  std::size_t size = minBytes <= chunkBytes_
                         ? chunkBytes_
                         : (minBytes + chunkBytes_ - 1) / chunkBytes_ * chunkBytes_;
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

namespace {

// Index of the small class of exactly this size, or -1.
int smallClassOf(std::size_t size) {
  for (int i = 0; i < 2; ++i) {
    if (BufferPool::kSmallClassBytes[i] == size) return i;
  }
  return -1;
}

}  // namespace

BufferBlock BufferPool::acquireSmall(std::size_t bytes) {
  std::size_t size = (bytes + 63) / 64 * 64;
  for (std::size_t classBytes : kSmallClassBytes) {
    if (bytes <= classBytes) {
      size = classBytes;
      break;
    }
  }
  if (size >= chunkBytes_) return acquire(size);
  if (budgetBytes_ != 0 && bytesLent_ + size > budgetBytes_) return {};
  std::byte* data = nullptr;
  int cls = smallClassOf(size);
  if (cls >= 0 && !freeSmall_[cls].empty()) {
    data = freeSmall_[cls].back();
    freeSmall_[cls].pop_back();
  } else {
    data = static_cast<std::byte*>(::operator new(size, std::nothrow));
    if (data == nullptr) return {};
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
  } else if (int cls = smallClassOf(block.capacity);
             cls >= 0 && freeSmall_[cls].size() * block.capacity < kMaxCachedSmallBytes) {
    freeSmall_[cls].push_back(block.data);
  } else {
    ::operator delete(block.data);
  }
}

}  // namespace uvframe
