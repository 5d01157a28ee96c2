// RefusalLog: the warning lines for connections closed before they are
// clients (the connection limit, an untrusted proxy, a PROXY header that is
// late or malformed): one line naming ip, port and reason, at most about one
// a second per reason, each with the count of the refusals it held back, so
// a flood of refused peers costs a line a second, not a line a peer. Every
// refusal is counted (refused= in the stats line) whether logged or not.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "close_reason.h"
#include "log_rate_limiter.h"
#include "peer_address.h"

namespace uvframe {

/// One per worker; used on its thread only.
class RefusalLog {
 public:
  /// Logs (rate-limited) that the peer was refused for reason; detail, if
  /// not empty, says more ("max-connections=100 reached", the header error).
  void report(spdlog::logger& log, std::uint64_t nowMs, CloseReason reason, std::string_view ip,
              std::uint16_t port, std::string_view detail);

 private:
  std::array<LogRateLimiter, kCloseReasonCount> limiters_;
};

}  // namespace uvframe
