// Worker: one event-loop thread of the server. It owns its loop, its own
// listening socket (SO_REUSEPORT: the kernel spreads new connections over
// the workers, with no hand-off between threads), the connections it
// accepted, its receive-buffer pool, its log sink and its payload renderer.
// Nothing in a worker is shared with another worker; the control thread
// reaches it only through uv_async_send (requestStop) and atomic counters.
//
// Shutdown (requestStop): accept what waits in the listening socket's
// backlog, stop listening, note what the kernel holds for every connection,
// then read and log exactly that (at most until --drain-timeout), close every
// connection and end the loop. What could not be read is reported.
#pragma once

#include <spdlog/logger.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "buffer_pool.h"
#include "connection.h"
#include "framing.h"
#include "log_events.h"
#include "log_rate_limiter.h"
#include "log_writer.h"
#include "payload_renderer.h"
#include "refusal_log.h"
#include "server_counters.h"
#include "server_options.h"
#include "timing_wheel.h"
#include "uv_handle.h"

struct sockaddr;

namespace uvframe {

/// One loop thread and everything it owns. Constructed, bound and started by
/// the control thread; after start() only requestStop(), join() and
/// counters() may be called from outside the worker's own thread.
class Worker {
 public:
  Worker(unsigned index, const ServerOptions& options, SharedServerState& shared,
         LogWriter& writer);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Binds and listens (before start()). reusePort: share the port with the
  /// other workers' sockets. Throws std::runtime_error naming the address.
  void listen(const sockaddr* address, bool reusePort);
  /// The port this worker's socket is bound to (after listen()).
  std::uint16_t boundPort();
  /// Starts the loop thread; onDone runs on it once the loop has ended and
  /// the worker's log lines are handed over (after a stop).
  void start(std::function<void()> onDone);
  /// Asks the loop to drain (until drainDeadline at the latest) and close
  /// everything, then end. Any thread.
  void requestStop(std::chrono::steady_clock::time_point drainDeadline);
  void join();
  const WorkerCounters& counters() const { return counters_; }

  // For Connection, on the worker's thread only.
  uv_loop_t* loop() { return loop_.get(); }
  const ServerOptions& options() const { return options_; }
  const FramingDecoder& decoder() const { return decoder_; }
  BufferPool& pool() { return pool_; }
  spdlog::logger& log() { return *logger_; }
  PayloadRenderer& renderer() { return renderer_; }
  std::string& lineBuffer() { return line_; }
  /// Bodies of the connection lines in --log-format (worker thread only).
  LogEvents& events() { return events_; }
  WorkerCounters& counters() { return counters_; }
  SharedServerState& shared() { return shared_; }
  TimingWheel& wheel() { return wheel_; }
  /// Counts a connection closed before it was a client and logs it
  /// (rate-limited per reason).
  void reportRefused(CloseReason reason, std::string_view ip, std::uint16_t port,
                     std::string_view detail);
  /// Counts the loop's turns (for each connection's fair share per turn).
  std::uint64_t turn() const { return turn_; }
  bool stopping() const { return stopping_; }
  unsigned index() const { return index_; }
  void onConnectionClosed(ConnId id);
  /// Memory went back to the pool: wake the waiters it covers (rule 5).
  void onMemoryReleased();
  /// Where TLS connections receive ciphertext (one read at a time: it is
  /// consumed before the read callback returns). One TLS record's size.
  std::span<std::byte> tlsScratch();
  /// A resumed TLS connection whose session still holds received bytes: the
  /// socket may stay quiet, so decrypt them from the loop's idle phase (not
  /// from inside the caller: wake-ups chain through the memory rule).
  void schedulePump(ConnId id);

 private:
  static void onConnection(uv_stream_t* server, int status) noexcept;
  static void onStopRequest(uv_async_t* async) noexcept;
  static void onTickTimer(uv_timer_t* timer) noexcept;
  static void onFlushTimer(uv_timer_t* timer) noexcept;
  static void onPrepare(uv_prepare_t* prepare) noexcept;
  static void onPumpIdle(uv_idle_t* idle) noexcept;

  void run();
  void handleConnection(int status);
  Connection* addConnection();
  void handleStop();
  void acceptBacklog();
  void drainAll();
  void tick();
  std::string connectionLimitReached() const;

  unsigned index_;
  const ServerOptions& options_;
  SharedServerState& shared_;
  WorkerCounters counters_;
  FramingDecoder decoder_;
  BufferPool pool_;
  std::shared_ptr<spdlog::logger> logger_;
  PayloadRenderer renderer_;
  LogEvents events_;
  std::string line_;

  // The handles and connections are declared before the loop so that the
  // loop (whose destructor finishes closing handles) goes first.
  uv_tcp_t listener_;
  uv_async_t stopRequest_;
  uv_timer_t tickTimer_;
  uv_timer_t flushTimer_;
  uv_prepare_t prepare_;
  uv_idle_t pumpIdle_;             ///< runs while pumpQueue_ has entries
  std::vector<ConnId> pumpQueue_;  ///< TLS connections to decrypt for (schedulePump)
  std::vector<std::byte> tlsScratch_;
  bool listening_ = false;
  bool stopping_ = false;
  std::atomic<std::chrono::steady_clock::time_point> drainDeadline_{};
  std::uint64_t turn_ = 0;
  TimingWheel wheel_;

  std::unordered_map<ConnId, std::unique_ptr<Connection>> connections_;
  ConnId nextId_;
  RefusalLog refusals_;
  LogRateLimiter acceptErrorLog_;
  UvLoop loop_;
  std::thread thread_;
};

}  // namespace uvframe
