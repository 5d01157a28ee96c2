// HttpResponder: see metrics_http.h.
#include "metrics_http.h"

#include <algorithm>
#include <stdexcept>

#include "peer_address.h"
#include "uv_handle.h"

namespace uvframe {

struct HttpResponder::Client {
  uv_tcp_t tcp{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  HttpResponder* owner = nullptr;  ///< nullptr once closing: callbacks then do nothing
  State state = State::kReading;
  bool peerDone = false;         ///< the peer's EOF (or an error) came while writing
  std::uint64_t deadlineMs = 0;  ///< uv_now() past which it is closed
  std::string head;              ///< sized to maxHeadBytes; used bytes below
  std::size_t used = 0;
  std::string answer;  ///< kept until the write is done
};

namespace {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

template <class Handle>
void closeAndDelete(Handle* handle) {
  // Only for plain libuv handles allocated on their own (listener, timer).
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

}  // namespace

HttpResponder::HttpResponder(uv_loop_t* loop, Handler handler, Options options)
    : loop_(loop), handler_(std::move(handler)), options_(options), discard_(4096, '\0') {
  options_.maxClients = std::max<std::size_t>(1, options_.maxClients);
  options_.maxHeadBytes = std::max<std::size_t>(64, options_.maxHeadBytes);
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

HttpResponder::~HttpResponder() {
  close();
}

void HttpResponder::listen(const sockaddr* address) {
  int rc = uv_tcp_bind(listener_, address, 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 128, onConnection);
  if (rc != 0) throw std::runtime_error(uvErrorText(rc));
  // Sweeps often enough that a deadline is kept to within a tenth of it.
  auto every =
      static_cast<std::uint64_t>(std::max<std::int64_t>(10, options_.deadline.count() / 10));
  uv_timer_start(timer_, onSweep, every, every);
  // The listener keeps the loop alive until close(); the timer need not.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
}

std::uint16_t HttpResponder::boundPort() const {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&addr));
  return peer ? peer->port : 0;
}

void HttpResponder::close() {
  if (closed_) return;
  closed_ = true;
  while (!clients_.empty())
    closeClient(*clients_.back());
  closeAndDelete(listener_);
  closeAndDelete(timer_);
  listener_ = nullptr;
  timer_ = nullptr;
}

void HttpResponder::onConnection(uv_stream_t* server, int status) noexcept {
  if (status != 0) return;  // EMFILE and the like: the next connection may work
  ownerOf<HttpResponder>(server)->accept();
}

void HttpResponder::accept() {
  auto* c = new Client;
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    closeClient(*c);
    return;
  }
  if (clients_.size() >= options_.maxClients && !evictOne()) {
    closeClient(*c);  // every slot is writing an answer: this one gets none
    return;
  }
  c->owner = this;
  c->deadlineMs = uv_now(loop_) + static_cast<std::uint64_t>(options_.deadline.count());
  c->head.resize(options_.maxHeadBytes);
  clients_.push_back(c);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), onAlloc, onRead);
}

// The oldest client not busy writing an answer makes room for a newcomer.
bool HttpResponder::evictOne() {
  for (Client* c : clients_) {
    if (c->state != State::kWriting) {
      closeClient(*c);
      return true;
    }
  }
  return false;
}

void HttpResponder::closeClient(Client& c) {
  auto it = std::find(clients_.begin(), clients_.end(), &c);
  if (it != clients_.end()) clients_.erase(it);
  c.owner = nullptr;
  // Pending write and shutdown requests get UV_ECANCELED before the close
  // callback frees the client.
  uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp),
           [](uv_handle_t* h) { delete static_cast<Client*>(h->data); });
}

void HttpResponder::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* c = static_cast<Client*>(handle->data);
  if (c->owner == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
  } else if (c->state == State::kReading) {
    *buf = uv_buf_init(c->head.data() + c->used, static_cast<unsigned>(c->head.size() - c->used));
  } else {
    std::string& discard = c->owner->discard_;
    *buf = uv_buf_init(discard.data(), static_cast<unsigned>(discard.size()));
  }
}

void HttpResponder::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) noexcept {
  auto* c = static_cast<Client*>(stream->data);
  if (c->owner != nullptr) c->owner->handleRead(*c, nread);
}

void HttpResponder::handleRead(Client& c, ssize_t nread) {
  if (nread == 0) return;  // EAGAIN
  if (nread < 0) {
    // EOF, reset or error: a head cut short gets no answer; a lingering
    // client is done; a writing one lets the write finish (or fail).
    if (c.state != State::kWriting) {
      closeClient(c);
    } else {
      c.peerDone = true;
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&c.tcp));
    }
    return;
  }
  if (c.state != State::kReading) return;  // discarded
  c.used += static_cast<std::size_t>(nread);
  HttpRequestHead head =
      parseHttpRequestHead(std::string_view(c.head.data(), c.used), options_.maxHeadBytes);
  if (head.status != HttpHeadStatus::kIncomplete) respond(c, head);
}

void HttpResponder::respond(Client& c, HttpRequestHead head) {
  switch (head.status) {
    case HttpHeadStatus::kIncomplete:
      return;
    case HttpHeadStatus::kMalformed:
      send(c, 400, plain(400, "bad request: " + std::string(head.error) + "\n"), true, false);
      return;
    case HttpHeadStatus::kTooLarge:
      send(c, 431, plain(431, "request head too large\n"), true, false);
      return;
    case HttpHeadStatus::kComplete:
      break;
  }
  bool isHead = head.method == "HEAD";
  if (head.method != "GET" && !isHead) {
    send(c, 405, plain(405, "only GET and HEAD\n"), true, true);
    return;
  }
  HttpResponse r;
  try {
    r = handler_(head.path);
  } catch (const std::exception& e) {
    r = plain(500, std::string("internal error: ") + e.what() + "\n");
  }
  send(c, r.status, r, !isHead, false);
}

void HttpResponder::send(Client& c, int status, const HttpResponse& response, bool withBody,
                         bool allowHeader) {
  std::string& a = c.answer;
  a.reserve(160 + (withBody ? response.body.size() : 0));
  a += "HTTP/1.1 ";
  a += std::to_string(status);
  a += ' ';
  a += reasonPhrase(status);
  a += "\r\nContent-Type: ";
  a += response.contentType;
  a += "\r\nContent-Length: ";
  a += std::to_string(response.body.size());
  a += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  if (allowHeader) a += "Allow: GET, HEAD\r\n";
  a += "\r\n";
  if (withBody) a += response.body;
  c.state = State::kWriting;
  c.head = std::string();  // the head's storage is not needed any more
  c.write.data = &c;
  uv_buf_t buf = uv_buf_init(a.data(), static_cast<unsigned>(a.size()));
  int rc = uv_write(&c.write, reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1, onWritten);
  if (rc != 0) closeClient(c);
}

void HttpResponder::onWritten(uv_write_t* req, int status) noexcept {
  auto* c = static_cast<Client*>(req->data);
  HttpResponder* self = c->owner;
  if (self == nullptr) return;  // closing
  if (status != 0 || c->peerDone) {
    self->closeClient(*c);
    return;
  }
  // Answered: send our FIN, then discard what the peer still sends until
  // it closes too (or the deadline passes).
  c->state = State::kLingering;
  c->answer = std::string();
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, reinterpret_cast<uv_stream_t*>(&c->tcp), onShutdown) != 0) {
    self->closeClient(*c);
  }
}

void HttpResponder::onShutdown(uv_shutdown_t* req, int status) noexcept {
  auto* c = static_cast<Client*>(req->data);
  HttpResponder* self = c->owner;
  if (self == nullptr) return;
  // On success the peer's EOF (read, discarding) ends the connection.
  if (status != 0) self->closeClient(*c);
}

void HttpResponder::onSweep(uv_timer_t* timer) noexcept {
  ownerOf<HttpResponder>(timer)->sweep();
}

void HttpResponder::sweep() {
  std::uint64_t now = uv_now(loop_);
  // Oldest first: clients past the deadline form a prefix of the list.
  while (!clients_.empty() && clients_.front()->deadlineMs <= now)
    closeClient(*clients_.front());
}

}  // namespace uvframe
