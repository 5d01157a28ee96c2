// uvframe-test-echo-peer: a minimal echo server for the client tests. It
// sends every byte it receives straight back (so it needs no framing), and
// with --corrupt-offset N it flips the bits of byte N (counted from 0 over
// everything the first accepted connection sends) on its way back, so a
// test can check that uvframe-loadgen --echo reports exactly one mismatch.
//
// Prints "echo peer listening on 127.0.0.1:PORT" once ready; stops on
// SIGTERM or SIGINT.
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "uv_handle.h"

namespace {

using uvframe::ownerOf;
using uvframe::uvErrorText;

long long gCorruptOffset = -1;  // -1: echo faithfully
bool gFirstConnectionTaken = false;

/// One echoed connection; frees itself in its close callback.
class EchoConnection {
 public:
  explicit EchoConnection(uv_loop_t* loop) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
  }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void start() {
    corrupting_ = !gFirstConnectionTaken;
    gFirstConnectionTaken = true;
    uv_tcp_nodelay(&tcp_, 1);
    if (uv_read_start(stream(), onAlloc, onRead) != 0) close();
  }
  void close() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClose);
    }
  }

 private:
  struct Write {
    uv_write_t req;
    std::unique_ptr<char[]> bytes;
  };

  static void onAlloc(uv_handle_t*, std::size_t suggested, uv_buf_t* buf) noexcept {
    *buf = uv_buf_init(new char[suggested], static_cast<unsigned>(suggested));
  }
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = ownerOf<EchoConnection>(s);
    if (nread <= 0) {
      delete[] buf->base;
      if (nread < 0) self->close();
      return;
    }
    auto* w = new Write{{}, std::unique_ptr<char[]>(buf->base)};
    if (self->corrupting_ && gCorruptOffset >= self->offset_ &&
        gCorruptOffset < self->offset_ + nread) {
      w->bytes[gCorruptOffset - self->offset_] ^= 0x20;
    }
    self->offset_ += nread;
    w->req.data = w;
    uv_buf_t out = uv_buf_init(w->bytes.get(), static_cast<unsigned>(nread));
    if (uv_write(&w->req, s, &out, 1, onWrite) != 0) {
      delete w;
      self->close();
    }
  }
  static void onWrite(uv_write_t* req, int) noexcept { delete static_cast<Write*>(req->data); }
  static void onClose(uv_handle_t* h) noexcept { delete ownerOf<EchoConnection>(h); }

  uv_tcp_t tcp_{};
  bool corrupting_ = false;
  long long offset_ = 0;
};

void onConnection(uv_stream_t* server, int status) noexcept {
  if (status != 0) return;
  auto* conn = new EchoConnection(server->loop);
  if (uv_accept(server, conn->stream()) == 0) {
    conn->start();
  } else {
    conn->close();
  }
}

void onSignal(uv_signal_t* handle, int) noexcept {
  uv_walk(
      handle->loop,
      [](uv_handle_t* h, void*) {
        if (uv_is_closing(h)) return;
        if (h->type == UV_TCP && h->data != nullptr) {
          static_cast<EchoConnection*>(h->data)->close();
        } else {
          uv_close(h, nullptr);
        }
      },
      nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--corrupt-offset") == 0) gCorruptOffset = std::atoll(argv[i + 1]);
  }
  uvframe::UvLoop loop;
  uv_tcp_t server{};
  uv_signal_t sigterm{}, sigint{};
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  int rc = uv_tcp_init(loop.get(), &server);
  if (rc == 0) rc = uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&server), 1024, onConnection);
  if (rc != 0) {
    std::fprintf(stderr, "echo peer: cannot listen: %s\n", uvErrorText(rc).c_str());
    return 1;
  }
  uv_signal_init(loop.get(), &sigterm);
  uv_signal_init(loop.get(), &sigint);
  uv_signal_start(&sigterm, onSignal, SIGTERM);
  uv_signal_start(&sigint, onSignal, SIGINT);
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
  std::printf("echo peer listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_run(loop.get(), UV_RUN_DEFAULT);
  return 0;
}
