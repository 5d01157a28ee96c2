// BufferPool: per-worker cache of receive-buffer storage, with a byte budget.
//
// Why hand-written: the server must hold no read buffer for an idle
// connection (a 64 KiB buffer for each of 10,000 quiet peers would be 640 MiB),
// yet must not allocate per read either. A connection borrows a chunk when
// bytes arrive and returns it as soon as its ring is empty, so the number of
// chunks in use tracks the number of peers with a partial frame, not the
// number of peers. Standard chunks are recycled through a free list; the rare
// larger block (a frame bigger than one chunk, kept whole for --echo) comes
// from the heap and goes back to it.
//
// A partial frame of a few bytes left at the end of a read is parked in a
// small block (256 B or 4 KiB, recycled too) so its chunk can go back at once:
// under load, every connection ends most reads mid-frame, and 10,000 of them
// would otherwise hold 640 MiB of chunks for a few dozen bytes each.
//
// The budget (--max-input-memory, split across workers) caps the bytes lent
// out at once. When it is spent, acquire() fails and the connection stops
// reading until some other connection returns its storage.
#pragma once

#include <cstddef>
#include <vector>

namespace uvframe {

/// One contiguous piece of storage lent by a BufferPool.
struct BufferBlock {
  std::byte* data = nullptr;
  std::size_t capacity = 0;
  explicit operator bool() const { return data != nullptr; }
};

/// Lends receive storage to the connections of one worker. Not thread-safe:
/// only the worker's loop thread may call it.
class BufferPool {
 public:
  /// chunkBytes: size of a standard chunk; budgetBytes: most bytes lent out at
  /// once (0 = unlimited); maxCachedChunks: free chunks kept for reuse.
  BufferPool(std::size_t chunkBytes, std::size_t budgetBytes, std::size_t maxCachedChunks = 64);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// A block of at least minBytes (a standard chunk when minBytes fits one),
  /// or an empty block when the budget cannot cover it.
  BufferBlock acquire(std::size_t minBytes);
  /// Sizes of the small blocks that hold a parked partial frame, each
  /// recycled through a free list of its own. kSmallBlockBytes is the
  /// largest: the server parks the tail of a read only up to that size.
  static constexpr std::size_t kSmallClassBytes[] = {256, 4096};
  static constexpr std::size_t kSmallBlockBytes = 4096;

  /// A block for parking a partial frame of bytes: a recycled small block of
  /// the smallest class that fits, else exactly bytes rounded up to 64, from
  /// the heap. Empty when the budget cannot cover it.
  BufferBlock acquireSmall(std::size_t bytes);
  /// Gives a block back; it may be cached for the next acquire().
  void release(BufferBlock block);

  std::size_t chunkBytes() const { return chunkBytes_; }
  std::size_t budgetBytes() const { return budgetBytes_; }
  std::size_t bytesLent() const { return bytesLent_; }
  std::size_t cachedChunks() const { return freeChunks_.size(); }
  /// Blocks taken from the heap (not from the cache) since construction.
  std::size_t heapAllocations() const { return heapAllocations_; }

 private:
  std::size_t chunkBytes_;
  std::size_t budgetBytes_;
  std::size_t maxCachedChunks_;
  std::size_t bytesLent_ = 0;
  std::size_t heapAllocations_ = 0;
  std::vector<std::byte*> freeChunks_;
  std::vector<std::byte*> freeSmall_[2];  ///< one list per kSmallClassBytes entry
  static constexpr std::size_t kMaxCachedSmallBytes = std::size_t{4} << 20;
};

}  // namespace uvframe
