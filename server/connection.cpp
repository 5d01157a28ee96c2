// Connection: see connection.h for the read path.
#include "connection.h"

#include <cassert>
#include <cstring>
#include <vector>

#ifndef _WIN32
#include <sys/socket.h>
#endif

#include "uv_handle.h"
#include "worker.h"

namespace uvframe {

std::string_view toString(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer closed";
    case CloseReason::kReset:
      return "reset";
    case CloseReason::kIdleTimeout:
      return "idle timeout";
    case CloseReason::kFrameTimeout:
      return "frame timeout";
    case CloseReason::kFrameTooLarge:
      return "frame too large";
    case CloseReason::kServerShutdown:
      return "server shutdown";
    case CloseReason::kReadError:
      return "read error";
    case CloseReason::kWriteError:
      return "write error";
    case CloseReason::kWriteTimeout:
      return "write timeout";
    case CloseReason::kRefused:
      return "refused";
  }
  return "unknown";
}

/// An echo that the socket did not take at once: its own copy of the bytes,
/// alive until libuv's write callback (which runs, with UV_ECANCELED, before
/// the close callback if the connection closes first).
struct Connection::EchoWrite {
  uv_write_t req;
  Connection* connection;
  std::vector<char> bytes;
};

Connection::Connection(Worker& worker, ConnId id) : worker_(worker), id_(id), ring_(worker.pool()) {
  // uv_tcp_init cannot fail on an initialised loop (it only sets fields).
  uv_tcp_init(worker.loop(), &tcp_);
  tcp_.data = this;
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
  tag_ = "[tcp/" + peer_.hostPort() + "] ";
  startMs_ = lastActivityMs_ = uv_now(worker_.loop());
  counted_ = true;
  worker_.shared().openConnections.fetch_add(1, std::memory_order_relaxed);
  announced_ = true;
  bump(worker_.counters().accepted);
  worker_.log().info("[tcp server] client connected: ip={}, port={}", peer_.ip, peer_.port);
  // Small frames are the common case; do not let Nagle delay echoes.
  uv_tcp_nodelay(&tcp_, 1);
  rc = uv_read_start(stream(), onAlloc, onRead);
  if (rc != 0) closeWithError(CloseReason::kReadError, rc);
}

void Connection::refuse() {
  bump(worker_.counters().refused);
  uv_close(handle(), onClose);
}

void Connection::close(CloseReason reason) {
  if (isClosing()) return;
  if (announced_) {
    double seconds = static_cast<double>(uv_now(worker_.loop()) - startMs_) / 1000.0;
    if (unfinishedBytes() == 0) {
      worker_.log().info(
          "[tcp server] client disconnected: ip={}, port={} (reason={}, frames={}, bytes={}, "
          "duration={:.3f}s)",
          peer_.ip, peer_.port, toString(reason), frames_, bytes_, seconds);
    } else {
      worker_.log().info(
          "[tcp server] client disconnected: ip={}, port={} (reason={}, frames={}, bytes={}, "
          "duration={:.3f}s, unfinished={} bytes)",
          peer_.ip, peer_.port, toString(reason), frames_, bytes_, seconds, unfinishedBytes());
    }
    bump(worker_.counters().closed);
  }
  switch (reason) {
    case CloseReason::kIdleTimeout:
    case CloseReason::kFrameTimeout:
      bump(worker_.counters().timeouts);
      break;
    case CloseReason::kFrameTooLarge:
      bump(worker_.counters().protocolErrors);
      break;
    case CloseReason::kReadError:
    case CloseReason::kWriteError:
      bump(worker_.counters().ioErrors);
      break;
    case CloseReason::kReset:
      bump(worker_.counters().resets);
      break;
    default:
      break;
  }
  uv_close(handle(), onClose);
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
  bool hadStorage = self->ring_.hasStorage();
  self->ring_.releaseStorage();
  if (self->counted_) {
    worker.shared().openConnections.fetch_sub(1, std::memory_order_relaxed);
  }
  worker.onConnectionClosed(self->id_);  // destroys *self
  if (hadStorage) worker.onMemoryReleased();
}

void Connection::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = ownerOf<Connection>(handle);
  // An empty span (the memory budget is spent) makes libuv report UV_ENOBUFS.
  std::span<std::byte> room = self->ring_.prepareWrite(self->pendingFrameBytes_);
  *buf = uv_buf_init(reinterpret_cast<char*>(room.data()), static_cast<unsigned>(room.size()));
}

void Connection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  ownerOf<Connection>(stream)->handleRead(nread, buf->len);
}

void Connection::handleRead(ssize_t nread, std::size_t offeredBytes) {
  if (nread > 0) {
    ring_.commit(static_cast<std::size_t>(nread));
    bytes_ += static_cast<std::uint64_t>(nread);
    bump(worker_.counters().bytes, static_cast<std::uint64_t>(nread));
    lastActivityMs_ = uv_now(worker_.loop());
    if (skimming_) {
      skim(static_cast<std::size_t>(nread));
    } else {
      processFrames();
    }
    // The socket is drained (the read did not fill the room offered) and
    // only a few bytes of the next frame are left: park them so the chunk
    // goes back to the pool until the peer sends more.
    if (static_cast<std::size_t>(nread) < offeredBytes && !isClosing() &&
        ring_.readableBytes() <= BufferPool::kSmallBlockBytes &&
        ring_.shrinkToFit(BufferPool::kSmallBlockBytes)) {
      worker_.onMemoryReleased();
    }
    return;
  }
  if (nread == 0) {  // EAGAIN: nothing this time
    releaseReadBuffer();
    return;
  }
  if (nread == UV_ENOBUFS) {
    pause(kPausedForMemory);
    bump(worker_.counters().memoryStalls);
    worker_.log().debug("[tcp server] input memory budget spent; pausing ip={}, port={}", peer_.ip,
                        peer_.port);
    worker_.waitForMemory(id_);
    return;
  }
  if (nread == UV_EOF) {
    close(CloseReason::kPeerClosed);
  } else if (nread == UV_ECONNRESET) {
    close(CloseReason::kReset);
  } else {
    closeWithError(CloseReason::kReadError, static_cast<int>(nread));
  }
}

// Parses every complete frame in the ring, logs each one in place, and keeps
// the unfinished tail (if any) for the next read.
void Connection::processFrames() {
  std::span<const std::byte> data = ring_.readable();
  const FrameDecoder& decoder = worker_.decoder();
  // One level check and one clock read per read, not per frame: the frames
  // of one read arrived together.
  const bool logMessages = worker_.log().should_log(spdlog::level::info);
  const auto now = logMessages ? spdlog::log_clock::now() : spdlog::log_clock::time_point{};
  std::size_t offset = 0;
  std::uint64_t frames = 0;
  DecodeResult r;
  while ((r = decoder.decode(data.subspan(offset))).status == DecodeResult::Status::kFrame) {
    if (logMessages) logFrame(r.payload, 0, now);
    offset += r.consumedBytes;
    ++frames;
  }
  frames_ += frames;
  bump(worker_.counters().frames, frames);
  const ServerOptions& o = worker_.options();
  if (o.echo && offset > 0) sendEcho(data.first(offset));
  ring_.consume(offset);
  if (r.status == DecodeResult::Status::kTooLarge) {
    rejectOversizedFrame(r.payloadBytes, ring_.readable());
    return;
  }
  pendingFrameBytes_ = r.frameBytes;
  if (pendingFrameBytes_ > worker_.pool().chunkBytes() && !o.echo &&
      kFrameHeaderBytes + o.maxLoggedBytes <= worker_.pool().chunkBytes() / 2) {
    startSkimming(static_cast<std::uint32_t>(pendingFrameBytes_ - kFrameHeaderBytes));
  }
  if (ring_.empty()) {
    hasPartial_ = false;
    pendingFrameBytes_ = 0;
    releaseReadBuffer();
  } else if (!hasPartial_ || frames > 0) {
    // A new frame has begun: its --frame-timeout clock starts now.
    hasPartial_ = true;
    partialSinceMs_ = uv_now(worker_.loop());
  }
}

// Starts skimming the partial frame that fills the ring (see connection.h):
// keeps the header and at most --max-logged-bytes of payload.
void Connection::startSkimming(std::uint32_t payloadBytes) {
  std::size_t have = ring_.readableBytes() - kFrameHeaderBytes;
  std::size_t keep = std::min<std::size_t>(have, worker_.options().maxLoggedBytes);
  ring_.unwrite(have - keep);
  skimming_ = true;
  skimPayloadBytes_ = payloadBytes;
  skimSeen_ = static_cast<std::uint32_t>(have);
  skimKept_ = static_cast<std::uint32_t>(keep);
  pendingFrameBytes_ = 0;  // no need to make room for the whole frame
}

// newBytes were just appended to the ring while skimming: keep what the log
// line still wants, drop the rest of this frame's payload in place, and once
// the frame is complete log it and parse whatever follows it.
void Connection::skim(std::size_t newBytes) {
  std::span<const std::byte> all = ring_.readable();
  auto* fresh = const_cast<std::byte*>(all.data() + all.size() - newBytes);
  std::size_t mine = std::min<std::size_t>(newBytes, skimPayloadBytes_ - skimSeen_);
  std::size_t wanted = std::min<std::size_t>(skimPayloadBytes_, worker_.options().maxLoggedBytes);
  std::size_t keep = std::min(mine, wanted - skimKept_);
  std::size_t drop = mine - keep;
  if (drop > 0) {
    // Only the bytes after this frame's end move, once per skimmed frame.
    std::memmove(fresh + keep, fresh + keep + drop, newBytes - keep - drop);
    ring_.unwrite(drop);
  }
  skimSeen_ += static_cast<std::uint32_t>(mine);
  skimKept_ += static_cast<std::uint32_t>(keep);
  if (skimSeen_ < skimPayloadBytes_) return;

  skimming_ = false;
  std::span<const std::byte> head = ring_.readable().subspan(kFrameHeaderBytes, skimKept_);
  if (worker_.log().should_log(spdlog::level::info)) {
    logFrame(head, skimPayloadBytes_, spdlog::log_clock::now());
  }
  ++frames_;
  bump(worker_.counters().frames);
  ring_.consume(kFrameHeaderBytes + skimKept_);
  hasPartial_ = false;
  processFrames();
}

void Connection::logFrame(std::span<const std::byte> payload, std::size_t totalBytes,
                          spdlog::log_clock::time_point when) {
  std::string& line = worker_.lineBuffer();
  line.assign(tag_);
  worker_.renderer().render(payload, line, totalBytes);
  worker_.log().log(when, spdlog::source_loc{}, spdlog::level::info, std::string_view(line));
}

void Connection::rejectOversizedFrame(std::uint32_t announcedBytes,
                                      std::span<const std::byte> sample) {
  std::string_view guess = guessForeignProtocol(sample);
  std::string shown;
  appendEscapedUtf8(sample.first(std::min<std::size_t>(sample.size(), 32)), shown);
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

// Sends complete frames back. The common case costs no copy: one
// uv_try_write straight from the ring. Whatever the socket does not take is
// copied (the ring will be reused) and queued; past the high-water mark the
// connection stops reading until the queue drains.
void Connection::sendEcho(std::span<const std::byte> frames) {
  if (isClosing()) return;
  if (queuedEchoBytes_ == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(frames.data())),
                               static_cast<unsigned>(frames.size()));
    int n = uv_try_write(stream(), &buf, 1);
    if (n == static_cast<int>(frames.size())) return;
    if (n < 0 && n != UV_EAGAIN) {
      closeWithError(CloseReason::kWriteError, n);
      return;
    }
    if (n > 0) frames = frames.subspan(static_cast<std::size_t>(n));
  }
  auto* w = new EchoWrite{
      {},
      this,
      std::vector<char>(reinterpret_cast<const char*>(frames.data()),
                        reinterpret_cast<const char*>(frames.data()) + frames.size())};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  int rc = uv_write(&w->req, stream(), &buf, 1, onWrite);
  if (rc != 0) {
    delete w;
    closeWithError(CloseReason::kWriteError, rc);
    return;
  }
  queuedEchoBytes_ += frames.size();
  if (queuedEchoBytes_ > worker_.options().echoHighWaterBytes) pause(kPausedForEcho);
}

void Connection::onWrite(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<EchoWrite*>(req->data);
  Connection* self = w->connection;
  std::size_t bytes = w->bytes.size();
  delete w;
  self->handleWriteDone(bytes, status);
}

void Connection::handleWriteDone(std::size_t bytes, int status) {
  queuedEchoBytes_ -= bytes;
  if (status == UV_ECANCELED || isClosing()) return;
  lastWriteProgressMs_ = uv_now(worker_.loop());
  if (status < 0) {
    closeWithError(CloseReason::kWriteError, status);
    return;
  }
  // Resume at half the mark so a peer hovering at the limit does not toggle
  // reading on and off at every write.
  if ((paused_ & kPausedForEcho) && queuedEchoBytes_ <= worker_.options().echoHighWaterBytes / 2) {
    resume(kPausedForEcho);
  }
}

void Connection::pause(std::uint8_t bit) {
  if (paused_ == 0) uv_read_stop(stream());
  if (bit == kPausedForEcho && !(paused_ & kPausedForEcho)) {
    lastWriteProgressMs_ = uv_now(worker_.loop());
  }
  paused_ |= bit;
}

void Connection::resume(std::uint8_t bit) {
  if (!(paused_ & bit) || isClosing()) return;
  paused_ &= static_cast<std::uint8_t>(~bit);
  if (paused_ == 0) {
    // The pause was the server's doing: the peer's clocks start again now.
    std::uint64_t now = uv_now(worker_.loop());
    lastActivityMs_ = now;
    if (hasPartial_) partialSinceMs_ = now;
    int rc = uv_read_start(stream(), onAlloc, onRead);
    if (rc != 0) closeWithError(CloseReason::kReadError, rc);
  }
}

void Connection::resumeAfterMemoryWait() {
  resume(kPausedForMemory);
}

void Connection::releaseReadBuffer() {
  if (ring_.hasStorage() && ring_.empty()) {
    ring_.releaseStorage();
    worker_.onMemoryReleased();
  }
}

void Connection::checkTimeouts(std::uint64_t nowMs) {
  if (isClosing() || !announced_) return;
  const ServerOptions& o = worker_.options();
  auto frameTimeoutMs = static_cast<std::uint64_t>(o.frameTimeoutSeconds * 1000);
  if (paused_ & kPausedForEcho) {
    // The server stopped reading because this peer does not read its echoes:
    // its clocks are the writes, not the reads. A peer that takes nothing
    // for a whole frame timeout is stuck or hostile.
    if (frameTimeoutMs > 0 && nowMs - lastWriteProgressMs_ >= frameTimeoutMs) {
      worker_.log().warn(
          "[tcp server] write timeout: ip={}, port={} has not read its echoes for {}s ({} bytes "
          "queued); closing connection",
          peer_.ip, peer_.port, o.frameTimeoutSeconds, queuedEchoBytes_);
      close(CloseReason::kWriteTimeout);
    }
    return;
  }
  // While waiting for memory the server, not the peer, is slow.
  if (paused_ != 0) return;
  if (frameTimeoutMs > 0 && hasPartial_ && nowMs - partialSinceMs_ >= frameTimeoutMs) {
    std::size_t frameBytes = skimming_ ? kFrameHeaderBytes + skimPayloadBytes_ : pendingFrameBytes_;
    worker_.log().warn(
        "[tcp server] frame timeout: ip={}, port={} sent {} of {} bytes of a frame within {}s; "
        "closing connection",
        peer_.ip, peer_.port, unfinishedBytes(),
        frameBytes == 0 ? std::string("its") : std::to_string(frameBytes), o.frameTimeoutSeconds);
    close(CloseReason::kFrameTimeout);
    return;
  }
  if (o.idleTimeoutSeconds > 0 &&
      nowMs - lastActivityMs_ >= static_cast<std::uint64_t>(o.idleTimeoutSeconds * 1000)) {
    close(CloseReason::kIdleTimeout);
  }
}

std::size_t Connection::unfinishedBytes() const {
  return skimming_ ? kFrameHeaderBytes + skimSeen_ : ring_.readableBytes();
}

bool Connection::parkIfStalled(std::uint64_t nowMs) {
  // A second of silence mid-frame: the peer is slow, stuck or hostile.
  constexpr std::uint64_t kParkAfterMs = 1000;
  if (isClosing() || !hasPartial_ || nowMs - lastActivityMs_ < kParkAfterMs) return false;
  return ring_.shrinkToFit(worker_.pool().chunkBytes() / 4);
}

void Connection::drainAndClose() {
  if (isClosing()) return;
#ifndef _WIN32
  // Whatever the kernel already holds for this socket was sent before the
  // shutdown: read it now (the socket is non-blocking) and log its frames.
  uv_os_fd_t fd;
  if (announced_ && uv_fileno(handle(), &fd) == 0) {
    while (!isClosing()) {
      std::span<std::byte> room = ring_.prepareWrite(pendingFrameBytes_);
      if (room.empty()) break;
      ssize_t n = ::recv(fd, room.data(), room.size(), 0);
      if (n <= 0) break;
      handleRead(static_cast<ssize_t>(n), room.size());
    }
  }
#endif
  close(CloseReason::kServerShutdown);
}

}  // namespace uvframe
