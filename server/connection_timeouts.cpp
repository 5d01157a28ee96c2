// Connection: timeouts and the shutdown drain (see connection.h).
//
// Each connection has one node in its worker's TimingWheel, armed for its
// earliest deadline: idle (silence), frame (a started frame unfinished),
// write (echo bytes the peer does not take), park (a second of silence
// mid-frame gives the chunk back), proxy (the PROXY header must be complete
// within --proxy-timeout), age (--max-connection-age: closed after its
// current frame). Activity moves no node: when the node
// fires, the connection recomputes its deadlines and re-arms, so the wheel's
// cost follows the deadlines due, not the connections held.
//
// A peer is timed by what it did, not by when the loop last looked: before a
// read timeout closes a peer, the bytes the kernel already holds for its
// socket count as activity (after a stall of the server's own — a slow disk,
// SIGSTOP — those bytes arrived in time and are read and logged next). The
// exception is a peer waiting for memory mid-frame: its frame clock runs on
// (rule 6 in buffer_pool.h), because the frame it holds may be what the
// budget cannot complete.
#include <algorithm>
#include <limits>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <sys/ioctl.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h>  // SIOCOUTQ: bytes in the socket's send queue
#endif
#endif

#include "connection.h"
#include "worker.h"

namespace uvframe {
namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// A second of silence mid-frame: the peer is slow, stuck or hostile; its
// partial frame moves to a block of its own size.
constexpr std::uint64_t kParkAfterMs = 1000;
// --max-connection-age: how long past due a peer that keeps sending may
// hold off its close by always having bytes in flight.
constexpr std::uint64_t kAgeGraceMs = 5000;
// With --frame-timeout 0, how long a peer may wait for memory mid-frame.
constexpr std::uint64_t kMemoryWaitMs = 60'000;

std::uint64_t ms(double seconds) {
  return static_cast<std::uint64_t>(seconds * 1000.0);
}

}  // namespace

std::uint64_t Connection::nextDeadlineMs() const {
  if (isClosing()) return kNever;
  const ServerOptions& o = worker_.options();
  if (proxy_) return startMs_ + ms(o.proxyTimeoutSeconds);
  if (!announced_) return tls_ ? startMs_ + ms(o.tlsHandshakeTimeoutSeconds) : kNever;
  std::uint64_t next = kNever;
  // A TLS session gives its buffers back after a second of silence.
  if (tlsBuffersHeld_) next = lastActivityMs_ + kParkAfterMs;
  if (o.maxConnectionAgeSeconds > 0 && !ageDue_) {
    next = startMs_ + ms(o.maxConnectionAgeSeconds);
  }
  if (queuedEchoBytes_ > 0 && o.writeTimeoutSeconds > 0) {
    next = std::min(next, lastWriteProgressMs_ + ms(o.writeTimeoutSeconds));
  }
  if (halfClosed_) return next;
  if (paused_ & kPausedForRate) next = std::min(next, limits_->resumeAtMs);
  if (frames_.hasPartial() && !(paused_ & (kPausedForEcho | kPausedForRate))) {
    if (o.frameTimeoutSeconds > 0) {
      next = std::min(next, partialSinceMs_ + ms(o.frameTimeoutSeconds));
    } else if (paused_ & kPausedForMemory) {
      next = std::min(next, partialSinceMs_ + kMemoryWaitMs);
    }
    if (frames_.ring().capacity() >= worker_.pool().chunkBytes()) {
      next = std::min(next, lastActivityMs_ + kParkAfterMs);
    }
  }
  if (paused_ == 0 && o.idleTimeoutSeconds > 0) {
    next = std::min(next, lastActivityMs_ + ms(o.idleTimeoutSeconds));
  }
  return next;
}

void Connection::rearm() {
  std::uint64_t deadline = nextDeadlineMs();
  if (deadline != kNever) worker_.wheel().scheduleNoLaterThan(timer_, deadline);
}

void Connection::handleTimer(std::uint64_t nowMs) {
  if (isClosing()) return;
  if ((paused_ & kPausedForRate) && nowMs >= limits_->resumeAtMs) {
    resume(kPausedForRate);  // the rate budget has refilled
    // Frames the budget held back are in the ring: log them first.
    if (!isClosing() && !frames_.ring().empty()) handleBytes(0, 0);
    if (isClosing()) return;
  }
  if (proxy_) {
    if (judgeProxyTimeout(nowMs)) return;
  } else if (!announced_) {
    if (tls_ && judgeTlsHandshakeTimeout(nowMs)) return;
  } else if (judgeMaxAge(nowMs) || judgeWriteTimeout(nowMs) || judgeReadTimeouts(nowMs)) {
    return;
  }
  if (tlsBuffersHeld_ && nowMs - lastActivityMs_ >= kParkAfterMs && !tls_->hasInput() &&
      queuedEchoBytes_ == 0) {
    tls_->releaseBuffers();
    tlsBuffersHeld_ = false;
  }
  // Park a stalled peer: its chunk goes back to the pool.
  if (frames_.hasPartial() && nowMs - lastActivityMs_ >= kParkAfterMs &&
      frames_.ring().shrinkToFit(worker_.pool().chunkBytes() / 4)) {
    worker_.onMemoryReleased();
  }
  std::uint64_t deadline = nextDeadlineMs();
  if (deadline == kNever) return;
  // A deadline already past (bytes waiting in the kernel were counted as
  // activity) is looked at again one tick later, after the reads.
  worker_.wheel().schedule(timer_, std::max(deadline, nowMs + 1));
}

// A peer with echo bytes queued must take some of them within
// --write-timeout. Progress is any byte taken, not a finished write: libuv's
// write queue shrinking, or the kernel's send queue shrinking. The second
// matters when the kernel holds megabytes for a peer that reads (TCP grows
// the send buffer up to tcp_wmem's 4 MiB): the socket becomes writable
// again only once a third of it has drained, which at a slow reader's pace
// can take longer than the timeout while the peer keeps reading.
bool Connection::judgeWriteTimeout(std::uint64_t nowMs) {
  const ServerOptions& o = worker_.options();
  if (queuedEchoBytes_ == 0 || o.writeTimeoutSeconds <= 0) return false;
  std::uint64_t taken = echoBytesQueuedTotal_ - stream()->write_queue_size;
  std::uint64_t unsent = kernelBytesUnsent();
  const bool kernelDrained = unsent < kernelUnsentSeen_;
  kernelUnsentSeen_ = unsent;
  if (taken > echoBytesTakenSeen_ || kernelDrained) {
    echoBytesTakenSeen_ = taken;
    lastWriteProgressMs_ = nowMs;
    return false;
  }
  if (nowMs - lastWriteProgressMs_ < ms(o.writeTimeoutSeconds)) return false;
  worker_.log().warn(
      "[tcp server] write timeout: ip={}, port={} took none of its echoes for {}s ({} bytes "
      "queued); closing connection",
      peer_.ip, peer_.port, o.writeTimeoutSeconds, queuedEchoBytes_);
  close(CloseReason::kWriteTimeout);
  return true;
}

bool Connection::judgeReadTimeouts(std::uint64_t nowMs) {
  const ServerOptions& o = worker_.options();
  if (halfClosed_) return false;
  const bool waitsForMemory = waitingForMemory();
  std::uint64_t frameLimitMs = ms(o.frameTimeoutSeconds);
  if (frameLimitMs == 0 && waitsForMemory) frameLimitMs = kMemoryWaitMs;
  bool frameDue = frameLimitMs > 0 && frames_.hasPartial() &&
                  !(paused_ & (kPausedForEcho | kPausedForRate)) &&
                  nowMs - partialSinceMs_ >= frameLimitMs;
  bool idleDue = paused_ == 0 && o.idleTimeoutSeconds > 0 &&
                 nowMs - lastActivityMs_ >= ms(o.idleTimeoutSeconds);
  if (!frameDue && !idleDue) return false;
  if (!(frameDue && waitsForMemory) && kernelBytesPending() > 0) {
    // The peer did send: the server is behind, not the peer.
    lastActivityMs_ = nowMs;
    return false;
  }
  if (frameDue) {
    std::size_t frameBytes = frames_.unfinishedFrameBytes();
    worker_.log().warn(
        "[tcp server] frame timeout: ip={}, port={} sent {} of {} bytes of a frame within {}s{}; "
        "closing connection",
        peer_.ip, peer_.port, frames_.unfinishedBytes(),
        frameBytes == 0 ? std::string("its") : std::to_string(frameBytes),
        static_cast<double>(frameLimitMs) / 1000.0,
        waitsForMemory ? " (waiting for input memory)" : "");
    close(CloseReason::kFrameTimeout);
  } else {
    close(CloseReason::kIdleTimeout);
  }
  return true;
}

// The PROXY header is late. Bytes the kernel holds count as activity here
// too: after a stall of the server's own they are read first.
bool Connection::judgeProxyTimeout(std::uint64_t nowMs) {
  const double limit = worker_.options().proxyTimeoutSeconds;
  if (nowMs - startMs_ < ms(limit) || kernelBytesPending() > 0) return false;
  refuseEarly(CloseReason::kProxyTimeout,
              fmt::format("no complete PROXY header within {}s", limit));
  return true;
}

bool Connection::judgeMaxAge(std::uint64_t nowMs) {
  const double limit = worker_.options().maxConnectionAgeSeconds;
  if (limit <= 0 || ageDue_ || nowMs - startMs_ < ms(limit)) return false;
  ageDue_ = true;
  return closeIfAged();
}

// Closed at a frame boundary with no echo owed. Bytes the kernel holds were
// sent before the close and are read first, so a peer that pauses loses
// nothing; one that never pauses is closed at a frame boundary kAgeGraceMs
// after it was due (what it had in flight then was never read).
bool Connection::closeIfAged() {
  if (!ageDue_ || isClosing() || frames_.hasPartial() || queuedEchoBytes_ > 0) return false;
  const std::uint64_t dueMs = startMs_ + ms(worker_.options().maxConnectionAgeSeconds);
  if (uv_now(worker_.loop()) < dueMs + kAgeGraceMs && kernelBytesPending() > 0) return false;
  close(CloseReason::kMaxAge);
  return true;
}

std::uint64_t Connection::kernelBytesPending() {
  uv_os_fd_t fd;
  if (uv_fileno(handle(), &fd) != 0) return 0;
#ifdef _WIN32
  u_long n = 0;
  if (ioctlsocket(reinterpret_cast<SOCKET>(fd), FIONREAD, &n) != 0) return 0;
#else
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) != 0 || n < 0) return 0;
#endif
  return static_cast<std::uint64_t>(n);
}

std::uint64_t Connection::kernelBytesUnsent() {
#ifdef SIOCOUTQ
  uv_os_fd_t fd;
  int n = 0;
  if (uv_fileno(handle(), &fd) != 0 || ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) return 0;
  return static_cast<std::uint64_t>(n);
#else
  return 0;  // no such query: progress is libuv's write queue alone
#endif
}

void Connection::noteBytesBeforeShutdown() {
  // A connection still reading its PROXY header drains too: its frames may
  // follow the header in the same bytes.
  shutdownPendingBytes_ =
      (isClosing() || (!announced_ && !proxy_) || halfClosed_) ? 0 : kernelBytesPending();
}

std::uint64_t Connection::drainUntil(std::uint64_t deadlineMs) {
#ifdef _WIN32
  (void)deadlineMs;
  return 0;
#else
  // Read with recv on the non-blocking socket (libuv's reading may be
  // paused): only the bytes the kernel held at the signal, so a peer sending
  // faster than the server logs cannot keep it alive.
  uv_os_fd_t fd;
  if (isClosing() || uv_fileno(handle(), &fd) != 0) return 0;
  // Frames the rate limit held back in the ring are logged first.
  if (limits_ && !frames_.ring().empty()) handleBytes(0, 0);
  if (tls_) pumpTls();  // and what the TLS session holds
  while (shutdownPendingBytes_ > 0 && !isClosing()) {
    uv_update_time(worker_.loop());
    if (uv_now(worker_.loop()) >= deadlineMs) break;
    if (tls_ && tls_->hasInput()) break;  // the memory rule stopped the pump
    std::span<std::byte> room = tls_ ? worker_.tlsScratch() : frames_.prepareRead();
    if (room.empty()) break;  // the memory rule says no: reported by the caller
    std::size_t want = std::min<std::size_t>(room.size(), shutdownPendingBytes_);
    ssize_t n = ::recv(fd, room.data(), want, 0);
    if (n <= 0) {
      shutdownPendingBytes_ = 0;
      break;
    }
    shutdownPendingBytes_ -= static_cast<std::uint64_t>(n);
    if (tls_) {
      handleCipherBytes(room.first(static_cast<std::size_t>(n)));
    } else {
      handleBytes(static_cast<std::size_t>(n), want);
    }
  }
  if (isClosing()) return 0;
  return shutdownPendingBytes_ + (tls_ ? tls_->bufferedCiphertext() : 0);
#endif
}

}  // namespace uvframe
