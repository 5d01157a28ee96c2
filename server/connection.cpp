// Connection: lifecycle and read path; see connection.h. Echo and half-close
// live in connection_echo.cpp, timeouts and the shutdown drain in
// connection_timeouts.cpp.
#include "connection.h"

#include <cassert>
#include <cstddef>

#include "uv_handle.h"
#include "worker.h"

namespace uvframe {

Connection::Connection(Worker& worker, ConnId id)
    : worker_(worker),
      id_(id),
      frames_(worker.pool(), worker.decoder(), worker.options().maxLoggedBytes,
              worker.options().echo) {
  // uv_tcp_init cannot fail on an initialised loop (it only sets fields).
  uv_tcp_init(worker.loop(), &tcp_);
  tcp_.data = this;
  frames_.ring().setOwnerId(id);
}

Connection::~Connection() {
  assert(isClosing());
}

void Connection::start() {
  sockaddr_storage addr{};
  int len = sizeof addr;
  int rc = uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len);
  auto peer = rc == 0 ? peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr)) : std::nullopt;
  if (!peer) {
    // The peer left between accept and now; there is nobody to log about.
    worker_.log().debug("[tcp server] accepted socket has no peer address: {}",
                        rc == 0 ? "unknown family" : uvErrorText(rc));
    close(CloseReason::kPeerClosed);
    return;
  }
  peer_ = std::move(*peer);
  startMs_ = lastActivityMs_ = uv_now(worker_.loop());
  counted_ = true;
  worker_.shared().openConnections.fetch_add(1, std::memory_order_relaxed);
  const ServerOptions& o = worker_.options();
  if (auto context = worker_.shared().tls.get(worker_.index())) {
    tls_ = std::make_unique<TlsSession>(*context);
  }
  if (o.proxyProtocol == ProxyMode::kOff) {
    if (!becomeClient(nullptr)) return;
  } else if (!worker_.shared().trustedProxies.contains(reinterpret_cast<sockaddr*>(&addr))) {
    refuseEarly(CloseReason::kUntrustedProxy, "not in --trusted-proxies");
    return;
  } else {
    proxy_ = std::make_unique<ProxyHeaderParser>(
        o.proxyProtocol == ProxyMode::kV1   ? ProxyVersions::kV1
        : o.proxyProtocol == ProxyMode::kV2 ? ProxyVersions::kV2
                                            : ProxyVersions::kAny);
  }
  // Small frames are the common case; do not let Nagle delay echoes.
  uv_tcp_nodelay(&tcp_, 1);
  if (o.tcpKeepaliveSeconds > 0) uv_tcp_keepalive(&tcp_, 1, o.tcpKeepaliveSeconds);
  rc = uv_read_start(stream(), onAlloc, onRead);
  if (rc != 0) {
    closeWithError(CloseReason::kReadError, rc);
    return;
  }
  rearm();
}

void Connection::announce(const PeerAddress* via) {
  tag_ = worker_.events().messagePrefix(peer_);
  announced_ = true;
  bump(worker_.counters().accepted);
  if (!worker_.log().should_log(spdlog::level::info)) return;
  // Details: (via=PROXY, tls=VERSION, subject=CLIENT CERTIFICATE), each if known.
  const std::string viaText = via != nullptr ? via->hostPort() : std::string();
  std::string_view tlsVersion;
  std::string subject;
  if (tls_) {
    tlsVersion = tls_->version();
    subject = tls_->peerSubject();
  }
  std::string& line = worker_.lineBuffer();
  line.clear();
  worker_.events().appendConnected(line, peer_, ConnectedDetails{viaText, tlsVersion, subject});
  worker_.log().info(std::string_view(line));
}

bool Connection::takeProxyHeader() {
  std::size_t used = proxy_->feed(frames_.unread());
  frames_.dropFront(used);
  switch (proxy_->status()) {
    case ProxyHeaderParser::Status::kNeedMore:
      // Every byte so far was header: nothing is held for the next read.
      if (frames_.endRead().released) worker_.onMemoryReleased();
      rearm();
      return false;
    case ProxyHeaderParser::Status::kError:
      refuseEarly(CloseReason::kBadProxyHeader, proxy_->error());
      return false;
    case ProxyHeaderParser::Status::kDone:
      break;
  }
  return finishProxyHeader();
}

bool Connection::finishProxyHeader() {
  const ProxyHeader& header = proxy_->result();
  std::optional<PeerAddress> via;
  if (!header.local && header.source) {
    via = std::move(peer_);
    peer_ = *header.source;
  }  // else a health check, or UNKNOWN: the proxy itself
  proxy_.reset();
  return becomeClient(via ? &*via : nullptr);
}

bool Connection::becomeClient(const PeerAddress* via) {
  if (!admit()) return false;
  if (!tls_) {
    announce(via);
    return true;
  }
  // The connected line waits for the handshake (connection_tls.cpp).
  if (via != nullptr) via_ = std::make_unique<PeerAddress>(*via);
  if (tls_->state() == TlsState::kFailed) {
    refuseEarly(CloseReason::kTlsHandshakeFailed, tls_->failureReason());
    return false;
  }
  return true;
}

bool Connection::admit() {
  SharedServerState& shared = worker_.shared();
  const ServerOptions& o = worker_.options();
  if (!shared.deny.empty() && shared.deny.contains(peer_)) {
    refuseEarly(CloseReason::kNotAllowed, "in --deny");
    return false;
  }
  if (!shared.allow.empty() && !shared.allow.contains(peer_)) {
    refuseEarly(CloseReason::kNotAllowed, "not in --allow");
    return false;
  }
  if (o.maxConnectionsPerIp == 0 && o.maxFrameRate <= 0 && o.maxByteRate == 0) return true;
  limits_ = std::make_unique<Limits>();
  if (o.maxConnectionsPerIp > 0) {
    auto key = IpConnectionCounter::keyOf(peer_.ip);
    if (key && !shared.connectionsPerIp.tryAdd(*key, o.maxConnectionsPerIp)) {
      refuseEarly(CloseReason::kTooManyFromIp,
                  fmt::format("max-connections-per-ip={}", o.maxConnectionsPerIp));
      return false;
    }
    limits_->countedIp = key;
  }
  const std::uint64_t now = uv_now(worker_.loop());
  if (o.maxFrameRate > 0) limits_->frames.emplace(o.maxFrameRate, now);
  if (o.maxByteRate > 0) limits_->bytes.emplace(static_cast<double>(o.maxByteRate), now);
  return true;
}

void Connection::chargeRate(std::size_t bytes, std::uint64_t frames) {
  if (isClosing() || (!limits_->frames && !limits_->bytes)) return;
  const std::uint64_t now = uv_now(worker_.loop());
  std::uint64_t waitMs = 0;
  if (limits_->frames) {
    limits_->frames->take(static_cast<double>(frames), now);
    waitMs = std::max(waitMs, limits_->frames->msUntilPositive(now));
  }
  if (limits_->bytes) {
    limits_->bytes->take(static_cast<double>(bytes), now);
    waitMs = std::max(waitMs, limits_->bytes->msUntilPositive(now));
  }
  if (waitMs == 0) return;
  limits_->resumeAtMs = now + waitMs;
  if (!(paused_ & kPausedForRate)) {
    pause(kPausedForRate);
    bump(worker_.counters().ratePauses);
  }
}

void Connection::refuseEarly(CloseReason reason, std::string_view detail) {
  worker_.reportRefused(reason, peer_.ip, peer_.port, detail);
  close(reason);
}

void Connection::refuse() {
  uv_close(handle(), onClose);
}

void Connection::close(CloseReason reason) {
  if (isClosing()) return;
  if (announced_) logDisconnected(reason);
  countClose(reason);
  worker_.wheel().cancel(timer_);
  if (tls_ && tls_->handshakeDone() && tls_->state() != TlsState::kFailed) {
    tls_->shutdown();  // close_notify, if the socket takes it now
    flushTlsBestEffort();
  }
  if (limits_ && limits_->countedIp) {
    worker_.shared().connectionsPerIp.remove(*limits_->countedIp);
    limits_->countedIp.reset();
  }
  uv_close(handle(), onClose);
  // The frames are logged and nothing more will be read: the storage goes
  // back now, not a loop turn later, so waiting peers (or the rest of a
  // shutdown drain) can use it at once.
  if (frames_.ring().hasStorage()) {
    frames_.ring().releaseStorage();
    worker_.onMemoryReleased();
  }
}

void Connection::logDisconnected(CloseReason reason) {
  if (worker_.log().should_log(spdlog::level::info)) {
    DisconnectedDetails d;
    d.reason = toString(reason);
    d.frames = frameCount_;
    d.bytes = bytes_;
    d.durationSeconds = static_cast<double>(uv_now(worker_.loop()) - startMs_) / 1000.0;
    d.unfinishedBytes = frames_.unfinishedBytes();
    std::string& line = worker_.lineBuffer();
    line.clear();
    worker_.events().appendDisconnected(line, peer_, d);
    worker_.log().info(std::string_view(line));
  }
  bump(worker_.counters().closed);
}

void Connection::countClose(CloseReason reason) {
  WorkerCounters& c = worker_.counters();
  if (announced_) bump(c.closedBy[static_cast<std::size_t>(reason)]);
  switch (reason) {
    case CloseReason::kIdleTimeout:
    case CloseReason::kFrameTimeout:
    case CloseReason::kWriteTimeout:
      bump(c.timeouts);
      break;
    case CloseReason::kFrameTooLarge:
      bump(c.protocolErrors);
      break;
    case CloseReason::kReadError:
    case CloseReason::kWriteError:
      bump(c.ioErrors);
      break;
    case CloseReason::kReset:
      bump(c.resets);
      break;
    default:
      break;
  }
}

void Connection::closeWithError(CloseReason reason, int status) {
  if (isClosing()) return;
  worker_.log().warn("[tcp server] {} on ip={}, port={}: {}", toString(reason), peer_.ip,
                     peer_.port, uvErrorText(status));
  close(reason);
}

void Connection::onClose(uv_handle_t* handle) noexcept {
  auto* self = ownerOf<Connection>(handle);
  Worker& worker = self->worker_;
  if (self->counted_) {
    worker.shared().openConnections.fetch_sub(1, std::memory_order_relaxed);
  }
  worker.onConnectionClosed(self->id_);  // destroys *self
}

void Connection::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = ownerOf<Connection>(handle);
  std::span<std::byte> room = self->tls_ ? self->roomForCiphertext() : self->roomForRead();
  // An empty span makes libuv report UV_ENOBUFS and end this read callback.
  *buf = uv_buf_init(reinterpret_cast<char*>(room.data()), static_cast<unsigned>(room.size()));
}

bool Connection::turnIsOver() {
  // Fair turns: one chunk per connection per loop turn. libuv would read up
  // to 32 times in one callback; offering no room ends it, and the socket,
  // still in epoll, is read again next turn after every other ready peer.
  std::uint64_t turn = worker_.turn();
  if (turn != turn_) {
    turn_ = turn;
    turnBytes_ = 0;
  }
  if (turnBytes_ >= worker_.pool().chunkBytes() && !worker_.stopping()) {
    yielded_ = true;
    return true;
  }
  return false;
}

std::span<std::byte> Connection::roomForRead() {
  if (turnIsOver()) return {};
  return capToByteRate(frames_.prepareRead());
}

std::span<std::byte> Connection::capToByteRate(std::span<std::byte> room) {
  if (limits_ && limits_->bytes && !room.empty()) {
    // --max-byte-rate: read no more than the budget holds (at least a byte),
    // so the peer is slowed smoothly instead of in bursts of a chunk.
    double budget = limits_->bytes->available(uv_now(worker_.loop()));
    std::size_t cap = budget >= 1 ? static_cast<std::size_t>(budget) : 1;
    if (cap < room.size()) room = room.first(cap);
  }
  return room;
}

void Connection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  ownerOf<Connection>(stream)->handleRead(nread, *buf);
}

void Connection::handleRead(ssize_t nread, const uv_buf_t& buf) {
  if (nread > 0 && tls_) {
    handleCipherRead(static_cast<std::size_t>(nread), reinterpret_cast<std::byte*>(buf.base));
  } else if (nread > 0) {
    handleBytes(static_cast<std::size_t>(nread), buf.len);
  } else if (nread == 0) {
    // EAGAIN: nothing this time.
  } else if (nread == UV_ENOBUFS) {
    if (yielded_) {
      yielded_ = false;  // turn over; reading resumes next turn by itself
    } else {
      waitForMemory();
    }
  } else {
    handleReadEnd(nread);
  }
}

void Connection::handleBytes(std::size_t n, std::size_t offeredBytes) {
  bytes_ += n;
  turnBytes_ += n;
  bump(worker_.counters().bytes, n);
  lastActivityMs_ = uv_now(worker_.loop());
  frames_.commit(n);
  if (proxy_ && !takeProxyHeader()) return;
  // One level check and one clock read per read, not per frame: the frames
  // of one read arrived together.
  const bool logMessages = worker_.log().should_log(spdlog::level::info);
  const auto now = logMessages ? spdlog::log_clock::now() : spdlog::log_clock::time_point{};
  std::uint64_t count = 0;
  std::uint64_t payloadBytes = 0;
  WorkerCounters& counters = worker_.counters();
  // --max-frame-rate: log no more frames than the budget holds; the rest
  // stay in the ring, and reading stops until the budget refills.
  // A shutdown logs everything received, whatever the budget says.
  std::uint64_t frameBudget = UINT64_MAX;
  if (limits_ && limits_->frames && !worker_.stopping()) {
    double tokens = limits_->frames->available(lastActivityMs_);
    frameBudget = tokens >= 1 ? static_cast<std::uint64_t>(tokens) : 0;
  }
  FrameReassembler::Frame f;
  while (count < frameBudget && frames_.next(f)) {
    if (logMessages) logFrame(f.payload, f.payloadBytes, now);
    bump(counters.frameSizes[frameSizeBucket(f.payloadBytes)]);
    payloadBytes += f.payloadBytes;
    ++count;
  }
  frameCount_ += count;
  bump(counters.frames, count);
  bump(counters.payloadBytes, payloadBytes);
  if (worker_.options().echo && count > 0) {
    sendEcho(frames_.wholeFrames());
    if (isClosing()) return;  // the write failed: close() took the storage back
  }
  FrameReassembler::ReadEnd end = frames_.endRead();
  if (end.tooLarge) {
    rejectOversizedFrame(end.announced);
    return;
  }
  if (end.badHeader) {
    rejectBadHeader(end.badHeaderReason);
    return;
  }
  if (end.newFrameBegan) partialSinceMs_ = lastActivityMs_;
  bool released = end.released;
  const bool socketHasMore = n >= offeredBytes;
  const bool turnOver = turnBytes_ >= worker_.pool().chunkBytes();
  if (isClosing()) return;
  if (worker_.pool().hasWaiters()) {
    giveBackWhileOthersWait(socketHasMore);
  } else if ((!socketHasMore || turnOver) &&
             frames_.ring().readableBytes() <= BufferPool::kSmallBlockBytes &&
             frames_.ring().shrinkToFit(BufferPool::kSmallBlockBytes)) {
    // The socket is drained, or this peer's turn is over, and only a few
    // bytes of the next frame are left: park them so the chunk goes back
    // until the next read (10,000 busy peers would otherwise each hold a
    // chunk between turns).
    released = true;
  }
  if (released) worker_.onMemoryReleased();
  if (limits_) chargeRate(n, count);
  if (ageDue_ && closeIfAged()) return;
  rearm();
}

// Rule 4 of the memory rule: while others wait, a peer that finished a read
// keeps only what its unfinished frame needs, and if it has more to read it
// queues behind them instead of taking memory ahead of them.
void Connection::giveBackWhileOthersWait(bool socketHasMore) {
  RingBuffer& ring = frames_.ring();
  if (ring.giveBackSurplus()) worker_.onMemoryReleased();
  if (socketHasMore && ring.capacity() < worker_.pool().chunkBytes() && !isClosing() &&
      !waitingForMemory()) {
    pause(kPausedForMemory);
    worker_.pool().wait(id_, worker_.pool().chunkBytes());
  }
}

void Connection::waitForMemory() {
  if (waitingForMemory()) return;
  pause(kPausedForMemory);
  bump(worker_.counters().memoryStalls);
  worker_.log().debug("[tcp server] input memory budget spent; pausing ip={}, port={}", peer_.ip,
                      peer_.port);
  worker_.pool().wait(id_, worker_.pool().lastRefusedBytes());
  rearm();
}

void Connection::handleReadEnd(ssize_t status) {
  if (status == UV_EOF) {
    handlePeerHalfClosed();
  } else if (status == UV_ECONNRESET) {
    close(CloseReason::kReset);
  } else {
    closeWithError(CloseReason::kReadError, static_cast<int>(status));
  }
}

void Connection::logFrame(std::span<const std::byte> payload, std::size_t totalBytes,
                          spdlog::log_clock::time_point when) {
  std::string& line = worker_.lineBuffer();
  line.assign(tag_);
  worker_.events().appendMessage(line, worker_.renderer(), payload, totalBytes);
  worker_.log().log(when, spdlog::source_loc{}, spdlog::level::info, std::string_view(line));
}

std::string Connection::firstUnreadBytesShown() const {
  std::span<const std::byte> sample = frames_.unread();
  std::string shown;
  appendEscapedUtf8(sample.first(std::min<std::size_t>(sample.size(), 32)), shown);
  return shown;
}

void Connection::rejectBadHeader(std::string_view why) {
  std::string shown = firstUnreadBytesShown();
  worker_.log().warn(
      "[tcp server] bad frame header: ip={}, port={}, {} ({}, first bytes \"{}\"); closing "
      "connection",
      peer_.ip, peer_.port, why, describeFraming(worker_.options().framing), shown);
  close(CloseReason::kBadHeader);
}

void Connection::rejectOversizedFrame(std::uint64_t announcedBytes) {
  // Only the seed's own framing is worth guessing about: a foreign protocol
  // read as a 4-byte length is the common mistake.
  std::string_view guess = worker_.options().framing.kind == FramingKind::kLength
                               ? guessForeignProtocol(frames_.unread())
                               : std::string_view{};
  std::string shown = firstUnreadBytesShown();
  const auto maxFrame = worker_.options().maxFrameBytes;
  if (guess.empty()) {
    worker_.log().warn(
        "[tcp server] frame too large: ip={}, port={}, length={} (max-frame={}, first bytes "
        "\"{}\"); closing connection",
        peer_.ip, peer_.port, announcedBytes, maxFrame, shown);
  } else {
    worker_.log().warn(
        "[tcp server] frame too large: ip={}, port={}, length={} (max-frame={}); looks like {} "
        "(first bytes \"{}\"); closing connection",
        peer_.ip, peer_.port, announcedBytes, maxFrame, guess, shown);
  }
  close(CloseReason::kFrameTooLarge);
}

void Connection::pause(std::uint8_t bit) {
  if (paused_ == 0 && !halfClosed_) uv_read_stop(stream());
  if (bit == kPausedForEcho && !(paused_ & kPausedForEcho)) {
    lastWriteProgressMs_ = uv_now(worker_.loop());
  }
  paused_ |= bit;
}

void Connection::resume(std::uint8_t bit) {
  if (!(paused_ & bit) || isClosing()) return;
  paused_ &= static_cast<std::uint8_t>(~bit);
  if (paused_ != 0 || halfClosed_) return;
  // The server chose not to read: the peer's idle clock starts again now.
  // Its frame clock starts again after an echo or rate pause, but ran on
  // while it waited for memory (rule 6 in buffer_pool.h).
  std::uint64_t now = uv_now(worker_.loop());
  lastActivityMs_ = now;
  if (bit != kPausedForMemory && frames_.hasPartial()) partialSinceMs_ = now;
  int rc = uv_read_start(stream(), onAlloc, onRead);
  if (rc != 0) {
    closeWithError(CloseReason::kReadError, rc);
    return;
  }
  // Received bytes the TLS session still holds: the socket may stay quiet.
  if (tls_ && tls_->hasInput()) worker_.schedulePump(id_);
}

void Connection::resumeAfterMemoryWait() {
  resume(kPausedForMemory);
}

}  // namespace uvframe
