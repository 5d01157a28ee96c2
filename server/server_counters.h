// Counters of one worker: written by the worker's thread only, read by the
// control thread for the stats lines. Single writer, so an update is a plain
// load and store (no locked instruction on the hot path); readers may see a
// value a moment old, never a torn one.
#pragma once

#include <atomic>
#include <cstdint>

namespace uvframe {

/// Adds n to a counter that only the calling thread writes.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// Counters of one worker (see file comment for the threading rule).
struct WorkerCounters {
  std::atomic<std::uint64_t> accepted{0};          ///< connections taken in
  std::atomic<std::uint64_t> refused{0};           ///< turned away (max-connections)
  std::atomic<std::uint64_t> closed{0};            ///< taken in and closed since
  std::atomic<std::uint64_t> frames{0};            ///< complete frames received
  std::atomic<std::uint64_t> bytes{0};             ///< bytes received (headers included)
  std::atomic<std::uint64_t> protocolErrors{0};    ///< frames too large
  std::atomic<std::uint64_t> timeouts{0};          ///< idle and frame timeouts
  std::atomic<std::uint64_t> ioErrors{0};          ///< read/write/accept errors (not resets)
  std::atomic<std::uint64_t> resets{0};            ///< connections reset by the peer
  std::atomic<std::uint64_t> inputMemoryBytes{0};  ///< receive storage lent out
  std::atomic<std::uint64_t> memoryStalls{0};      ///< reads paused for the memory budget
};

/// State every worker shares.
struct SharedServerState {
  std::atomic<std::uint64_t> openConnections{0};
  // Set by the control thread before the workers start; read-only after.
  std::uint64_t descriptorConnectionLimit = 0;  ///< connections the fd limit allows (0: unknown)
  std::uint64_t maxDescriptors = 0;             ///< RLIMIT_NOFILE in force
};

}  // namespace uvframe
