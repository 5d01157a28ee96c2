// TlsByteQueue and its BIO: where a TlsSession keeps ciphertext between the
// network and OpenSSL (see tls_session.h).
//
// Why not BIO_s_mem: a memory BIO zero-fills every byte it is written before
// copying it in (BUF_MEM_grow_clean), grows by realloc with OPENSSL_cleanse
// of the old block, moves what is left to the front before every write and
// cleanses its whole capacity when freed. With frames of 1 KiB that was a
// third of the load generator's CPU (memmove and OPENSSL_cleanse in perf),
// more than AES-GCM itself. A TlsByteQueue is one block with a read offset:
// a write is one memcpy, a read is one memcpy and an offset, taking what is
// pending in place costs nothing, and the bytes move to the front only when
// the block would otherwise have to grow; prepare()/commit() let a socket
// read land in the queue directly. Ciphertext is not secret, so no
// cleansing is needed; the block comes from OPENSSL_malloc so OpenSSL's
// memory accounting (tls_session_test's IdleSessionMemory) still sees it.
//
// newQueueBio(queue) is a source/sink BIO over one queue: BIO_write appends,
// BIO_read takes from the front and says "retry" when the queue is empty
// (never EOF: the caller decides when the stream ends), BIO_ctrl_pending is
// the queue's size. The BIO does not own the queue; the queue must outlive it.
#pragma once

#include <cstddef>
#include <span>

typedef struct bio_st BIO;

namespace uvframe {

class TlsByteQueue {
 public:
  TlsByteQueue() = default;
  ~TlsByteQueue();
  TlsByteQueue(const TlsByteQueue&) = delete;
  TlsByteQueue& operator=(const TlsByteQueue&) = delete;

  /// Appends bytes; false if the block could not grow (out of memory).
  bool append(const void* bytes, std::size_t n);
  /// Room for n more bytes at the back (empty if out of memory), for a
  /// caller that writes there itself (a socket read) and then commit()s.
  std::span<std::byte> prepare(std::size_t n);
  /// Appends the first n bytes of the room prepare() gave.
  void commit(std::size_t n) { end_ += n; }
  /// Copies up to n bytes from the front into `into` and drops them.
  std::size_t read(void* into, std::size_t n);
  /// What is queued, in place: valid until the next append or release.
  std::span<const std::byte> front() const { return {data_ + begin_, end_ - begin_}; }
  /// Drops the first n bytes (at most size()).
  void drop(std::size_t n);
  /// Drops everything (keeps the block).
  void clear() { begin_ = end_ = 0; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::size_t capacity() const { return capacity_; }
  /// Frees the block if the queue is empty; true if nothing is held now.
  bool release();

 private:
  std::byte* data_ = nullptr;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t capacity_ = 0;
};

/// A BIO over queue (not owned); nullptr if out of memory.
BIO* newQueueBio(TlsByteQueue& queue);

}  // namespace uvframe
