// FrameClient: see frame_client.h.
#include "frame_client.h"

#include <cstring>

#include "framing_limits.h"
#include "host_resolver.h"

namespace uvframe {
namespace {

std::string connectFailureText(int status, const std::string& target) {
  switch (status) {
    case UV_ECONNREFUSED:
      return "connection refused by " + target + " (is uvframe-server running there?)";
    case UV_ETIMEDOUT:
      return "connecting to " + target + " timed out";
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
      return target + " is unreachable: " + uvErrorText(status);
    default:
      return "cannot connect to " + target + ": " + uvErrorText(status);
  }
}

FramingOptions defaultFraming(ByteOrder order, std::uint32_t maxFrameBytes) {
  FramingOptions framing;
  framing.byteOrder = order;
  framing.maxPayloadBytes = maxFrameBytes;
  return framing;
}

}  // namespace

FrameClient::FrameClient(ByteOrder order, std::uint32_t maxFrameBytes,
                         std::chrono::milliseconds timeout)
    : FrameClient(defaultFraming(order, maxFrameBytes), timeout) {}

FrameClient::FrameClient(const FramingOptions& framing, std::chrono::milliseconds timeout)
    : framing_(framing), decoder_(framing), timeout_(timeout) {
  int rc = uv_timer_init(loop_.get(), &timer_);
  if (rc != 0) throw ClientError("uv_timer_init: " + uvErrorText(rc));
  timer_.data = this;
}

FrameClient::~FrameClient() {
  // Close both handles and let their callbacks (and any cancelled write's)
  // run while payload_ and the requests are still alive.
  if (!tcpClosed_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  uv_run(loop_.get(), UV_RUN_DEFAULT);
}

void FrameClient::onTimer(uv_timer_t* timer) noexcept {
  ownerOf<FrameClient>(timer)->timedOut_ = true;
}

bool FrameClient::runUntil(const std::function<bool()>& done) {
  timedOut_ = false;
  int rc = uv_timer_start(&timer_, onTimer, static_cast<std::uint64_t>(timeout_.count()), 0);
  if (rc != 0) throw ClientError("uv_timer_start: " + uvErrorText(rc));
  while (!done() && !timedOut_) {
    uv_run(loop_.get(), UV_RUN_ONCE);
  }
  uv_timer_stop(&timer_);
  return done();
}

void FrameClient::onConnect(uv_connect_t* req, int status) noexcept {
  auto* self = static_cast<FrameClient*>(req->data);
  self->connectStatus_ = status;
}

bool FrameClient::tryConnect(const sockaddr_storage& address, int& status) {
  status = uv_tcp_init(loop_.get(), &tcp_);
  if (status != 0) return false;
  tcp_.data = this;
  tcpClosed_ = false;
  connectReq_.data = this;
  connectStatus_ = 1;
  status =
      uv_tcp_connect(&connectReq_, &tcp_, reinterpret_cast<const sockaddr*>(&address), onConnect);
  if (status != 0) return false;
  if (!runUntil([this] { return connectStatus_ != 1; })) {
    status = UV_ETIMEDOUT;
    return false;
  }
  status = connectStatus_;
  return status == 0;
}

void FrameClient::closeTcp() {
  if (tcpClosed_) return;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
             [](uv_handle_t* h) { ownerOf<FrameClient>(h)->tcpClosed_ = true; });
  }
  // Closing never waits on the network, so this finishes in a loop turn;
  // the deadline only guards against a libuv surprise.
  runUntil([this] { return tcpClosed_; });
  tcpOpen_ = false;
}

void FrameClient::connect(const std::vector<sockaddr_storage>& addresses,
                          const std::string& hostLabel) {
  int status = UV_EAI_NONAME;
  std::string target = hostLabel;
  for (const auto& address : addresses) {
    target = addressText(reinterpret_cast<const sockaddr*>(&address));
    if (tryConnect(address, status)) break;
    closeTcp();
  }
  if (status != 0) throw ClientError(connectFailureText(status, target));
  tcpOpen_ = true;
  // TCP_NODELAY: the header and the body leave as separate segments, as
  // the classic client's two send() calls usually did.
  int rc = uv_tcp_nodelay(&tcp_, 1);
  if (rc != 0) throw ClientError("uv_tcp_nodelay: " + uvErrorText(rc));
  // Read from the start, so a server that closes on us is noticed before
  // the next send rather than by a failed write.
  rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead);
  if (rc != 0) throw ClientError("uv_read_start: " + uvErrorText(rc));
  if (tlsContext_) handshakeTls(target);
}

void FrameClient::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = ownerOf<FrameClient>(handle);
  *buf = uv_buf_init(self->readBuffer_.data(), static_cast<unsigned>(self->readBuffer_.size()));
}

void FrameClient::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = ownerOf<FrameClient>(stream);
  if (nread == UV_EOF) {
    self->eof_ = true;
  } else if (nread < 0) {
    self->readError_ = static_cast<int>(nread);
    uv_read_stop(stream);
  } else if (nread > 0 && self->tls_) {
    self->receiveCiphertext(buf->base, static_cast<std::size_t>(nread));
  } else if (nread > 0 && self->keepReceived_) {
    self->received_.append(buf->base, static_cast<std::size_t>(nread));
  }
}

void FrameClient::throwIfClosed(const char* what) const {
  if (!tlsError_.empty()) throw ClientError(std::string(what) + ": TLS: " + tlsError_);
  if (readError_ != 0) {
    throw ClientError(std::string(what) + ": connection lost: " + uvErrorText(readError_));
  }
  if (eof_) throw ClientError(std::string(what) + ": the server closed the connection");
}

void FrameClient::onWrite(uv_write_t* req, int status) noexcept {
  auto* self = static_cast<FrameClient*>(req->data);
  --self->writesPending_;
  if (status != 0 && self->writeStatus_ == 0) self->writeStatus_ = status;
}

std::size_t FrameClient::headerBytesFor(std::size_t payloadBytes) const {
  return framingHeaderBytes(framing_, payloadBytes);
}

std::size_t FrameClient::send(std::string_view payload) {
  // Let pending events (a close by the server) land before writing.
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  throwIfClosed("cannot send");
  header_.clear();
  if (!appendHeader(framing_, payload.size(), header_)) {
    throw ClientError("a message of " + std::to_string(payload.size()) +
                      " bytes cannot be sent: " + whyNotAnnounced(framing_, payload.size()));
  }
  writeStatus_ = 0;
  if (tls_) {
    // Two records, like the two writes of the plaintext client.
    sendPlaintext(header_);
    if (!payload.empty()) sendPlaintext(payload);
  } else {
    sendFrameWrites(payload);
  }
  if (!runUntil([this] { return writesPending_ == 0; })) {
    throw ClientError("sending timed out (the server does not read)");
  }
  if (writeStatus_ != 0) throw ClientError("send failed: " + uvErrorText(writeStatus_));
  return header_.size();
}

void FrameClient::sendFrameWrites(std::string_view payload) {
  payload_.assign(payload);
  uv_buf_t headerBuf = uv_buf_init(header_.data(), static_cast<unsigned>(header_.size()));
  uv_buf_t bodyBuf = uv_buf_init(payload_.data(), static_cast<unsigned>(payload_.size()));
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  for (auto& req : writeReqs_)
    req.data = this;
  int rc = uv_write(&writeReqs_[0], stream, &headerBuf, 1, onWrite);
  if (rc != 0) throw ClientError("cannot send the header: " + uvErrorText(rc));
  ++writesPending_;
  // An empty message is a header alone: there is no body to write.
  if (!payload_.empty()) {
    rc = uv_write(&writeReqs_[1], stream, &bodyBuf, 1, onWrite);
    if (rc != 0) throw ClientError("cannot send the payload: " + uvErrorText(rc));
    ++writesPending_;
  }
}

std::string FrameClient::receiveFrame(std::size_t* headerBytes) {
  FramingResult frame;
  auto whole = [&] {
    frame = decoder_.decode(std::as_bytes(std::span(received_.data(), received_.size())));
    return frame.status != FramingResult::Status::kNeedMore || eof_ || readError_ != 0 ||
           !tlsError_.empty();
  };
  if (!runUntil(whole)) throw ClientError("no echo from the server within the timeout");
  if (frame.status == FramingResult::Status::kTooLarge) {
    throw ClientError("the server sent a frame with a length of " +
                      std::to_string(frame.lengthField) + ", above --max-frame");
  }
  if (frame.status == FramingResult::Status::kBadHeader) {
    throw ClientError("the server sent a bad frame header: " + std::string(frame.reason));
  }
  if (frame.status != FramingResult::Status::kFrame) throwIfClosed("waiting for the echo");
  std::string payload(reinterpret_cast<const char*>(frame.payload.data()), frame.payload.size());
  if (headerBytes != nullptr) *headerBytes = frame.headerBytes;
  received_.erase(0, frame.consumedBytes);
  return payload;
}

void FrameClient::onShutdown(uv_shutdown_t* req, int) noexcept {
  static_cast<FrameClient*>(req->data)->shutdownDone_ = true;
}

void FrameClient::finish() {
  if (!tcpOpen_) return;
  if (tls_ && tls_->handshakeDone() && tlsError_.empty()) {
    tls_->shutdown();  // close_notify, ahead of the FIN
    sendCiphertext();
  }
  shutdownReq_.data = this;
  int rc = uv_shutdown(&shutdownReq_, reinterpret_cast<uv_stream_t*>(&tcp_), onShutdown);
  if (rc == 0) {
    // The server closes once it has read everything up to our FIN; waiting
    // for that tells us every frame reached it. A server that keeps the
    // connection open only costs the timeout.
    keepReceived_ = false;
    runUntil([this] { return (shutdownDone_ && eof_) || readError_ != 0 || !tlsError_.empty(); });
  }
  closeTcp();
  // TLS 1.3: a server that refuses our certificate says so only after the
  // handshake, so the refusal can arrive this late.
  if (!tlsError_.empty()) throw ClientError("the server ended the TLS session: " + tlsError_);
}

std::string FrameClient::localAddress() const {
  sockaddr_storage storage{};
  int len = sizeof storage;
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&storage), &len) != 0) return {};
  return addressText(reinterpret_cast<const sockaddr*>(&storage));
}

std::string FrameClient::remoteAddress() const {
  sockaddr_storage storage{};
  int len = sizeof storage;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&storage), &len) != 0) return {};
  return addressText(reinterpret_cast<const sockaddr*>(&storage));
}

}  // namespace uvframe
