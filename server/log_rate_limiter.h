// LogRateLimiter: lets a repetitive warning (refused connections, accept
// failures under EMFILE) through at most once per interval and counts what it
// held back, so a flood becomes one line per second instead of one per event.
#pragma once

#include <cstdint>

namespace uvframe {

/// Used by one thread (the worker that owns it).
class LogRateLimiter {
 public:
  explicit LogRateLimiter(std::uint64_t intervalMs = 1000) : intervalMs_(intervalMs) {}

  /// True if a line may be written now; otherwise the event is counted.
  bool allow(std::uint64_t nowMs) {
    if (hasLogged_ && nowMs - lastMs_ < intervalMs_) {
      ++suppressed_;
      return false;
    }
    hasLogged_ = true;
    lastMs_ = nowMs;
    return true;
  }
  /// Events held back since the last allowed line; resets the count.
  std::uint64_t takeSuppressed() {
    std::uint64_t n = suppressed_;
    suppressed_ = 0;
    return n;
  }

 private:
  std::uint64_t intervalMs_;
  std::uint64_t lastMs_ = 0;
  std::uint64_t suppressed_ = 0;
  bool hasLogged_ = false;
};

}  // namespace uvframe
