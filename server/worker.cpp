// Worker: see worker.h.
#include "worker.h"

#include "block_sink.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#ifndef _WIN32
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace uvframe {
namespace {

// How often the logger's block is handed to the writer when traffic is light,
// so a quiet server's last lines reach the file well within a second.
constexpr std::uint64_t kLogFlushIntervalMs = 100;

// The timing wheel's tick: a tenth of the shortest timeout, between 10 and
// 100 ms; 1024 slots cover 100 s at the usual tick, longer than the usual
// timeouts (longer ones take more than one revolution, which the wheel
// handles).
std::uint64_t wheelTickMs(const ServerOptions& o) {
  double shortest = 1.0;
  for (double t : {o.idleTimeoutSeconds, o.frameTimeoutSeconds, o.writeTimeoutSeconds}) {
    if (t > 0) shortest = std::min(shortest, t);
  }
  // Rate-limited peers resume when their budget refills: a fine tick.
  if (o.maxFrameRate > 0 || o.maxByteRate > 0) shortest = 0.1;
  return static_cast<std::uint64_t>(std::clamp(shortest * 100.0, 10.0, 100.0));
}
constexpr std::size_t kWheelSlots = 1024;

}  // namespace

Worker::Worker(unsigned index, const ServerOptions& options, SharedServerState& shared,
               LogWriter& writer)
    : index_(index),
      options_(options),
      shared_(shared),
      decoder_(options.framing),
      pool_(options.readBufferBytes, inputMemoryPerWorker(options)),
      logger_(makeBlockLogger("server", writer, options.logLevel, /*neverWait=*/false,
                              options.logFormat)),
      renderer_(options.payloadEncoding, options.maxLoggedBytes),
      events_(options.logFormat, options.maxLoggedBytes, options.payloadEncoding),
      wheel_(wheelTickMs(options), kWheelSlots, uv_hrtime() / 1000000),
      // Connection ids are unique across workers: the worker index sits in
      // the top bits.
      nextId_((static_cast<ConnId>(index) << 48) + 1) {
  line_.reserve(options.maxLoggedBytes * 4 + 256);
  pool_.setGrowthReserve(growthReserveBytes(options));
  uv_loop_t* loop = loop_.get();
  uv_async_init(loop, &stopRequest_, onStopRequest);
  stopRequest_.data = this;
  uv_timer_init(loop, &tickTimer_);
  tickTimer_.data = this;
  uv_timer_init(loop, &flushTimer_);
  flushTimer_.data = this;
  uv_prepare_init(loop, &prepare_);
  prepare_.data = this;
  uv_idle_init(loop, &pumpIdle_);
  pumpIdle_.data = this;
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

void Worker::start(std::function<void()> onDone) {
  uv_timer_start(&tickTimer_, onTickTimer, wheel_.tickMs(), wheel_.tickMs());
  uv_timer_start(&flushTimer_, onFlushTimer, kLogFlushIntervalMs, kLogFlushIntervalMs);
  uv_prepare_start(&prepare_, onPrepare);
  thread_ = std::thread([this, onDone = std::move(onDone)] {
    run();
    if (onDone) onDone();
  });
}

void Worker::requestStop(std::chrono::steady_clock::time_point drainDeadline) {
  drainDeadline_.store(drainDeadline);
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
  Connection* conn = addConnection();
  int rc = uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), conn->stream());
  if (rc != 0) {
    bump(counters_.ioErrors);
    logger_->debug("[tcp server] uv_accept failed: {}", uvErrorText(rc));
    conn->refuse();
    return;
  }
  if (std::string limit = connectionLimitReached(); !limit.empty()) {
    sockaddr_storage addr{};
    int len = sizeof addr;
    uv_tcp_getpeername(conn->tcp(), reinterpret_cast<sockaddr*>(&addr), &len);
    auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
    reportRefused(CloseReason::kRefused, peer ? std::string_view(peer->ip) : "?",
                  peer ? peer->port : 0, limit);
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

void Worker::reportRefused(CloseReason reason, std::string_view ip, std::uint16_t port,
                           std::string_view detail) {
  bump(counters_.refused);
  bump(counters_.refusedBy[static_cast<std::size_t>(reason)]);
  refusals_.report(*logger_, uv_now(loop_.get()), reason, ip, port, detail);
}

Connection* Worker::addConnection() {
  ConnId id = nextId_++;
  auto owned = std::make_unique<Connection>(*this, id);
  Connection* conn = owned.get();
  connections_.emplace(id, std::move(owned));
  return conn;
}

void Worker::onConnectionClosed(ConnId id) {
  connections_.erase(id);
}

void Worker::onMemoryReleased() {
  if (!pool_.hasWaiters() || stopping_) return;
  auto stillWaiting = [this](std::uint64_t id) {
    auto it = connections_.find(id);
    return it != connections_.end() && !it->second->isClosing() && it->second->waitingForMemory();
  };
  for (std::uint64_t id : pool_.takeWakeable(stillWaiting)) {
    connections_.find(id)->second->resumeAfterMemoryWait();
  }
}

void Worker::onStopRequest(uv_async_t* async) noexcept {
  ownerOf<Worker>(async)->handleStop();
}

void Worker::handleStop() {
  if (stopping_) return;
  stopping_ = true;
  if (listening_) {
    acceptBacklog();
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  listening_ = false;
  drainAll();
  uv_close(reinterpret_cast<uv_handle_t*>(&stopRequest_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tickTimer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flushTimer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&pumpIdle_), nullptr);
  logger_->flush();
}

// Connections the kernel completed before the shutdown wait in the listening
// socket's backlog; closing the socket would reset them unlogged. Take them
// in (with the descriptor limit as the only bound) so the drain logs their
// frames too.
void Worker::acceptBacklog() {
#ifndef _WIN32
  uv_os_fd_t listenFd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&listener_), &listenFd) != 0) return;
  while (true) {
    int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;  // EAGAIN: the backlog is empty (or out of descriptors)
    Connection* conn = addConnection();
    int rc = uv_tcp_open(conn->tcp(), fd);
    if (rc != 0) {
      ::close(fd);
      bump(counters_.ioErrors);
      conn->refuse();
      continue;
    }
    conn->start();
  }
#endif
}

// Reads and logs what the kernel held for each connection at the signal, at
// most until --drain-timeout, then closes them all. A connection the memory
// rule stops is tried again once the others have closed and given their
// storage back; whatever is still unread is reported, never dropped silently.
void Worker::drainAll() {
  std::vector<ConnId> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, conn] : connections_) {
    conn->noteBytesBeforeShutdown();
    ids.push_back(id);
  }
  // The deadline runs from the signal, not from now: a worker that was
  // waiting for the log may get here late.
  uv_update_time(loop_.get());
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      drainDeadline_.load() - std::chrono::steady_clock::now());
  const std::uint64_t deadline =
      uv_now(loop_.get()) +
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, remaining.count()));
  std::uint64_t unreadBytes = 0, unreadConnections = 0;
  bool timedOut = false;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<ConnId> retry;
    for (ConnId id : ids) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      std::uint64_t left = it->second->drainUntil(deadline);
      timedOut = timedOut || uv_now(loop_.get()) >= deadline;
      if (left > 0 && pass == 0 && !timedOut) {
        retry.push_back(id);
        continue;
      }
      if (left > 0) {
        unreadBytes += left;
        ++unreadConnections;
      }
      it->second->close(CloseReason::kServerShutdown);
    }
    ids = std::move(retry);
  }
  if (unreadConnections > 0) {
    logger_->warn(
        "[tcp server] drain: {} connections closed with {} bytes they sent before the shutdown "
        "unread ({})",
        unreadConnections, unreadBytes,
        timedOut ? fmt::format("--drain-timeout {}s reached", options_.drainTimeoutSeconds)
                 : std::string("input memory budget spent"));
  }
}

std::span<std::byte> Worker::tlsScratch() {
  // One TLS record at most (2^14 bytes of plaintext, 256 of expansion, a
  // 5-byte header): what a paused peer's session can hold beyond its ring.
  constexpr std::size_t kTlsReadBytes = 17 * 1024;
  if (tlsScratch_.empty()) tlsScratch_.resize(std::min(options_.readBufferBytes, kTlsReadBytes));
  return tlsScratch_;
}

void Worker::schedulePump(ConnId id) {
  if (stopping_) return;  // the drain reads every connection itself
  if (pumpQueue_.empty()) uv_idle_start(&pumpIdle_, onPumpIdle);
  pumpQueue_.push_back(id);
}

void Worker::onPumpIdle(uv_idle_t* idle) noexcept {
  auto* self = ownerOf<Worker>(idle);
  std::vector<ConnId> due;
  due.swap(self->pumpQueue_);
  for (ConnId id : due) {
    auto it = self->connections_.find(id);
    if (it != self->connections_.end() && !it->second->isClosing()) it->second->pumpTls();
  }
  if (self->pumpQueue_.empty() && !uv_is_closing(reinterpret_cast<uv_handle_t*>(idle))) {
    uv_idle_stop(idle);
  }
}

void Worker::onTickTimer(uv_timer_t* timer) noexcept {
  ownerOf<Worker>(timer)->tick();
}

void Worker::onPrepare(uv_prepare_t* prepare) noexcept {
  ++ownerOf<Worker>(prepare)->turn_;
}

void Worker::tick() {
  std::uint64_t now = uv_now(loop_.get());
  wheel_.advance(now,
                 [now](TimingWheel::Node& node) { Connection::fromTimer(node)->handleTimer(now); });
  counters_.inputMemoryBytes.store(pool_.bytesHeld(), std::memory_order_relaxed);
  pool_.expireTokenPromise();
  // A waiter whose wake-up was lost (its memory went to another waiter that
  // then closed) gets another chance here.
  onMemoryReleased();
}

void Worker::onFlushTimer(uv_timer_t* timer) noexcept {
  ownerOf<Worker>(timer)->logger_->flush();
}

}  // namespace uvframe
