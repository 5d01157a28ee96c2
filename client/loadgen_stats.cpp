// Load generator statistics: see loadgen_stats.h.
#include "loadgen_stats.h"

#include <uv.h>

#include <algorithm>
#include <array>

namespace uvframe {

namespace {

// Indexed by ErrorKind; the names of the summary and the JSON.
constexpr std::array<std::string_view, kErrorKindCount> kErrorKindNames = {
    "connect_refused",
    "connect_timeout",
    "connect_reset",
    "connect_addr_not_avail",
    "connect_no_descriptors",
    "connect_other",
    "tls_handshake",
    "reset",
    "read_error",
    "tls_error",
    "write_error",
    "closed_by_peer",
    "echo_mismatch",
    "echo_missing",
    "echo_extra",
    "echo_too_large",
    "unexpected_data",
    "echo_bad_header",
};

}  // namespace

std::string_view errorKindName(ErrorKind kind) {
  auto i = static_cast<std::size_t>(kind);
  return i < kErrorKindNames.size() ? kErrorKindNames[i] : "unknown";
}

ErrorKind connectErrorKind(int uvStatus) {
  switch (uvStatus) {
    case UV_ECONNREFUSED:
      return ErrorKind::kConnectRefused;
    case UV_ETIMEDOUT:
      return ErrorKind::kConnectTimeout;
    case UV_ECONNRESET:
      return ErrorKind::kConnectReset;
    case UV_EADDRNOTAVAIL:
      return ErrorKind::kConnectAddrNotAvail;
    case UV_EMFILE:
    case UV_ENFILE:
      return ErrorKind::kConnectNoDescriptors;
    default:
      return ErrorKind::kConnectOther;
  }
}

void LoadTotals::add(const LoadCounters& c) {
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  connectsStarted += get(c.connectsStarted);
  connectionsOpened += get(c.connectionsOpened);
  connectionsFailed += get(c.connectionsFailed);
  connectionsAborted += get(c.connectionsAborted);
  connectionsOpen += get(c.connectionsOpen);
  sourceRetries += get(c.sourceRetries);
  framesSent += get(c.framesSent);
  bytesSent += get(c.bytesSent);
  framesEchoed += get(c.framesEchoed);
  bytesEchoed += get(c.bytesEchoed);
  lastActivityNs = std::max(lastActivityNs, get(c.lastActivityNs));
  connectNsTotal += get(c.connectNsTotal);
  connectNsMax = std::max(connectNsMax, get(c.connectNsMax));
  lastOpenNs = std::max(lastOpenNs, get(c.lastOpenNs));
  for (std::size_t i = 0; i < kErrorKindCount; ++i)
    errors[i] += get(c.errors[i]);
  std::lock_guard lock(c.tlsFailuresMutex);
  for (const auto& [reason, count] : c.tlsFailures)
    tlsFailures[reason] += count;
}

std::uint64_t LoadTotals::totalErrors() const {
  std::uint64_t sum = 0;
  for (auto e : errors)
    sum += e;
  return sum;
}

}  // namespace uvframe
