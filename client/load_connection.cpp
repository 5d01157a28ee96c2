// LoadConnection: see load_connection.h.
#include "load_connection.h"

#ifndef _WIN32
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#include <algorithm>
#include <cassert>
#include <string>

#include "load_client.h"

namespace uvframe {
namespace {

// A batch holds at least one frame and otherwise stops growing here, so one
// write never pins much memory however deep the pipeline is.
constexpr std::size_t kMaxBatchBytes = 256 * 1024;

// Closed loop: the most bytes the kernel holds unsent per connection. By
// default it takes up to tcp_wmem's maximum (4 MiB) from a writer that never
// pauses; 100 connections then park ~0.4 GB in send queues, which reach the
// server cache-cold, and 10,000 connections that opened while others were
// sending push the machine past tcp_mem, where the kernel drops segments and
// connections stall in retransmission timeouts. The frames wait in the
// connection's own write queue instead (--pipeline bounds it).
constexpr int kMaxUnsentBytes = 64 * 1024;

// Best effort: without it (not Linux, or an old kernel) the run only uses
// more kernel memory.
void limitUnsentBytes([[maybe_unused]] uv_tcp_t& tcp) {
#if defined(TCP_NOTSENT_LOWAT)
  uv_os_fd_t fd{};
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp), &fd) == 0) {
    int bytes = kMaxUnsentBytes;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes);
  }
#endif
}

/// The PROXY header write of one connection; freed in its callback.
struct ProxyHeaderWrite {
  uv_write_t req{};
  LoadConnection* conn = nullptr;
  std::string bytes;
};

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

LoadConnection::LoadConnection(LoadClient& owner, std::uint64_t id, std::uint32_t index)
    : owner_(owner), id_(id), index_(index), rngState_(owner.plan().options->seed ^ (id << 20)) {
  const LoadgenOptions& o = *owner.plan().options;
  if (o.echo) {
    echo_ = std::make_unique<EchoChecker>(*owner.plan().pattern, FramingDecoder(o.framing), id);
  }
}

LoadConnection::~LoadConnection() {
  assert(!handleInitialized_ || state_ == State::kClosed);
}

bool LoadConnection::quotaReached() const {
  std::uint64_t quota = owner_.plan().options->framesPerConnection;
  return quota != 0 && nextSeq_ >= quota;
}

int LoadConnection::openHandle() {
  const LoadPlan& plan = owner_.plan();
  if (plan.sources.empty()) {
    int rc = uv_tcp_init(owner_.loop(), &tcp_);
    if (rc == 0) handleInitialized_ = true;
    return rc;
  }
  // With a source address the socket must exist before bind.
  int rc = uv_tcp_init_ex(owner_.loop(), &tcp_, plan.destination.ss_family);
  if (rc != 0) return rc;
  handleInitialized_ = true;
  tcp_.data = this;
#if defined(IP_BIND_ADDRESS_NO_PORT)
  // Let connect() pick the port per (source, destination) pair instead of
  // bind() reserving one per source address: 28k ports per destination.
  uv_os_fd_t fd{};
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0) {
    int one = 1;
    (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  }
#endif
  const sockaddr_storage& source = plan.sources[(id_ + attempt_) % plan.sources.size()];
  return uv_tcp_bind(&tcp_, reinterpret_cast<const sockaddr*>(&source), 0);
}

void LoadConnection::startConnect() {
  state_ = State::kConnecting;
  connectStartNs_ = uv_hrtime();
  retryAfterClose_ = false;
  LoadCounters::add(owner_.counters().connectsStarted);
  int rc = openHandle();
  if (rc == 0) {
    tcp_.data = this;
    connectReq_.data = this;
    rc = uv_tcp_connect(&connectReq_, &tcp_,
                        reinterpret_cast<const sockaddr*>(&owner_.plan().destination), onConnect);
  }
  owner_.connectStarted(*this);
  if (rc != 0) failConnect(rc);
}

void LoadConnection::onConnect(uv_connect_t* req, int status) noexcept {
  static_cast<LoadConnection*>(req->data)->handleConnect(status);
}

void LoadConnection::handleConnect(int status) {
  // UV_ECANCELED: we closed the handle (timeout, end of run) and counted it.
  if (status == UV_ECANCELED || state_ != State::kConnecting) return;
  if (status != 0) {
    failConnect(status);
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  int rc = uv_tcp_nodelay(&tcp_, 1);
  if (owner_.plan().framePeriodNs == 0) limitUnsentBytes(tcp_);
  if (rc == 0) rc = uv_read_start(stream, onAlloc, onRead);
  if (rc != 0) {
    // The socket is connected, so this attempt's connect has ended.
    owner_.connectEnded();
    owner_.counters().addError(ErrorKind::kConnectOther);
    LoadCounters::add(owner_.counters().connectionsFailed);
    close();
    return;
  }
  if (owner_.plan().tls) {
    startTls();  // the connect ends with the handshake
    return;
  }
  owner_.connectEnded();
  markOpen();
  if (owner_.plan().options->proxyProtocol != ProxyProtocolVersion::kOff && !sendProxyHeader()) {
    return;
  }
  owner_.connectionOpened(*this);
}

void LoadConnection::markOpen() {
  std::uint64_t nowNs = uv_hrtime();
  state_ = State::kOpen;
  wasOpen_ = true;
  LoadCounters& c = owner_.counters();
  LoadCounters::add(c.connectionsOpened);
  LoadCounters::add(c.connectionsOpen);
  c.addConnectTime(nowNs - connectStartNs_, nowNs);
}

bool LoadConnection::sendProxyHeader() {
  const LoadPlan& plan = owner_.plan();
  auto write = std::make_unique<ProxyHeaderWrite>();
  write->conn = this;
  write->bytes = proxyHeaderForConnection(plan.options->proxyProtocol, id_, plan.proxyDestination);
  write->req.data = write.get();
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
  int rc = write->bytes.empty() ? UV_EINVAL
                                : uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf,
                                           1, onProxyHeaderWritten);
  if (rc != 0) {
    failWrite("cannot send the PROXY header", rc);
    return false;
  }
  write.release();  // onProxyHeaderWritten frees it
  return true;
}

void LoadConnection::onProxyHeaderWritten(uv_write_t* req, int status) noexcept {
  std::unique_ptr<ProxyHeaderWrite> write(static_cast<ProxyHeaderWrite*>(req->data));
  write->conn->handleProxyHeaderWritten(status);
}

void LoadConnection::handleProxyHeaderWritten(int status) {
  // UV_ECANCELED: our own close cancelled the write; nothing to count.
  if (status == 0 || status == UV_ECANCELED) return;
  failWrite("cannot send the PROXY header", status);
}

void LoadConnection::failConnect(int status) {
  owner_.connectEnded();
  const LoadPlan& plan = owner_.plan();
  if (status == UV_EADDRNOTAVAIL && attempt_ + 1 < plan.sources.size() && handleInitialized_) {
    // This source address is out of ports: try the next one.
    ++attempt_;
    retryAfterClose_ = true;
    LoadCounters::add(owner_.counters().sourceRetries);
  } else {
    owner_.counters().addError(connectErrorKind(status));
    LoadCounters::add(owner_.counters().connectionsFailed);
  }
  close();
}

void LoadConnection::abortConnect(bool timedOut) {
  if (state_ != State::kConnecting) return;
  owner_.connectEnded();
  if (timedOut) {
    if (tls_) {
      owner_.counters().addTlsFailure(ErrorKind::kTlsHandshake,
                                      "handshake not done within --connect-timeout");
    } else {
      owner_.counters().addError(ErrorKind::kConnectTimeout);
    }
    LoadCounters::add(owner_.counters().connectionsFailed);
  } else {
    LoadCounters::add(owner_.counters().connectionsAborted);
  }
  close();
}

void LoadConnection::close() {
  if (state_ == State::kIdle || state_ == State::kClosing || state_ == State::kClosed) return;
  if (echo_ && echo_->outstanding() > 0) {
    owner_.counters().addError(ErrorKind::kEchoMissing, echo_->dropOutstanding());
  }
  state_ = State::kClosing;
  if (!handleInitialized_) {
    // The handle never came to life (socket() failed): nothing to close.
    handleClose();
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClose);
}

void LoadConnection::onClose(uv_handle_t* handle) noexcept {
  ownerOf<LoadConnection>(handle)->handleClose();
}

void LoadConnection::handleClose() {
  state_ = State::kClosed;
  handleInitialized_ = false;
  tls_.reset();
  if (wasOpen_) LoadCounters::sub(owner_.counters().connectionsOpen);
  wasOpen_ = false;
  if (retryAfterClose_) {
    if (!owner_.loadEnding()) {
      startConnect();
      return;
    }
    LoadCounters::add(owner_.counters().connectionsAborted);
    retryAfterClose_ = false;
  }
  if (!settled_) {
    settled_ = true;
    owner_.connectionSettled(*this);
  }
  owner_.connectionClosed(*this);
}

void LoadConnection::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  // One buffer per loop: a read callback consumes its bytes before the next
  // read on this loop can start.
  *buf = ownerOf<LoadConnection>(handle)->owner_.readBuffer();
}

void LoadConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  ownerOf<LoadConnection>(stream)->handleRead(nread, buf);
}

void LoadConnection::handleRead(ssize_t nread, const uv_buf_t* buf) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  LoadCounters& c = owner_.counters();
  if (nread > 0) {
    auto bytes = std::as_bytes(std::span(buf->base, static_cast<std::size_t>(nread)));
    if (tls_) {
      handleTlsRead(bytes);
    } else {
      handlePlaintext(bytes);
    }
    return;
  }
  if (nread == 0) return;  // EAGAIN: nothing this time
  if (state_ == State::kConnecting) {
    // Only with --tls: the server went away during the handshake.
    failHandshake(nread == UV_EOF ? "the server closed the connection during the handshake"
                                  : "connection lost during the handshake: " +
                                        uvErrorText(static_cast<int>(nread)));
    return;
  }
  if (nread == UV_EOF) {
    // After our FIN the server's close is the normal end; before it, the
    // server dropped us.
    if (state_ != State::kShuttingDown) {
      c.addError(ErrorKind::kClosedByPeer);
    } else {
      // The server has read everything up to our FIN: the run's work is
      // done only now, which the duration (and so the rates) must include.
      c.lastActivityNs.store(uv_hrtime(), std::memory_order_relaxed);
    }
  } else {
    c.addError(nread == UV_ECONNRESET ? ErrorKind::kReset : ErrorKind::kReadError);
  }
  close();
}

void LoadConnection::handlePlaintext(std::span<const std::byte> bytes) {
  if (echo_) {
    handleEcho(bytes);
  } else if (!unexpectedDataReported_) {
    unexpectedDataReported_ = true;
    owner_.counters().addError(ErrorKind::kUnexpectedData);
  }
}

void LoadConnection::handleEcho(std::span<const std::byte> bytes) {
  std::uint64_t nowNs = uv_hrtime();
  EchoTally t = echo_->feed(bytes, nowNs, owner_.latencies(), owner_.plan().latencyFromNs);
  LoadCounters& c = owner_.counters();
  if (t.frames > 0) {
    LoadCounters::add(c.framesEchoed, t.frames);
    LoadCounters::add(c.bytesEchoed, t.bytes);
    c.lastActivityNs.store(nowNs, std::memory_order_relaxed);
  }
  if (t.mismatched > 0) c.addError(ErrorKind::kEchoMismatch, t.mismatched);
  if (t.extra > 0) c.addError(ErrorKind::kEchoExtra, t.extra);
  if (t.tooLarge || t.badHeader) {
    c.addError(t.tooLarge ? ErrorKind::kEchoTooLarge : ErrorKind::kEchoBadHeader);
    close();
    return;
  }
  if (owner_.plan().framePeriodNs == 0) fillPipeline();
  maybeShutdown();
}

std::uint32_t LoadConnection::nextSizeBytes(std::uint64_t& rngState) const {
  const LoadgenOptions& o = *owner_.plan().options;
  if (o.minSizeBytes == o.maxSizeBytes) return o.minSizeBytes;
  std::uint64_t span = std::uint64_t{o.maxSizeBytes} - o.minSizeBytes + 1;
  return o.minSizeBytes + static_cast<std::uint32_t>(splitmix64(rngState) % span);
}

void LoadConnection::advanceSeq(std::uint64_t frames) {
  nextSeq_ += frames;
  if (!settled_ && quotaReached()) {
    settled_ = true;
    owner_.connectionSettled(*this);
  }
}

std::uint64_t LoadConnection::fillBatch(WriteBatch& batch, std::uint64_t count,
                                        std::uint64_t firstStartNs, std::uint64_t stepNs) {
  const LoadgenOptions& o = *owner_.plan().options;
  FrameBatchWriter writer(*owner_.plan().pattern, o.framing);
  std::uint64_t firstSeq = nextSeq_;
  std::uint64_t frames = 0;
  if (o.minSizeBytes == o.maxSizeBytes) {
    // One size: the frames up to the first that reaches kMaxBatchBytes,
    // written as one run.
    std::size_t frameBytes = writer.frameSize(o.minSizeBytes);
    frames = std::min<std::uint64_t>(count, (kMaxBatchBytes + frameBytes - 1) / frameBytes);
    // A reusable layout is never shorter than frames, so the resize keeps
    // its bytes.
    writer.writeRun(id_, firstSeq, frames, o.minSizeBytes, batch.bytes.resize(frames * frameBytes),
                    batch.layout);
    if (echo_) {
      for (std::uint64_t i = 0; i < frames; ++i)
        echo_->expect(firstSeq + i, o.minSizeBytes, firstStartNs + i * stepNs);
    }
    return frames;
  }
  // Sizes drawn frame by frame: a first pass on a copy of the generator
  // finds how many frames fit and their bytes, the second draws the same
  // sizes again and writes the frames.
  batch.layout = {};
  std::uint64_t rngState = rngState_;
  std::size_t totalBytes = 0;
  for (; frames < count && (frames == 0 || totalBytes < kMaxBatchBytes); ++frames)
    totalBytes += writer.frameSize(nextSizeBytes(rngState));
  char* out = batch.bytes.resize(totalBytes);
  for (std::uint64_t i = 0; i < frames; ++i) {
    std::uint32_t size = nextSizeBytes(rngState_);
    writer.writeFrame(id_, firstSeq + i, size, out);
    out += writer.frameSize(size);
    if (echo_) echo_->expect(firstSeq + i, size, firstStartNs + i * stepNs);
  }
  return frames;
}

void LoadConnection::writeFrames(std::uint64_t count, std::uint64_t firstStartNs,
                                 std::uint64_t stepNs) {
  WriteBatch* batch = owner_.acquireBatch();
  batch->conn = this;
  batch->frames = fillBatch(*batch, count, firstStartNs, stepNs);
  advanceSeq(batch->frames);
  nextDueNs_ = firstStartNs + batch->frames * stepNs;
  batch->req.data = batch;
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  if (tls_ && !encryptBatch(*batch, buf)) {
    owner_.releaseBatch(batch);
    failTls();
    return;
  }
  int rc = uv_write(&batch->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, onWrite);
  if (rc != 0) {
    owner_.releaseBatch(batch);
    owner_.counters().addError(ErrorKind::kWriteError);
    close();
    return;
  }
  queuedFrames_ += batch->frames;
  queuedBytes_ += batch->bytes.size();
}

void LoadConnection::fillPipeline() {
  if (state_ != State::kOpen || owner_.loadEnding() || quotaReached()) return;
  const LoadgenOptions& o = *owner_.plan().options;
  std::uint64_t inFlight = echo_ ? echo_->outstanding() : queuedFrames_;
  if (inFlight >= o.pipeline) return;
  std::uint64_t count = o.pipeline - inFlight;
  if (o.framesPerConnection != 0) count = std::min(count, o.framesPerConnection - nextSeq_);
  writeFrames(count, uv_hrtime(), 0);
}

void LoadConnection::sendDue(std::uint64_t nowNs) {
  if (state_ != State::kOpen || owner_.loadEnding() || quotaReached()) return;
  const LoadgenOptions& o = *owner_.plan().options;
  if (queuedBytes_ >= o.maxQueuedBytes) {
    // The server does not keep up: wait for the queue to drain. The frames
    // stay due, and their latency still counts from their scheduled time.
    scheduleBlocked_ = true;
    return;
  }
  std::uint64_t periodNs = owner_.plan().framePeriodNs;
  if (nextDueNs_ > nowNs) return;
  std::uint64_t count = (nowNs - nextDueNs_) / periodNs + 1;
  if (o.framesPerConnection != 0) count = std::min(count, o.framesPerConnection - nextSeq_);
  writeFrames(count, nextDueNs_, periodNs);
}

void LoadConnection::onWrite(uv_write_t* req, int status) noexcept {
  auto* batch = static_cast<WriteBatch*>(req->data);
  batch->conn->handleWrite(batch, status);
}

void LoadConnection::handleWrite(WriteBatch* batch, int status) {
  queuedFrames_ -= batch->frames;
  queuedBytes_ -= batch->bytes.size();
  LoadCounters& c = owner_.counters();
  if (status == 0) {
    LoadCounters::add(c.framesSent, batch->frames);
    LoadCounters::add(c.bytesSent, batch->bytes.size());
    c.lastActivityNs.store(uv_hrtime(), std::memory_order_relaxed);
  }
  owner_.releaseBatch(batch);
  if (status != 0) {
    // UV_ECANCELED: our own close cancelled the write; nothing to count.
    if (status != UV_ECANCELED && state_ != State::kClosing && state_ != State::kClosed) {
      c.addError(ErrorKind::kWriteError);
      close();
    }
    return;
  }
  if (state_ != State::kOpen) return;
  const LoadPlan& plan = owner_.plan();
  if (plan.framePeriodNs == 0) {
    fillPipeline();
  } else if (scheduleBlocked_ && queuedBytes_ < plan.options->maxQueuedBytes / 2) {
    scheduleBlocked_ = false;
    owner_.scheduleAgain(*this);
  }
  maybeShutdown();
}

void LoadConnection::finishLoad() {
  loadEnding_ = true;
  maybeShutdown();
}

void LoadConnection::maybeShutdown() {
  if (state_ != State::kOpen) return;
  if (!loadEnding_ && !quotaReached()) return;
  if (echo_ && echo_->outstanding() > 0) return;
  if (tls_) {
    tls_->shutdown();  // close_notify, queued ahead of the FIN
    if (!flushTls()) return;
  }
  // uv_shutdown waits for the queued writes, then sends our FIN.
  state_ = State::kShuttingDown;
  shutdownReq_.data = this;
  int rc = uv_shutdown(&shutdownReq_, reinterpret_cast<uv_stream_t*>(&tcp_), onShutdown);
  if (rc != 0) {
    owner_.counters().addError(ErrorKind::kWriteError);
    close();
  }
}

void LoadConnection::onShutdown(uv_shutdown_t* req, int status) noexcept {
  auto* self = static_cast<LoadConnection*>(req->data);
  // A failed shutdown means the connection broke; the failing write or read
  // has been counted. Otherwise wait for the server's EOF in handleRead.
  if (status != 0 && status != UV_ECANCELED) self->close();
}

}  // namespace uvframe
