// RingBuffer: one connection's receive buffer, filled in place by the socket
// read and parsed in place by the frame decoder.
//
// Layout of the borrowed block (muduo's Buffer draws the same picture):
//
//   +-------------------+------------------+------------------+
//   |  consumed bytes   |  readable bytes  |  writable bytes  |
//   |  (free again)     |  (partial frame) |  (next read)     |
//   +-------------------+------------------+------------------+
//   0          <=     readIndex   <=   writeIndex    <=    capacity
//
// Why a compacting ring and not a wrapping or double-mapped one: the decoder
// and the log formatter want every frame as one contiguous span, with no copy.
// A wrapping ring breaks frames at its end; a double-mapped ("mirrored") ring
// keeps them whole but needs page-sized, memfd-backed, twice-mapped storage
// per connection (Linux-only, two mmap calls per block, 8 KiB minimum), which
// fights the per-worker pool that lets idle peers hold no buffer at all.
// Here the readable region is always contiguous; when the free tail gets too
// short for the next read, the readable bytes move to the front. After each
// read the server parses every complete frame, so what moves is only the
// partial frame at the tail: at most one frame per buffer fill, never a copy
// per frame. bench_codec measures the moved bytes against the bytes read.
//
// The ring borrows its block from a BufferPool only while it holds bytes and
// gives it back as soon as it is empty (releaseIfEmpty), so an idle
// connection costs the size of this object and nothing more. A peer that
// stalls mid-frame is parked (shrinkToFit) into a block of its own size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "buffer_pool.h"

namespace uvframe {

/// Receive buffer of one connection. Owns the block it borrowed from its
/// BufferPool; used only on the pool's thread.
class RingBuffer {
 public:
  /// Reads smaller than this invite a compaction first, so one read does not
  /// turn into many small ones at the end of the block.
  static constexpr std::size_t kMinReadBytes = 4096;

  explicit RingBuffer(BufferPool& pool) : pool_(&pool) {}
  ~RingBuffer() { releaseStorage(); }
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  /// Makes room for a frame of frameBytes (header included) starting at the
  /// read position, borrowing, compacting or growing the block as needed, and
  /// returns the writable span: at most one chunk, so a read into a grown
  /// block is no bigger than any other read (fair turns, and what is left
  /// after a frame always fits back in a chunk). frameBytes = 0 means "no
  /// frame size known yet". Returns an empty span when the pool refuses.
  std::span<std::byte> prepareWrite(std::size_t frameBytes = 0);
  /// Marks n bytes of the span from prepareWrite() as received.
  void commit(std::size_t n) { writeIndex_ += n; }

  std::span<const std::byte> readable() const {
    return {block_.data + readIndex_, writeIndex_ - readIndex_};
  }
  /// Drops n bytes from the front of the readable region.
  void consume(std::size_t n);
  /// Drops the last n readable bytes (used to discard bytes in place).
  void unwrite(std::size_t n) { writeIndex_ -= n; }

  bool empty() const { return readIndex_ == writeIndex_; }
  std::size_t readableBytes() const { return writeIndex_ - readIndex_; }
  bool hasStorage() const { return static_cast<bool>(block_); }
  std::size_t capacity() const { return block_.capacity; }

  /// Returns the block to the pool when nothing is left to read.
  void releaseIfEmpty() {
    if (empty()) releaseStorage();
  }
  /// Returns the block to the pool, dropping any unread bytes.
  void releaseStorage();
  /// Parks a stalled partial frame: moves the readable bytes (if at most
  /// maxBytes) into a block of their own size and returns the big one, so a
  /// peer that stops mid-frame holds a few bytes instead of a whole chunk.
  /// The next prepareWrite() takes a full chunk again. Returns true if
  /// storage was given back.
  bool shrinkToFit(std::size_t maxBytes);
  /// Gives back whatever the readable bytes do not need: nothing held when
  /// empty, a small block for a short tail, one chunk for what fits in one
  /// (a grown block whose big frame is done). Returns true if storage was
  /// given back.
  bool giveBackSurplus();

  /// Who this ring belongs to, as the pool knows it (its growth token may be
  /// promised to one owner).
  void setOwnerId(std::uint64_t id) { ownerId_ = id; }

  /// Bytes moved by compactions since construction (for benchmarks).
  std::size_t bytesMoved() const { return bytesMoved_; }

 private:
  void compact();
  bool grow(std::size_t minCapacity);
  /// Copies the readable bytes to the start of other (which must hold them),
  /// returns the current block to the pool and takes other in its place.
  void moveInto(BufferBlock other);

  BufferPool* pool_;
  BufferBlock block_;
  std::size_t readIndex_ = 0;
  std::size_t writeIndex_ = 0;
  std::size_t bytesMoved_ = 0;
  std::uint64_t ownerId_ = 0;
};

}  // namespace uvframe
