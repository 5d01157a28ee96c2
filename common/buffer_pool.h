// BufferPool: a worker's input memory — the storage lent to its connections
// for receiving, the queued echo bytes charged to them, and the one rule that
// bounds it all (--max-input-memory, split across workers). Every other class
// asks this one; none decides on its own who may hold what.
//
// Why hand-written: the server must hold no read buffer for an idle
// connection (a 64 KiB buffer for each of 10,000 quiet peers would be 640 MiB),
// yet must not allocate per read either. A connection borrows a chunk when
// bytes arrive and returns it as soon as its ring is empty, so the number of
// chunks in use tracks the number of peers with a partial frame, not the
// number of peers. Standard chunks are recycled through a free list; the rare
// larger block (a frame bigger than one chunk, kept whole for --echo) comes
// from the heap and goes back to it. A partial frame of a few bytes left at
// the end of a read is parked in a small block (256 B or 4 KiB, recycled too)
// so its chunk can go back at once.
//
// THE MEMORY RULE (SPEC "What the server promises under faults and abuse"):
//  1. Everything held for a peer counts against the budget: its receive block
//     (chunk, grown block, parked tail) and its queued echo copies.
//  2. A peer asks before it reads (acquire). A chunk is granted while the
//     chunks, tails and echoes of all peers fit the budget less the growth
//     reserve. Growing past a chunk (a frame larger than a chunk, kept whole
//     for --echo) needs the growth token: one peer per worker at a time holds
//     a block larger than a chunk, inside the reserve, which is one largest
//     frame. So whatever the chunk holders do, one frame can always be
//     completed, and honest large frames take turns instead of all stalling
//     with a chunk each. A released token goes to the oldest peer waiting
//     for it (takeWakeable promises it; nobody else may take it meanwhile).
//  3. Moving to a smaller block (parking a tail, shrinking a grown block) and
//     charging echo bytes of frames already logged are always granted: the
//     first is a net release (a token holder's smaller block stays on the
//     token's side when the chunks' share has no room, so the budget holds),
//     the second cannot be refused without losing a frame (the peer stops
//     being read past --echo-high-water instead; the overdraft blocks new
//     chunks until the peer reads).
//  4. A refused peer stops reading and waits in line (wait()); while anyone
//     waits, every peer that finishes a read gives back what it does not need
//     and queues behind them (hasWaiters()), so the peers holding the most
//     stop first and nobody keeps memory others are waiting for.
//  5. Every release wakes as many waiters, oldest first, as the free budget
//     covers (takeWakeable()), not just one.
//  6. A waiting peer stays subject to its frame timeout (Connection): a set of
//     peers that hold partial frames the budget cannot complete is broken up
//     by their timeouts, so no worker wedges and a new or idle peer is never
//     starved for good.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace uvframe {

/// One contiguous piece of storage lent by a BufferPool.
struct BufferBlock {
  std::byte* data = nullptr;
  std::size_t capacity = 0;
  bool token = false;  ///< counted on the growth token's side of the budget (rule 2)
  explicit operator bool() const { return data != nullptr; }
};

/// Lends receive storage to the connections of one worker and applies the
/// memory rule above. Not thread-safe: only the worker's loop thread may call
/// it.
class BufferPool {
 public:
  /// chunkBytes: size of a standard chunk; budgetBytes: most bytes held at
  /// once (0 = unlimited); maxCachedChunks: free chunks kept for reuse.
  BufferPool(std::size_t chunkBytes, std::size_t budgetBytes, std::size_t maxCachedChunks = 64);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// Bytes of the budget that chunk-sized asks may not take (rule 2); set it
  /// to the largest block a whole frame can need when frames are kept whole.
  void setGrowthReserve(std::size_t bytes) { growthReserveBytes_ = bytes; }

  /// A block of at least minBytes (a standard chunk when minBytes fits one),
  /// or an empty block when the rule refuses it (lastRefusedBytes() says how
  /// much was asked). heldBytes: the block the caller gives back once it has
  /// the new one (a token holder growing again keeps the token); ownerId: who
  /// asks (the token may be promised to someone else).
  /// heldIsToken: the caller's block is a token block of any size.
  BufferBlock acquire(std::size_t minBytes, std::size_t heldBytes = 0, std::uint64_t ownerId = 0,
                      bool heldIsToken = false);
  /// Sizes of the small blocks that hold a parked partial frame, each
  /// recycled through a free list of its own. kSmallBlockBytes is the
  /// largest: the server parks the tail of a read only up to that size.
  static constexpr std::size_t kSmallClassBytes[] = {256, 4096};
  static constexpr std::size_t kSmallBlockBytes = 4096;

  /// A block to move a partial frame of `bytes` into, replacing a bigger one
  /// (rule 3: never refused for the budget): a recycled small block of the
  /// smallest class that fits, a chunk, or bytes rounded up to 64 from the
  /// heap. Empty only when the heap itself fails.
  /// replacingToken: the block given back is the token's; when the chunks'
  /// share has no room for the new block, it stays on the token's side (its
  /// holder keeps the token in the smaller block), so the budget holds.
  BufferBlock acquireSmaller(std::size_t bytes, bool replacingToken = false);
  /// Gives a block back; it may be cached for the next acquire().
  void release(BufferBlock block);

  /// Echo bytes copied for a peer (rule 3) and their release once written.
  void chargeEcho(std::size_t bytes) { echoBytes_ += bytes; }
  void releaseEcho(std::size_t bytes) { echoBytes_ -= bytes; }

  /// Rule 4: id stops reading until takeWakeable() returns it. Asked: the
  /// bytes it asked for (lastRefusedBytes() right after the refusal).
  void wait(std::uint64_t id, std::size_t askedBytes);
  bool hasWaiters() const { return !waiters_.empty(); }
  std::size_t waiterCount() const { return waiters_.size(); }
  /// Rule 5: the waiters, oldest first, whose asks the free budget covers now
  /// (each counted once); they retry their reads. stillWaiting(id) false
  /// drops a waiter that is gone or no longer waits.
  std::vector<std::uint64_t> takeWakeable(const std::function<bool(std::uint64_t)>& stillWaiting);
  /// A token promised to a waiter that has not taken it within two calls
  /// (the worker calls this every tick) is free again.
  void expireTokenPromise();
  /// Blocks larger than a chunk lent now (0 or 1, 2 while one grows).
  std::size_t tokenBlocks() const { return tokenBlocks_; }

  std::size_t chunkBytes() const { return chunkBytes_; }
  std::size_t budgetBytes() const { return budgetBytes_; }
  std::size_t growthReserveBytes() const { return growthReserveBytes_; }
  /// Receive storage lent out (blocks only).
  std::size_t bytesLent() const { return bytesLent_; }
  /// Everything the rule counts: blocks lent plus queued echo bytes.
  std::size_t bytesHeld() const { return bytesLent_ + echoBytes_; }
  std::size_t echoBytes() const { return echoBytes_; }
  std::size_t lastRefusedBytes() const { return lastRefusedBytes_; }
  std::size_t cachedChunks() const { return freeChunks_.size(); }
  /// Blocks taken from the heap (not from the cache) since construction.
  std::size_t heapAllocations() const { return heapAllocations_; }

 private:
  /// Whether the rule grants a new chunk-or-smaller block of size bytes
  /// (rule 2) on top of promisedBytes already promised to woken waiters.
  bool fits(std::size_t size, std::size_t promisedBytes = 0) const;
  /// Whether a token block of size bytes fits (rule 2).
  bool fitsToken(std::size_t size) const;
  /// Whether ownerId may take the growth token (rule 2).
  bool tokenFree(bool holdsToken, std::uint64_t ownerId) const;
  /// A block of exactly size bytes from the caches or the heap (no rule).
  BufferBlock take(std::size_t size, bool token);

  struct Waiter {
    std::uint64_t id;
    std::size_t askedBytes;
  };

  std::size_t chunkBytes_;
  std::size_t budgetBytes_;
  std::size_t maxCachedChunks_;
  std::size_t growthReserveBytes_ = 0;
  std::size_t bytesLent_ = 0;
  std::size_t echoBytes_ = 0;
  std::size_t lastRefusedBytes_ = 0;
  std::size_t heapAllocations_ = 0;
  std::size_t tokenBlocks_ = 0;        ///< blocks larger than a chunk lent
  std::size_t tokenBytes_ = 0;         ///< their bytes (inside the reserve)
  std::uint64_t tokenPromisedTo_ = 0;  ///< a woken waiter (0: nobody)
  unsigned tokenPromiseAge_ = 0;
  std::vector<std::byte*> freeChunks_;
  std::vector<std::byte*> freeSmall_[2];  ///< one list per kSmallClassBytes entry
  std::deque<Waiter> waiters_;
  static constexpr std::size_t kMaxCachedSmallBytes = std::size_t{4} << 20;
};

}  // namespace uvframe
