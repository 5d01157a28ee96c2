// Load generator statistics: the error kinds, the counters each loop thread
// updates, and the totals the coordinator adds up from them.
//
// Each LoadClient owns one LoadCounters and is its only writer; the
// coordinator reads all of them once a second for the progress line. Relaxed
// atomics are enough: every counter is read on its own, and the final totals
// are read after the threads are joined.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "latency_histogram.h"

namespace uvframe {

enum class ErrorKind : std::uint8_t {
  kConnectRefused,        ///< ECONNREFUSED: nothing listens
  kConnectTimeout,        ///< no answer within --connect-timeout (or ETIMEDOUT)
  kConnectReset,          ///< ECONNRESET while connecting
  kConnectAddrNotAvail,   ///< EADDRNOTAVAIL: out of ephemeral ports
  kConnectNoDescriptors,  ///< EMFILE/ENFILE: out of file descriptors
  kConnectOther,
  kTlsHandshake,    ///< the TLS handshake failed (a connect failure; reasons in tlsFailures)
  kReset,           ///< an open connection was reset
  kReadError,       ///< another read failure
  kTlsError,        ///< an open TLS session failed (an alert, a bad record)
  kWriteError,      ///< a write failed (EPIPE, ...)
  kClosedByPeer,    ///< the server closed before the run was over
  kEchoMismatch,    ///< an echoed frame differs from the frame sent
  kEchoMissing,     ///< a frame sent never came back
  kEchoExtra,       ///< a frame came back that was not sent
  kEchoTooLarge,    ///< an echoed length above --max-frame (stream lost)
  kUnexpectedData,  ///< bytes from the server without --echo
  kEchoBadHeader,   ///< an echoed header invalid in the framing (stream lost)
  kCount
};
inline constexpr std::size_t kErrorKindCount = static_cast<std::size_t>(ErrorKind::kCount);

/// The name used in the summary and the JSON ("connect_refused", ...).
std::string_view errorKindName(ErrorKind kind);
/// The connect error kind of a libuv status.
ErrorKind connectErrorKind(int uvStatus);

/// Counters of one loop thread; written only by that thread.
struct alignas(64) LoadCounters {
  std::atomic<std::uint64_t> connectsStarted{0};
  std::atomic<std::uint64_t> connectionsOpened{0};
  std::atomic<std::uint64_t> connectionsFailed{0};
  std::atomic<std::uint64_t> connectionsAborted{0};  ///< still connecting when the run ended
  std::atomic<std::uint64_t> connectionsOpen{0};     ///< open right now
  std::atomic<std::uint64_t> sourceRetries{0};       ///< EADDRNOTAVAIL retried on another source
  std::atomic<std::uint64_t> framesSent{0};
  std::atomic<std::uint64_t> bytesSent{0};
  std::atomic<std::uint64_t> framesEchoed{0};
  std::atomic<std::uint64_t> bytesEchoed{0};
  std::atomic<std::uint64_t> lastActivityNs{0};  ///< uv_hrtime of the last frame sent or echoed
  /// Connect time (start of connect to TCP connected or, with --tls, to the
  /// handshake done) of the connections opened: sum, largest, and when the
  /// last one opened (uv_hrtime).
  std::atomic<std::uint64_t> connectNsTotal{0};
  std::atomic<std::uint64_t> connectNsMax{0};
  std::atomic<std::uint64_t> lastOpenNs{0};
  std::array<std::atomic<std::uint64_t>, kErrorKindCount> errors{};
  /// OpenSSL's reason for each TLS failure (tls_handshake and tls_error), by count.
  mutable std::mutex tlsFailuresMutex;
  std::map<std::string, std::uint64_t> tlsFailures;

  /// counter += n, for the single writer (no read-modify-write needed).
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void sub(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void addError(ErrorKind kind, std::uint64_t n = 1) {
    add(errors[static_cast<std::size_t>(kind)], n);
  }
  /// Counts a TLS failure of kind, with OpenSSL's reason.
  void addTlsFailure(ErrorKind kind, const std::string& reason) {
    addError(kind);
    std::lock_guard lock(tlsFailuresMutex);
    ++tlsFailures[reason];
  }
  /// A connection opened after connectNs.
  void addConnectTime(std::uint64_t connectNs, std::uint64_t nowNs) {
    add(connectNsTotal, connectNs);
    if (connectNs > connectNsMax.load(std::memory_order_relaxed)) {
      connectNsMax.store(connectNs, std::memory_order_relaxed);
    }
    lastOpenNs.store(nowNs, std::memory_order_relaxed);
  }
};

/// The sum of every thread's counters at one moment.
struct LoadTotals {
  std::uint64_t connectsStarted = 0;
  std::uint64_t connectionsOpened = 0;
  std::uint64_t connectionsFailed = 0;
  std::uint64_t connectionsAborted = 0;
  std::uint64_t connectionsOpen = 0;
  std::uint64_t sourceRetries = 0;
  std::uint64_t framesSent = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t framesEchoed = 0;
  std::uint64_t bytesEchoed = 0;
  std::uint64_t lastActivityNs = 0;
  std::uint64_t connectNsTotal = 0;
  std::uint64_t connectNsMax = 0;
  std::uint64_t lastOpenNs = 0;
  std::array<std::uint64_t, kErrorKindCount> errors{};
  std::map<std::string, std::uint64_t> tlsFailures;

  void add(const LoadCounters& c);
  std::uint64_t totalErrors() const;
};

/// A loop's latency samples as last published, for the coordinator to merge.
/// The loop merges its fresh samples in a few times a second under the mutex.
struct PublishedHistogram {
  std::mutex mutex;
  LatencyHistogram histogram;
};

}  // namespace uvframe
