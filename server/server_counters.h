// Counters of one worker: written by the worker's thread only, read by the
// control thread for the stats lines. Single writer, so an update is a plain
// load and store (no locked instruction on the hot path); readers may see a
// value a moment old, never a torn one.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "cidr.h"
#include "close_reason.h"
#include "ip_connection_counter.h"
#include "shared_tls_context.h"

namespace uvframe {

/// Adds n to a counter that only the calling thread writes.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// Payload sizes observed per frame, for the uvframe_frame_size_bytes
/// histogram: bucket i counts payloads of at most 16 * 4^i bytes (16 B ...
/// 1 MiB), the last bucket everything larger. Powers of four make the bucket
/// one bit_width away from the size, so observing costs no search.
inline constexpr std::size_t kFrameSizeBuckets = 10;
inline constexpr std::uint64_t frameSizeBucketBound(std::size_t i) {
  return std::uint64_t{16} << (2 * i);
}
inline constexpr std::size_t frameSizeBucket(std::uint64_t payloadBytes) {
  if (payloadBytes <= 16) return 0;
  std::size_t i = (static_cast<std::size_t>(std::bit_width(payloadBytes - 1)) - 3) / 2;
  return i < kFrameSizeBuckets - 1 ? i : kFrameSizeBuckets - 1;
}

/// Counters of one worker (see file comment for the threading rule).
struct WorkerCounters {
  std::atomic<std::uint64_t> accepted{0};          ///< connections taken in
  std::atomic<std::uint64_t> refused{0};           ///< closed before they were clients (refusedBy)
  std::atomic<std::uint64_t> closed{0};            ///< taken in and closed since
  std::atomic<std::uint64_t> frames{0};            ///< complete frames received
  std::atomic<std::uint64_t> bytes{0};             ///< bytes received (headers included)
  std::atomic<std::uint64_t> protocolErrors{0};    ///< frames too large
  std::atomic<std::uint64_t> timeouts{0};          ///< idle and frame timeouts
  std::atomic<std::uint64_t> ioErrors{0};          ///< read/write/accept errors (not resets)
  std::atomic<std::uint64_t> resets{0};            ///< connections reset by the peer
  std::atomic<std::uint64_t> inputMemoryBytes{0};  ///< receive storage lent out
  std::atomic<std::uint64_t> memoryStalls{0};      ///< reads paused for the memory budget
  std::atomic<std::uint64_t> payloadBytes{0};      ///< payload bytes of the complete frames
  std::atomic<std::uint64_t> ratePauses{0};        ///< reads paused for --max-*-rate
  /// Connections closed before they were clients, by reason (isRefusal);
  /// they add up to refused.
  std::array<std::atomic<std::uint64_t>, kCloseReasonCount> refusedBy{};
  /// Connections closed after their connected line, by reason.
  std::array<std::atomic<std::uint64_t>, kCloseReasonCount> closedBy{};
  /// Complete frames by payload size (frameSizeBucket); sum = payloadBytes.
  std::array<std::atomic<std::uint64_t>, kFrameSizeBuckets> frameSizes{};
};

/// Every worker's counters added up (each read relaxed): what the stats line
/// and the metrics report.
struct CounterTotals {
  std::uint64_t accepted = 0, refused = 0, closed = 0, frames = 0, bytes = 0, payloadBytes = 0,
                protocolErrors = 0, timeouts = 0, ioErrors = 0, resets = 0, inputMemoryBytes = 0,
                memoryStalls = 0, ratePauses = 0;
  std::array<std::uint64_t, kCloseReasonCount> closedBy{};
  std::array<std::uint64_t, kCloseReasonCount> refusedBy{};
  /// Per bucket, not cumulative (as WorkerCounters::frameSizes).
  std::array<std::uint64_t, kFrameSizeBuckets> frameSizes{};

  /// Errors of any kind, as the stats line counts them.
  std::uint64_t errors() const { return protocolErrors + ioErrors + timeouts; }

  void add(const WorkerCounters& c) {
    auto get = [](const std::atomic<std::uint64_t>& a) {
      return a.load(std::memory_order_relaxed);
    };
    accepted += get(c.accepted);
    refused += get(c.refused);
    closed += get(c.closed);
    frames += get(c.frames);
    bytes += get(c.bytes);
    payloadBytes += get(c.payloadBytes);
    protocolErrors += get(c.protocolErrors);
    timeouts += get(c.timeouts);
    ioErrors += get(c.ioErrors);
    resets += get(c.resets);
    inputMemoryBytes += get(c.inputMemoryBytes);
    memoryStalls += get(c.memoryStalls);
    ratePauses += get(c.ratePauses);
    for (std::size_t i = 0; i < kCloseReasonCount; ++i) {
      closedBy[i] += get(c.closedBy[i]);
      refusedBy[i] += get(c.refusedBy[i]);
    }
    for (std::size_t i = 0; i < kFrameSizeBuckets; ++i)
      frameSizes[i] += get(c.frameSizes[i]);
  }
};

/// State every worker shares.
struct SharedServerState {
  std::atomic<std::uint64_t> openConnections{0};
  // Set by the control thread before the workers start; read-only after.
  std::uint64_t descriptorConnectionLimit = 0;  ///< connections the fd limit allows (0: unknown)
  std::uint64_t maxDescriptors = 0;             ///< RLIMIT_NOFILE in force
  CidrList trustedProxies;                      ///< --trusted-proxies, parsed
  CidrList allow;                               ///< --allow (empty: everyone)
  CidrList deny;                                ///< --deny
  IpConnectionCounter connectionsPerIp;         ///< --max-connections-per-ip (thread-safe)
  SharedTlsContext tls;                         ///< --tls-cert: set before start, SIGHUP swaps it
};

}  // namespace uvframe
