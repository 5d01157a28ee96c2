// BufferPool: see buffer_pool.h for the memory rule.
#include "buffer_pool.h"

#include <new>

namespace uvframe {
namespace {

// Index of the small class of exactly this size, or -1.
int smallClassOf(std::size_t size) {
  for (int i = 0; i < 2; ++i) {
    if (BufferPool::kSmallClassBytes[i] == size) return i;
  }
  return -1;
}

}  // namespace

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

bool BufferPool::fits(std::size_t size, std::size_t promisedBytes) const {
  if (budgetBytes_ == 0) return true;
  // Chunks, tails and echoes leave the growth reserve to the token holder.
  std::size_t limit = budgetBytes_ > growthReserveBytes_ ? budgetBytes_ - growthReserveBytes_ : 0;
  return bytesHeld() - tokenBytes_ + promisedBytes + size <= limit;
}

bool BufferPool::fitsToken(std::size_t size) const {
  // The reserve is the token holder's alone; a block larger than the reserve
  // must also fit beside everything else.
  return budgetBytes_ == 0 || size <= growthReserveBytes_ ||
         bytesHeld() - tokenBytes_ + size <= budgetBytes_;
}

bool BufferPool::tokenFree(bool holdsToken, std::uint64_t ownerId) const {
  if (budgetBytes_ == 0) return true;
  // The holder growing again gives its old token block back right after.
  std::size_t others = tokenBlocks_ - (holdsToken && tokenBlocks_ > 0 ? 1 : 0);
  if (others > 0) return false;
  return tokenPromisedTo_ == 0 || tokenPromisedTo_ == ownerId;
}

BufferBlock BufferPool::acquire(std::size_t minBytes, std::size_t heldBytes, std::uint64_t ownerId,
                                bool heldIsToken) {
  // Larger blocks are rounded up to whole chunks: a 1 MiB frame then needs
  // 1 MiB and one chunk, not the 2 MiB a power of two would take.
  std::size_t size = minBytes <= chunkBytes_
                         ? chunkBytes_
                         : (minBytes + chunkBytes_ - 1) / chunkBytes_ * chunkBytes_;
  bool granted = size <= chunkBytes_ ? fits(size)
                                     : tokenFree(heldIsToken || heldBytes > chunkBytes_, ownerId) &&
                                           fitsToken(size);
  if (!granted) {
    lastRefusedBytes_ = size;
    return {};
  }
  if (size > chunkBytes_ && tokenPromisedTo_ == ownerId) tokenPromisedTo_ = 0;
  return take(size, size > chunkBytes_);
}

BufferBlock BufferPool::acquireSmaller(std::size_t bytes, bool replacingToken) {
  std::size_t size = (bytes + 63) / 64 * 64;
  for (std::size_t classBytes : kSmallClassBytes) {
    if (bytes <= classBytes) {
      size = classBytes;
      break;
    }
  }
  if (size > kSmallBlockBytes && size <= chunkBytes_) size = chunkBytes_;
  // Leaving the token's block must not push the chunks' share past its
  // limit: without room there, the smaller block stays the token's.
  bool token = replacingToken && budgetBytes_ != 0 && (size > chunkBytes_ || !fits(size));
  return take(size, token);
}

BufferBlock BufferPool::take(std::size_t size, bool token) {
  std::byte* data = nullptr;
  std::vector<std::byte*>* cache = nullptr;
  if (size == chunkBytes_) {
    cache = &freeChunks_;
  } else if (int cls = smallClassOf(size); cls >= 0) {
    cache = &freeSmall_[cls];
  }
  if (cache != nullptr && !cache->empty()) {
    data = cache->back();
    cache->pop_back();
  } else {
    data = static_cast<std::byte*>(::operator new(size, std::nothrow));
    if (data == nullptr) return {};
    ++heapAllocations_;
  }
  bytesLent_ += size;
  if (token) {
    ++tokenBlocks_;
    tokenBytes_ += size;
  }
  return {data, size, token};
}

void BufferPool::release(BufferBlock block) {
  if (!block) {
    return;
  }
  bytesLent_ -= block.capacity;
  if (block.token) {
    --tokenBlocks_;
    tokenBytes_ -= block.capacity;
  }
  if (block.capacity == chunkBytes_ && freeChunks_.size() < maxCachedChunks_) {
    freeChunks_.push_back(block.data);
  } else if (int cls = smallClassOf(block.capacity);
             cls >= 0 && freeSmall_[cls].size() * block.capacity < kMaxCachedSmallBytes) {
    freeSmall_[cls].push_back(block.data);
  } else {
    ::operator delete(block.data);
  }
}

void BufferPool::wait(std::uint64_t id, std::size_t askedBytes) {
  waiters_.push_back({id, askedBytes});
}

std::vector<std::uint64_t> BufferPool::takeWakeable(
    const std::function<bool(std::uint64_t)>& stillWaiting) {
  std::vector<std::uint64_t> woken;
  // Count each woken ask as taken, so one release does not wake more peers
  // than it can serve; a woken peer that still finds no room (someone else
  // took it first) simply waits again. Oldest first; a peer waiting for the
  // token does not hold up those waiting for a chunk behind it.
  constexpr std::size_t kMaxScanned = 256;
  std::size_t promised = 0;
  std::size_t scanned = 0;
  for (auto it = waiters_.begin(); it != waiters_.end() && scanned < kMaxScanned;) {
    ++scanned;
    if (!stillWaiting(it->id)) {
      it = waiters_.erase(it);
      continue;
    }
    bool wake = false;
    if (it->askedBytes > chunkBytes_) {
      wake = tokenFree(false, it->id) && fitsToken(it->askedBytes);
      if (wake && budgetBytes_ != 0) {
        tokenPromisedTo_ = it->id;
        tokenPromiseAge_ = 0;
      }
    } else {
      wake = fits(it->askedBytes, promised);
      if (wake) promised += it->askedBytes;
    }
    if (!wake) {
      ++it;
      continue;
    }
    woken.push_back(it->id);
    it = waiters_.erase(it);
  }
  return woken;
}

void BufferPool::expireTokenPromise() {
  if (tokenPromisedTo_ != 0 && ++tokenPromiseAge_ >= 2) tokenPromisedTo_ = 0;
}

}  // namespace uvframe
