// FrameBatchWriter: writes the load generator's frames (the header of the
// chosen framing plus PayloadPattern payload) into a write batch, byte for
// byte what appendHeader() and PayloadPattern::write() make frame by frame,
// but at a few nanoseconds per frame, so that 64-byte frames cost the load
// generator little more than the kernel's copy of them.
//
// The default framing (4-byte length, no offset, no adjust) keeps its own
// path: encodeHeader() and the constant kFrameHeaderBytes. Every other
// framing goes through appendHeader(); frames of one size have one header
// size in every framing (octet-counting's digits depend on the size only),
// so a run of one size is still copied and patched as below.
//
// Consecutive frames of one connection and one size differ only in the
// digits of their sequence number, as long as the number of digits stays
// the same. writeRun() therefore splits the frames where the digit count
// changes and, for each such run,
//
//   1. writes its first frame in full,
//   2. copies that frame over the rest of the run in doubling blocks
//      (1, 2, 4, ... frames per memcpy),
//   3. patches each later frame's digits from a decimal counter kept in
//      ASCII (a fixed-width copy, chosen per digit count at compile time):
//
//      frame k:  [header][conn=17 seq=1000+k abcdefghij...]
//                                ^^^^^^^^^^ patched
//
// A buffer that already holds such a run of the same connection, size and
// digit count, at least as long (a closed-loop connection gets its last
// batch back from the pool), only has its digits patched: steps 1 and 2 are
// skipped. FrameRunLayout records what a buffer holds.
//
// Frames too short for their whole "conn=<id> seq=<n> " prefix carry only
// its beginning; those are written one by one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "frame_codec.h"
#include "framing.h"
#include "payload_pattern.h"

namespace uvframe {

/// What a buffer holds after writeRun(): `frames` frames (0: nothing
/// reusable) of connection connId, back to back, with sizeBytes payloads and
/// sequence numbers that all have `digits` decimal digits. Whoever writes
/// the buffer in another way must reset it.
struct FrameRunLayout {
  std::uint64_t connId = 0;
  std::uint32_t sizeBytes = 0;
  std::size_t digits = 0;
  std::uint64_t frames = 0;
};

/// Stateless apart from its references: any thread may use its own copy.
/// The pattern must outlive it and cover every size written, and the
/// framing must announce every size written (framingHeaderBytes() != 0:
/// finishLoadgenOptions() checks --size against it).
class FrameBatchWriter {
 public:
  /// The default framing with this byte order (a 4-byte length).
  FrameBatchWriter(const PayloadPattern& pattern, ByteOrder order)
      : FrameBatchWriter(pattern, defaultFraming(order)) {}
  FrameBatchWriter(const PayloadPattern& pattern, const FramingOptions& framing)
      : pattern_(pattern),
        framing_(framing),
        plain4_(framing.kind == FramingKind::kLength && framing.lengthBytes == 4 &&
                framing.lengthOffset == 0 && framing.lengthAdjust == 0) {
    framing_.lengthOffset = 0;  // written apart, as zeros: see writeFrame()
    offsetBytes_ = framing.kind == FramingKind::kLength ? framing.lengthOffset : 0;
  }

  /// The header bytes of a frame with a sizeBytes payload (the same for
  /// every frame of that size).
  std::size_t headerSize(std::uint32_t sizeBytes) const {
    if (plain4_) return kFrameHeaderBytes;
    return offsetBytes_ + framingHeaderBytes(framing_, sizeBytes);
  }
  /// Header plus payload.
  std::size_t frameSize(std::uint32_t sizeBytes) const { return headerSize(sizeBytes) + sizeBytes; }

  /// Writes frame seq of connection connId with a sizeBytes payload to out
  /// (frameSize(sizeBytes) bytes).
  void writeFrame(std::uint64_t connId, std::uint64_t seq, std::uint32_t sizeBytes,
                  char* out) const;
  /// Writes frames firstSeq .. firstSeq + count - 1 of connection connId,
  /// each with a sizeBytes payload, back to back to out
  /// (count * frameSize(sizeBytes) bytes). layout says what out holds
  /// already, and is updated.
  void writeRun(std::uint64_t connId, std::uint64_t firstSeq, std::uint64_t count,
                std::uint32_t sizeBytes, char* out, FrameRunLayout& layout) const;

 private:
  /// writeRun() for frames whose sequence numbers all have the same number
  /// of digits; reuse: out holds such a run already, only the digits
  /// differ. False if the frames were too short to copy and were written
  /// one by one.
  bool writeSameWidthRun(std::uint64_t connId, std::uint64_t firstSeq, std::uint64_t count,
                         std::uint32_t sizeBytes, char* out, bool reuse) const;

  static FramingOptions defaultFraming(ByteOrder order) {
    FramingOptions framing;
    framing.byteOrder = order;
    return framing;
  }
  /// writeFrame() for every framing but the default one.
  void writeFramedFrame(std::uint64_t connId, std::uint64_t seq, std::uint32_t sizeBytes,
                        char* out) const;

  const PayloadPattern& pattern_;
  FramingOptions framing_;   ///< lengthOffset zeroed: offsetBytes_ holds it
  std::size_t offsetBytes_;  ///< zeros before the length field (kLength)
  bool plain4_;              ///< the default framing: encodeHeader()
};

}  // namespace uvframe
