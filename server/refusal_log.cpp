// RefusalLog: see refusal_log.h.
#include "refusal_log.h"

namespace uvframe {

void RefusalLog::report(spdlog::logger& log, std::uint64_t nowMs, CloseReason reason,
                        std::string_view ip, std::uint16_t port, std::string_view detail) {
  LogRateLimiter& limiter = limiters_[static_cast<std::size_t>(reason)];
  if (!limiter.allow(nowMs)) return;
  std::uint64_t held = limiter.takeSuppressed();
  if (held == 0) {
    log.warn("[tcp server] connection refused: ip={}, port={} (reason={}{}{})", ip, port,
             toString(reason), detail.empty() ? "" : ": ", detail);
  } else {
    log.warn(
        "[tcp server] connection refused: ip={}, port={} (reason={}{}{}; +{} more refused "
        "for this reason since the last report)",
        ip, port, toString(reason), detail.empty() ? "" : ": ", detail, held);
  }
}

}  // namespace uvframe
