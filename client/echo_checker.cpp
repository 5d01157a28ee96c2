// EchoChecker: see echo_checker.h.
#include "echo_checker.h"

namespace uvframe {
namespace {

// A partial frame buffer larger than this is freed once it empties, so a
// burst of big frames does not pin memory in each of thousands of connections.
constexpr std::size_t kKeptPartialCapacityBytes = 64 * 1024;

}  // namespace

std::size_t EchoChecker::consumeFrames(std::span<const std::byte> input, std::uint64_t nowNs,
                                       LatencyHistogram& latencies, EchoTally& tally) {
  return plain_ ? consumeFramesWith(plainDecoder_, input, nowNs, latencies, tally)
                : consumeFramesWith(decoder_, input, nowNs, latencies, tally);
}

template <class Decoder>
std::size_t EchoChecker::consumeFramesWith(const Decoder& decoder, std::span<const std::byte> input,
                                           std::uint64_t nowNs, LatencyHistogram& latencies,
                                           EchoTally& tally) {
  using Status = typename decltype(decoder.decode(input))::Status;
  std::size_t consumed = 0;
  while (true) {
    auto r = decoder.decode(input.subspan(consumed));
    if (r.status == Status::kNeedMore) return consumed;
    if (r.status != Status::kFrame) {
      // Too large, or (FramingDecoder) a bad header: the stream is lost.
      (r.status == Status::kTooLarge ? tally.tooLarge : tally.badHeader) = true;
      lost_ = true;
      return input.size();
    }
    consumed += r.consumedBytes;
    ++tally.frames;
    tally.bytes += r.consumedBytes;
    if (expected_.empty()) {
      ++tally.extra;
      continue;
    }
    const Expected& e = expected_.front();
    if (!pattern_.matches(r.payload, connId_, e.seq, e.sizeBytes)) ++tally.mismatched;
    if (e.startNs >= recordFromNs_) latencies.record(nowNs > e.startNs ? nowNs - e.startNs : 0);
    expected_.pop_front();
  }
}

EchoTally EchoChecker::feed(std::span<const std::byte> bytes, std::uint64_t nowNs,
                            LatencyHistogram& latencies, std::uint64_t recordFromNs) {
  EchoTally tally;
  recordFromNs_ = recordFromNs;
  if (lost_) return tally;
  if (partial_.empty()) {
    // The common case: decode straight from the read buffer and keep only
    // the incomplete tail.
    std::size_t used = consumeFrames(bytes, nowNs, latencies, tally);
    if (!lost_) partial_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
    return tally;
  }
  partial_.insert(partial_.end(), bytes.begin(), bytes.end());
  std::size_t used = consumeFrames(partial_, nowNs, latencies, tally);
  if (lost_) {
    partial_.clear();
  } else {
    partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  if (partial_.empty() && partial_.capacity() > kKeptPartialCapacityBytes) {
    std::vector<std::byte>().swap(partial_);
  }
  return tally;
}

std::size_t EchoChecker::dropOutstanding() {
  std::size_t n = expected_.size();
  expected_.clear();
  return n;
}

}  // namespace uvframe
