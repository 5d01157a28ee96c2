// LoadClient: one event loop of the load generator and the connections it
// owns (uvframe-loadgen runs --threads of them, each on its own thread).
//
// It ramps connections up (--connect-rate, a bounded number of connects in
// progress at once, --connect-timeout), drives the open-loop schedule (a
// min-heap of the connections' next due times, checked every millisecond),
// ends the run (duration reached, every frame sent, or a stop request) by
// draining echoes and half-closing every connection, and publishes its
// latency samples to the coordinator a few times a second.
//
//   running --(deadline | all frames sent | stop)--> draining --(all closed)--> done
//                                                        `--(drain timeout: force close)
#pragma once

#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <span>
#include <vector>

#include "frame_batch_writer.h"
#include "latency_histogram.h"
#include "load_connection.h"
#include "loadgen_options.h"
#include "loadgen_stats.h"
#include "payload_pattern.h"
#include "peer_address.h"
#include "tls_bio.h"
#include "tls_context.h"
#include "uv_handle.h"

namespace uvframe {

/// What every loop shares, read-only, for one run.
struct LoadPlan {
  const LoadgenOptions* options = nullptr;
  const PayloadPattern* pattern = nullptr;
  sockaddr_storage destination{};
  std::vector<sockaddr_storage> sources;  ///< --source-address, port 0
  std::uint64_t startNs = 0;              ///< uv_hrtime at the start of the run
  std::uint64_t deadlineNs = 0;           ///< end of --duration; 0: none
  std::uint64_t latencyFromNs = 0;        ///< end of --warmup: earlier frames are not timed
  std::uint64_t framePeriodNs = 0;        ///< open loop, per connection; 0: closed loop
  PeerAddress proxyDestination;           ///< destination in --proxy-protocol headers
  std::shared_ptr<TlsContext> tls;        ///< --tls: one client context for every loop
};

/// The bytes of a WriteBatch. Unlike std::vector<char> it grows without
/// zero-filling: every byte is written before it is sent.
class BatchBytes {
 public:
  /// Makes size() bytes; when that grows the capacity, the old contents are
  /// dropped. Returns data().
  char* resize(std::size_t bytes) {
    if (bytes > capacity_) {
      capacity_ = std::max(bytes, 2 * capacity_);
      data_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }
    size_ = bytes;
    return data_.get();
  }
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// One write of one or more whole frames; recycled by its LoadClient.
struct WriteBatch {
  uv_write_t req{};
  LoadConnection* conn = nullptr;
  std::uint64_t frames = 0;
  BatchBytes bytes;
  FrameRunLayout layout;    ///< what bytes holds, for the next run to reuse
  TlsByteQueue ciphertext;  ///< --tls: the records OpenSSL wrote, what is written
};

/// Owns a loop, its timers and its connections. run() on the loop's thread;
/// requestStop() from any thread; the rest is for its LoadConnections.
class LoadClient {
 public:
  LoadClient(const LoadPlan& plan, std::vector<std::uint64_t> connIds, LoadCounters& counters,
             PublishedHistogram& published);
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  /// Runs the loop until every connection is closed.
  void run();
  /// Ends the run early (thread-safe). hard: close everything now instead of
  /// waiting for outstanding echoes.
  void requestStop(bool hard);

  // For the LoadConnections of this client.
  uv_loop_t* loop() { return loop_.get(); }
  const LoadPlan& plan() const { return plan_; }
  LoadCounters& counters() { return counters_; }
  LatencyHistogram& latencies() { return latencies_; }
  bool loadEnding() const { return phase_ != Phase::kRunning; }
  uv_buf_t readBuffer();
  /// --tls: where a read's ciphertext is decrypted to (one per loop, like readBuffer).
  std::span<std::byte> plaintextBuffer() { return plaintext_; }
  /// --tls: this loop's own client context (a copy of the plan's, read from
  /// the same files), so no OpenSSL object (the trusted CAs, their cached
  /// extensions) is shared between the loops' threads.
  const TlsContext& tlsContext() const { return *tls_; }
  WriteBatch* acquireBatch();
  void releaseBatch(WriteBatch* batch);
  void connectStarted(LoadConnection& conn);
  /// Called once per connect attempt, whichever way it ended.
  void connectEnded() { --connecting_; }
  void connectionOpened(LoadConnection& conn);
  /// Called once per connection: its last frame is sent, or it closed first.
  void connectionSettled(LoadConnection& conn);
  void connectionClosed(LoadConnection& conn);
  /// Open loop: a connection whose queue drained wants its schedule back.
  void scheduleAgain(LoadConnection& conn);

 private:
  enum class Phase : std::uint8_t { kRunning, kDraining, kDone };
  struct Due {
    std::uint64_t dueNs;
    std::uint32_t index;
    bool operator>(const Due& o) const { return dueNs > o.dueNs; }
  };
  struct ConnectDeadline {
    std::uint64_t deadlineNs;
    std::uint32_t index;
    std::uint32_t attempt;
  };

  static void onTick(uv_timer_t* timer) noexcept;
  static void onStopAsync(uv_async_t* async) noexcept;

  void tick();
  void startConnections(std::uint64_t nowNs);
  void expireConnects(std::uint64_t nowNs);
  void runSchedule(std::uint64_t nowNs);
  void beginDrain(std::uint64_t nowNs);
  void publish();
  void finish();

  UvLoop loop_;  // first member: destroyed last
  uv_timer_t tickTimer_{};
  uv_async_t stopAsync_{};
  const LoadPlan& plan_;
  std::shared_ptr<TlsContext> tls_;
  LoadCounters& counters_;
  PublishedHistogram& published_;
  std::vector<std::unique_ptr<LoadConnection>> conns_;

  Phase phase_ = Phase::kRunning;
  std::size_t nextToStart_ = 0;
  std::size_t connecting_ = 0;
  std::size_t live_ = 0;  // started and not closed
  std::size_t settled_ = 0;
  double connectsPerNs_ = 0;  // this loop's share of --connect-rate
  std::uint64_t drainDeadlineNs_ = 0;
  std::uint64_t lastPublishNs_ = 0;
  std::deque<ConnectDeadline> connectDeadlines_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> schedule_;
  std::vector<std::unique_ptr<WriteBatch>> freeBatches_;
  LatencyHistogram latencies_;  // samples since the last publish
  std::vector<char> readBuffer_;
  std::vector<std::byte> plaintext_;

  std::atomic<int> stopRequest_{0};  // 1: stop, 2: stop hard
  std::mutex asyncMutex_;            // guards stopAsync_ against its close
  bool asyncClosed_ = false;
};

}  // namespace uvframe
