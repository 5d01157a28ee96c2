// Worker: see worker.h.
#include "worker.h"

#include "block_sink.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#ifndef _WIN32
#include <sys/socket.h>
#endif

namespace uvframe {
namespace {

// How often the logger's block is handed to the writer when traffic is light,
// so a quiet server's last lines reach the file well within a second.
constexpr std::uint64_t kLogFlushIntervalMs = 100;

// Timeouts are checked by a sweep over the worker's connections: a few times
// per shortest timeout, at most once a second, at least every 50 ms.
std::uint64_t sweepIntervalMs(const ServerOptions& o) {
  double shortest = 4.0;
  if (o.idleTimeoutSeconds > 0) shortest = std::min(shortest, o.idleTimeoutSeconds);
  if (o.frameTimeoutSeconds > 0) shortest = std::min(shortest, o.frameTimeoutSeconds);
  double ms = shortest * 1000.0 / 4.0;
  return static_cast<std::uint64_t>(std::clamp(ms, 50.0, 1000.0));
}

}  // namespace

Worker::Worker(unsigned index, const ServerOptions& options, SharedServerState& shared,
               LogWriter& writer)
    : index_(index),
      options_(options),
      shared_(shared),
      decoder_(options.byteOrder, options.maxFrameBytes),
      pool_(options.readBufferBytes, inputMemoryPerWorker(options)),
      logger_(makeBlockLogger("server", writer, options.logLevel)),
      renderer_(options.payloadEncoding, options.maxLoggedBytes),
      // Connection ids are unique across workers: the worker index sits in
      // the top bits.
      nextId_(static_cast<ConnId>(index) << 48) {
  line_.reserve(options.maxLoggedBytes * 4 + 256);
  uv_loop_t* loop = loop_.get();
  uv_async_init(loop, &stopRequest_, onStopRequest);
  stopRequest_.data = this;
  uv_timer_init(loop, &sweepTimer_);
  sweepTimer_.data = this;
  uv_timer_init(loop, &flushTimer_);
  flushTimer_.data = this;
}

Worker::~Worker() {
  join();
  // UvLoop's destructor closes whatever is still open (nothing, after a
  // normal run) and runs the loop until it can be closed.
}

void Worker::listen(const sockaddr* address, bool reusePort) {
  // Create the socket now (uv_tcp_init_ex) so SO_REUSEPORT can be set before
  // bind: libuv 1.44 has no flag for it.
  int rc = uv_tcp_init_ex(loop_.get(), &listener_, address->sa_family);
  listener_.data = this;
  if (rc != 0) throw std::runtime_error("cannot create socket: " + uvErrorText(rc));
  listening_ = true;  // the handle is open from here on and must be closed
#ifdef SO_REUSEPORT
  if (reusePort) {
    uv_os_fd_t fd;
    int one = 1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&listener_), &fd) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      throw std::runtime_error("cannot set SO_REUSEPORT");
    }
  }
#else
  (void)reusePort;
#endif
  rc = uv_tcp_bind(&listener_, address, 0);
  if (rc == 0) {
    rc =
        uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), options_.listenBacklog, onConnection);
  }
  if (rc != 0) throw std::runtime_error(uvErrorText(rc));
}

std::uint16_t Worker::boundPort() {
  if (!listening_) return 0;
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
  return peer ? peer->port : 0;
}

void Worker::start() {
  uv_timer_start(&sweepTimer_, onSweepTimer, sweepIntervalMs(options_), sweepIntervalMs(options_));
  uv_timer_start(&flushTimer_, onFlushTimer, kLogFlushIntervalMs, kLogFlushIntervalMs);
  thread_ = std::thread([this] { run(); });
}

void Worker::requestStop() {
  uv_async_send(&stopRequest_);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  logger_->flush();
}

void Worker::onConnection(uv_stream_t* server, int status) noexcept {
  ownerOf<Worker>(server)->handleConnection(status);
}

void Worker::handleConnection(int status) {
  std::uint64_t now = uv_now(loop_.get());
  if (status < 0) {
    // EMFILE/ENFILE: libuv has already accepted and closed the waiting
    // connection with its reserve descriptor, so the backlog cannot wedge.
    bump(counters_.ioErrors);
    if (acceptErrorLog_.allow(now)) {
      logger_->warn("[tcp server] accept failed: {} (+{} more since the last report)",
                    uvErrorText(status), acceptErrorLog_.takeSuppressed());
    }
    return;
  }
  if (stopping_) return;
  ConnId id = nextId_++;
  auto owned = std::make_unique<Connection>(*this, id);
  Connection* conn = owned.get();
  connections_.emplace(id, std::move(owned));
  int rc = uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), conn->stream());
  if (rc != 0) {
    bump(counters_.ioErrors);
    logger_->debug("[tcp server] uv_accept failed: {}", uvErrorText(rc));
    conn->refuse();
    return;
  }
  if (std::string limit = connectionLimitReached(); !limit.empty()) {
    if (refusedLog_.allow(now)) {
      sockaddr_storage addr{};
      int len = sizeof addr;
      uv_tcp_getpeername(reinterpret_cast<uv_tcp_t*>(conn->stream()),
                         reinterpret_cast<sockaddr*>(&addr), &len);
      auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
      logger_->warn(
          "[tcp server] connection refused: ip={}, port={} ({}; +{} more refused since the last "
          "report)",
          peer ? peer->ip : "?", peer ? peer->port : 0, limit, refusedLog_.takeSuppressed());
    }
    conn->refuse();
    return;
  }
  conn->start();
}

// The limit that turns the next connection away, described for the log, or
// an empty string. Besides --max-connections, the server stops a few
// descriptors short of RLIMIT_NOFILE: past it, libuv's EMFILE fallback
// accepts and closes connections without telling the server (uv__server_io
// calls no callback when its reserve-descriptor trick succeeds), so the
// refusals would go unlogged and uncounted.
std::string Worker::connectionLimitReached() const {
  std::uint64_t open = shared_.openConnections.load(std::memory_order_relaxed);
  if (options_.maxConnections != 0 && open >= options_.maxConnections) {
    return fmt::format("max-connections={} reached", options_.maxConnections);
  }
  if (shared_.descriptorConnectionLimit != 0 && open >= shared_.descriptorConnectionLimit) {
    return fmt::format("out of descriptors: max-fds={} leaves room for {} connections",
                       shared_.maxDescriptors, shared_.descriptorConnectionLimit);
  }
  return {};
}

void Worker::onConnectionClosed(ConnId id) {
  connections_.erase(id);
}

void Worker::waitForMemory(ConnId id) {
  memoryWaiters_.push_back(id);
}

void Worker::onMemoryReleased() {
  // Let the longest waiter try again; if the budget is still short it will
  // queue up again at the back.
  while (!memoryWaiters_.empty()) {
    ConnId id = memoryWaiters_.front();
    memoryWaiters_.pop_front();
    auto it = connections_.find(id);
    if (it != connections_.end() && !it->second->isClosing()) {
      it->second->resumeAfterMemoryWait();
      return;
    }
  }
}

void Worker::onStopRequest(uv_async_t* async) noexcept {
  ownerOf<Worker>(async)->handleStop();
}

void Worker::handleStop() {
  if (stopping_) return;
  stopping_ = true;
  if (listening_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  listening_ = false;
  // Copy the ids: closing may resume memory waiters and touch the map.
  std::vector<ConnId> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, conn] : connections_)
    ids.push_back(id);
  for (ConnId id : ids) {
    auto it = connections_.find(id);
    if (it != connections_.end()) it->second->drainAndClose();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&stopRequest_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sweepTimer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flushTimer_), nullptr);
  logger_->flush();
}

void Worker::onSweepTimer(uv_timer_t* timer) noexcept {
  ownerOf<Worker>(timer)->sweep();
}

void Worker::sweep() {
  std::uint64_t now = uv_now(loop_.get());
  bool released = false;
  for (auto& [id, conn] : connections_) {
    conn->checkTimeouts(now);
    released |= conn->parkIfStalled(now);
  }
  if (released) onMemoryReleased();
  counters_.inputMemoryBytes.store(pool_.bytesLent(), std::memory_order_relaxed);
  // A waiter whose wake-up was lost (its memory went to another waiter that
  // then closed) gets another chance here.
  if (!memoryWaiters_.empty() && pool_.bytesLent() < pool_.budgetBytes()) onMemoryReleased();
}

void Worker::onFlushTimer(uv_timer_t* timer) noexcept {
  ownerOf<Worker>(timer)->logger_->flush();
}

}  // namespace uvframe
