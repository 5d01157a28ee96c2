// EchoChecker: checks the echo stream of one load connection, on plain bytes
// (no sockets), so it can be tested alone.
//
// The connection tells it each frame it sends (sequence, size, start time);
// the bytes read back are reassembled into frames and compared, in order,
// with the payload the PayloadPattern regenerates for the oldest expected
// frame. The frames are read in the framing they were sent in (FramingDecoder:
// the server echoes each frame's wire bytes, header included). Each echoed
// frame gives a latency sample: receive time minus start
// time, where the start time is the send time (closed loop) or the scheduled
// send time (open loop, so a stalled server shows up in the latency).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "frame_codec.h"
#include "framing.h"
#include "latency_histogram.h"
#include "payload_pattern.h"

namespace uvframe {

/// What one feed() call found.
struct EchoTally {
  std::uint64_t frames = 0;      ///< echoed frames (matching or not)
  std::uint64_t bytes = 0;       ///< their bytes on the wire, headers included
  std::uint64_t mismatched = 0;  ///< frames that differ from what was sent
  std::uint64_t extra = 0;       ///< frames with no frame sent to match
  bool tooLarge = false;         ///< a length above the limit: the stream is lost
  bool badHeader = false;        ///< a header invalid in the framing: the stream is lost
};

/// Owned by one LoadConnection; one thread.
class EchoChecker {
 public:
  EchoChecker(const PayloadPattern& pattern, const FramingDecoder& decoder, std::uint64_t connId)
      : pattern_(pattern),
        decoder_(decoder),
        plainDecoder_(decoder.options().byteOrder, decoder.options().maxPayloadBytes),
        plain_(isPlain(decoder.options())),
        connId_(connId) {}
  /// The default framing: a 4-byte length in the decoder's byte order.
  EchoChecker(const PayloadPattern& pattern, const FrameDecoder& decoder, std::uint64_t connId)
      : EchoChecker(pattern, FramingDecoder(defaultFraming(decoder)), connId) {}

  /// Records that frame seq of sizeBytes was sent, timed from startNs.
  void expect(std::uint64_t seq, std::uint32_t sizeBytes, std::uint64_t startNs) {
    expected_.push_back({seq, sizeBytes, startNs});
  }
  /// Consumes bytes read from the socket at nowNs; latency samples of frames
  /// that started at or after recordFromNs go to latencies (earlier ones are
  /// the warm-up). After tooLarge or badHeader, further bytes are ignored.
  EchoTally feed(std::span<const std::byte> bytes, std::uint64_t nowNs, LatencyHistogram& latencies,
                 std::uint64_t recordFromNs = 0);
  /// Frames sent and not echoed yet.
  std::size_t outstanding() const { return expected_.size(); }
  /// Forgets the outstanding frames (the connection is gone) and returns how
  /// many there were.
  std::size_t dropOutstanding();

 private:
  struct Expected {
    std::uint64_t seq;
    std::uint32_t sizeBytes;
    std::uint64_t startNs;
  };
  static FramingOptions defaultFraming(const FrameDecoder& decoder) {
    FramingOptions framing;
    framing.byteOrder = decoder.byteOrder();
    framing.maxPayloadBytes = decoder.maxPayloadBytes();
    return framing;
  }
  /// The default framing (either byte order): FrameDecoder's format.
  static bool isPlain(const FramingOptions& f) {
    return f.kind == FramingKind::kLength && f.lengthBytes == 4 && f.lengthOffset == 0 &&
           f.lengthAdjust == 0;
  }
  /// Decodes whole frames from input; returns the bytes consumed.
  std::size_t consumeFrames(std::span<const std::byte> input, std::uint64_t nowNs,
                            LatencyHistogram& latencies, EchoTally& tally);
  /// consumeFrames() with FrameDecoder or FramingDecoder.
  template <class Decoder>
  std::size_t consumeFramesWith(const Decoder& decoder, std::span<const std::byte> input,
                                std::uint64_t nowNs, LatencyHistogram& latencies, EchoTally& tally);

  std::uint64_t recordFromNs_ = 0;  // of the current feed() call

  const PayloadPattern& pattern_;
  FramingDecoder decoder_;
  // The default framing is read with FrameDecoder, as before there were
  // other framings: FramingDecoder costs a fifth more time per 16-byte
  // frame (bench_codec BM_DecodeFlat_*).
  FrameDecoder plainDecoder_;
  bool plain_;
  std::uint64_t connId_;
  std::deque<Expected> expected_;
  std::vector<std::byte> partial_;  // the start of a frame not complete yet
  bool lost_ = false;
};

}  // namespace uvframe
