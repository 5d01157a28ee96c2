// Load generator statistics: see loadgen_stats.h.
#include "loadgen_stats.h"

#include <uv.h>

#include <algorithm>

namespace uvframe {

std::string_view errorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnectRefused: return "connect_refused";
    case ErrorKind::kConnectTimeout: return "connect_timeout";
    case ErrorKind::kConnectReset: return "connect_reset";
    case ErrorKind::kConnectAddrNotAvail: return "connect_addr_not_avail";
    case ErrorKind::kConnectNoDescriptors: return "connect_no_descriptors";
    case ErrorKind::kConnectOther: return "connect_other";
    case ErrorKind::kReset: return "reset";
    case ErrorKind::kReadError: return "read_error";
    case ErrorKind::kWriteError: return "write_error";
    case ErrorKind::kClosedByPeer: return "closed_by_peer";
    case ErrorKind::kEchoMismatch: return "echo_mismatch";
    case ErrorKind::kEchoMissing: return "echo_missing";
    case ErrorKind::kEchoExtra: return "echo_extra";
    case ErrorKind::kEchoTooLarge: return "echo_too_large";
    case ErrorKind::kUnexpectedData: return "unexpected_data";
    case ErrorKind::kCount: break;
  }
  return "unknown";
}

ErrorKind connectErrorKind(int uvStatus) {
  switch (uvStatus) {
    case UV_ECONNREFUSED: return ErrorKind::kConnectRefused;
    case UV_ETIMEDOUT: return ErrorKind::kConnectTimeout;
    case UV_ECONNRESET: return ErrorKind::kConnectReset;
    case UV_EADDRNOTAVAIL: return ErrorKind::kConnectAddrNotAvail;
    case UV_EMFILE:
    case UV_ENFILE: return ErrorKind::kConnectNoDescriptors;
    default: return ErrorKind::kConnectOther;
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
  for (std::size_t i = 0; i < kErrorKindCount; ++i) errors[i] += get(c.errors[i]);
}

std::uint64_t LoadTotals::totalErrors() const {
  std::uint64_t sum = 0;
  for (auto e : errors) sum += e;
  return sum;
}

}  // namespace uvframe
