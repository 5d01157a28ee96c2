// FrameReassembler: one connection's received bytes in, complete frames out,
// in place — the receive ring, the frame decoder and the skimming of frames
// too large to keep, with no socket in sight (unit-tested on byte spans).
//
// A read, as the server drives it:
//
//   prepareRead()  -> span to receive into (empty: the memory rule refused)
//   commit(n)      -> n bytes landed
//   next(frame)    -> each complete frame, payload viewed in the ring
//   wholeFrames()  -> the wire bytes of those frames (for --echo)
//   endRead()      -> drops them; keeps the unfinished tail for the next read
//
// Skimming: a frame larger than one chunk is not kept whole unless the caller
// needs it (keepWholeFrames, for --echo): its header and the first
// maxLoggedBytes of payload stay in the ring, the rest is dropped as it
// arrives (the log line shows only those bytes anyway), so a 1 MiB frame costs
// one chunk, not 1 MiB. next() then yields the frame's head with the whole
// payload size, once its last byte has arrived.
//
//   ring while skimming:  | header | kept head (<= maxLogged) | next bytes... |
//
// The framing is any of framing.h's (FramingDecoder); headers differ in size
// between framings and, for octet counting and varints, between frames.
//                          payload bytes past the head are never stored
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "buffer_pool.h"
#include "framing.h"
#include "ring_buffer.h"

namespace uvframe {

/// Reassembles one byte stream. Owns the ring (whose block it borrows from
/// the pool); used only on the pool's thread.
class FrameReassembler {
 public:
  /// A complete frame: its payload (only the first bytes of it when it was
  /// skimmed) and the payload's full size.
  struct Frame {
    std::span<const std::byte> payload;
    std::uint32_t payloadBytes = 0;
  };
  /// How a read ended.
  struct ReadEnd {
    bool tooLarge = false;             ///< the next header announces too much
    std::uint64_t announced = 0;       ///< its length field as received (tooLarge)
    bool badHeader = false;            ///< the next header can never be valid
    std::string_view badHeaderReason;  ///< why (badHeader): a static text
    bool newFrameBegan = false;        ///< an unfinished frame started in this read
    bool released = false;             ///< storage went back to the pool
  };

  FrameReassembler(BufferPool& pool, FramingDecoder decoder, std::size_t maxLoggedBytes,
                   bool keepWholeFrames);

  std::span<std::byte> prepareRead() { return ring_.prepareWrite(pendingFrameBytes_); }
  /// n bytes landed in the span from prepareRead(); starts a read.
  void commit(std::size_t n);
  /// The next complete frame of this read, if any.
  bool next(Frame& out) {
    if (skimDone_) return takeSkimmedFrame(out);
    if (skimming_) return false;
    FramingResult r = decoder_.decode(ring_.readable().subspan(offset_));
    if (r.status != FramingResult::Status::kFrame) {
      lastStatus_ = r.status;
      lastLengthField_ = r.lengthField;
      lastPayloadBytes_ = r.payloadBytes;
      lastHeaderBytes_ = r.headerBytes;
      lastFrameBytes_ = r.frameBytes;
      lastReason_ = r.reason;
      return false;
    }
    out.payload = r.payload;
    out.payloadBytes = r.payloadBytes;
    offset_ += r.consumedBytes;
    return true;
  }
  /// Drops n bytes from the front of what commit() just added: bytes a layer
  /// in front of the frames took for itself (a PROXY protocol header). Only
  /// between commit() and the first next() of a read, before any frame.
  void dropFront(std::size_t n) { ring_.consume(n); }
  /// Wire bytes (headers included) of the frames next() returned in this
  /// read; valid until endRead(). Never includes a skimmed frame (skimming is
  /// off when frames are kept whole).
  std::span<const std::byte> wholeFrames() const { return ring_.readable().first(offset_); }
  /// Ends the read (call after next() returned false).
  ReadEnd endRead();

  bool hasPartial() const { return hasPartial_; }
  /// Bytes of the unfinished frame received so far (header included).
  std::size_t unfinishedBytes() const {
    return skimming_ ? skimHeaderBytes_ + skimSeen_ : ring_.readableBytes();
  }
  /// Size of the unfinished frame (header included), 0 if not known yet.
  std::size_t unfinishedFrameBytes() const {
    return skimming_ ? skimHeaderBytes_ + skimPayloadBytes_ : pendingFrameBytes_;
  }
  /// Whether frames larger than a chunk are skimmed (see file comment).
  bool skims() const {
    return !keepWholeFrames_ && maxHeaderBytes_ + maxLoggedBytes_ <= chunkBytes_ / 2;
  }
  /// The unread bytes (the start of a frame too large, for the warning).
  std::span<const std::byte> unread() const { return ring_.readable(); }
  RingBuffer& ring() { return ring_; }
  const RingBuffer& ring() const { return ring_; }

 private:
  void startSkimming();
  void skim(std::size_t newBytes);
  bool takeSkimmedFrame(Frame& out);

  RingBuffer ring_;
  std::size_t chunkBytes_;
  FramingDecoder decoder_;
  std::size_t maxHeaderBytes_;  ///< the longest header of this framing
  std::size_t maxLoggedBytes_;
  bool keepWholeFrames_;

  std::size_t offset_ = 0;  ///< bytes of this read's frames so far
  // The decode that ended next(): what endRead() needs of it.
  FramingResult::Status lastStatus_ = FramingResult::Status::kNeedMore;
  std::uint64_t lastLengthField_ = 0;
  std::uint32_t lastPayloadBytes_ = 0;
  std::size_t lastHeaderBytes_ = 0;
  std::size_t lastFrameBytes_ = 0;
  std::string_view lastReason_;
  std::size_t pendingFrameBytes_ = 0;  ///< size of the unfinished frame, if known
  bool hasPartial_ = false;
  // Skimming a frame larger than the chunk: the ring holds its header and
  // skimKept_ payload bytes; skimSeen_ of skimPayloadBytes_ have arrived.
  std::uint32_t skimHeaderBytes_ = 0;
  std::uint32_t skimPayloadBytes_ = 0;
  std::uint32_t skimSeen_ = 0;
  std::uint32_t skimKept_ = 0;
  bool skimming_ = false;
  bool skimDone_ = false;  ///< the skimmed frame is complete: next() yields it
};

}  // namespace uvframe
