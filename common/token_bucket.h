// TokenBucket: a rate in units per second with a burst of one second's worth,
// for --max-frame-rate and --max-byte-rate. Written by hand because it is
// four lines of arithmetic on the connection's own clock (uv_now, in ms) and
// must cost nothing per frame: the server charges it once per read.
//
// The bucket may go into debt: the frames of one read are all logged (nothing
// is dropped), and the debt is paid by not reading the peer until
// msUntilPositive() has passed, so over time the peer gets its rate exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace uvframe {

/// Used by one thread (the connection's worker).
class TokenBucket {
 public:
  /// ratePerS > 0; the bucket starts full (one second's worth).
  TokenBucket(double ratePerS, std::uint64_t nowMs)
      : rate_(ratePerS), burst_(std::max(ratePerS, 1.0)), tokens_(burst_), lastMs_(nowMs) {}

  /// Tokens available now (may be negative: debt).
  double available(std::uint64_t nowMs) {
    refill(nowMs);
    return tokens_;
  }
  /// Takes n tokens (may go into debt).
  void take(double n, std::uint64_t nowMs) {
    refill(nowMs);
    tokens_ -= n;
  }
  /// Milliseconds until the bucket holds at least one token again (0: now).
  std::uint64_t msUntilPositive(std::uint64_t nowMs) {
    refill(nowMs);
    if (tokens_ >= 1.0) return 0;
    return static_cast<std::uint64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate_));
  }
  double rate() const { return rate_; }

 private:
  void refill(std::uint64_t nowMs) {
    if (nowMs <= lastMs_) return;
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(nowMs - lastMs_) * rate_ / 1000.0);
    lastMs_ = nowMs;
  }

  double rate_;
  double burst_;
  double tokens_;
  std::uint64_t lastMs_;
};

}  // namespace uvframe
