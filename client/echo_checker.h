// EchoChecker: checks the echo stream of one load connection, on plain bytes
// (no sockets), so it can be tested alone.
//
// The connection tells it each frame it sends (sequence, size, start time);
// the bytes read back are reassembled into frames and compared, in order,
// with the payload the PayloadPattern regenerates for the oldest expected
// frame. Each echoed frame gives a latency sample: receive time minus start
// time, where the start time is the send time (closed loop) or the scheduled
// send time (open loop, so a stalled server shows up in the latency).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "frame_codec.h"
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
};

/// Owned by one LoadConnection; one thread.
class EchoChecker {
 public:
  EchoChecker(const PayloadPattern& pattern, FrameDecoder decoder, std::uint64_t connId)
      : pattern_(pattern), decoder_(decoder), connId_(connId) {}

  /// Records that frame seq of sizeBytes was sent, timed from startNs.
  void expect(std::uint64_t seq, std::uint32_t sizeBytes, std::uint64_t startNs) {
    expected_.push_back({seq, sizeBytes, startNs});
  }
  /// Consumes bytes read from the socket at nowNs; latency samples of frames
  /// that started at or after recordFromNs go to latencies (earlier ones are
  /// the warm-up). After tooLarge, further bytes are ignored.
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
  /// Decodes whole frames from input; returns the bytes consumed.
  std::size_t consumeFrames(std::span<const std::byte> input, std::uint64_t nowNs,
                            LatencyHistogram& latencies, EchoTally& tally);

  std::uint64_t recordFromNs_ = 0;  // of the current feed() call

  const PayloadPattern& pattern_;
  FrameDecoder decoder_;
  std::uint64_t connId_;
  std::deque<Expected> expected_;
  std::vector<std::byte> partial_;  // the start of a frame not complete yet
  bool lost_ = false;
};

}  // namespace uvframe
