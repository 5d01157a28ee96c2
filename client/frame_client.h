// FrameClient: the one framed TCP connection of uvframe-client.
//
// The program is a command-line tool that sends messages in order and waits
// for each step, so FrameClient offers blocking-style steps (connect, send,
// receiveFrame, finish). Each step runs the libuv loop until its own work is
// done or its deadline passes; all socket work still goes through libuv, and
// every libuv error becomes a ClientError with a clear message.
//
// Like the classic Windows client, send() writes the header and the payload
// as two separate writes (the header of the chosen framing: by default the
// 4-byte length, see framing.h for the others):
//
//   write 1: +----+----+----+----+   write 2: +---------------------------+
//            | payload length    |            | payload (length bytes)    |
//            +----+----+----+----+            +---------------------------+
//
// receiveFrame() reads the echoed frames in the same framing.
//
// With useTls() the same steps run over TLS (frame_client_tls.cpp): connect()
// includes the handshake, each of the two writes is its own TLS record, and
// finish() sends close_notify before the half-close.
#pragma once

#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "frame_codec.h"
#include "framing.h"
#include "tls_context.h"
#include "tls_session.h"
#include "uv_handle.h"

namespace uvframe {

/// A failure the client reports on one line and exits 1 for.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Owns its loop, its TCP handle and a deadline timer; one thread only.
/// Every method but the accessors throws ClientError on failure.
class FrameClient {
 public:
  /// framing has passed validateFramingOptions(); its maxPayloadBytes
  /// bounds the frames received.
  FrameClient(const FramingOptions& framing, std::chrono::milliseconds timeout);
  /// The default framing: a 4-byte length in this byte order.
  FrameClient(ByteOrder order, std::uint32_t maxFrameBytes, std::chrono::milliseconds timeout);
  ~FrameClient();
  FrameClient(const FrameClient&) = delete;
  FrameClient& operator=(const FrameClient&) = delete;

  /// Connects to the first address that accepts; hostLabel names the target
  /// in error messages ("127.0.0.1:9000").
  void connect(const std::vector<sockaddr_storage>& addresses, const std::string& hostLabel);
  /// The header bytes that announce a payload of payloadBytes, or 0 when
  /// the framing cannot announce it (octet-counting and an empty payload, a
  /// length field too narrow, ...).
  std::size_t headerBytesFor(std::size_t payloadBytes) const;
  /// Sends one frame: the header, then the payload, as two writes. Returns
  /// the header's size; a payload the framing cannot announce is a
  /// ClientError, with nothing sent.
  std::size_t send(std::string_view payload);
  /// Waits for the next whole frame from the server and returns its
  /// payload; headerBytes (if given) gets the size of its header.
  std::string receiveFrame(std::size_t* headerBytes = nullptr);
  /// Half-closes the connection, waits (bounded) for the server to close its
  /// side so every frame was read, then closes the handle.
  void finish();

  /// Speak TLS from the next connect() on (call before it).
  void useTls(std::shared_ptr<TlsContext> context) { tlsContext_ = std::move(context); }
  /// After a TLS connect: "tls=TLSv1.3, cipher=..., server=CN=..."; "" without TLS.
  std::string tlsSummary() const;

  /// Keep bytes the server sends (for receiveFrame); off: they are dropped.
  void setKeepReceived(bool keep) { keepReceived_ = keep; }
  std::string localAddress() const;
  std::string remoteAddress() const;

 private:
  static void onConnect(uv_connect_t* req, int status) noexcept;
  static void onWrite(uv_write_t* req, int status) noexcept;
  static void onShutdown(uv_shutdown_t* req, int status) noexcept;
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onTimer(uv_timer_t* timer) noexcept;

  bool tryConnect(const sockaddr_storage& address, int& status);
  void closeTcp();
  /// Runs the loop until done() holds (true) or the timeout passes (false).
  bool runUntil(const std::function<bool()>& done);
  void throwIfClosed(const char* what) const;
  /// Plaintext: queues the header and the payload as two writes.
  void sendFrameWrites(std::string_view payload);

  // TLS (frame_client_tls.cpp).
  static void onCiphertextWritten(uv_write_t* req, int status) noexcept;
  /// Runs the handshake on the connected socket; throws ClientError.
  void handshakeTls(const std::string& target);
  /// Queues what the session has to send as one write (counted in writesPending_).
  void sendCiphertext();
  /// Feeds bytes from the socket to the session and keeps the plaintext.
  void receiveCiphertext(const char* data, std::size_t size);
  /// Encrypts bytes as one record and queues it.
  void sendPlaintext(std::string_view bytes);

  UvLoop loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connectReq_{};
  uv_shutdown_t shutdownReq_{};
  std::array<uv_write_t, 2> writeReqs_{};
  FramingOptions framing_;
  FramingDecoder decoder_;
  std::chrono::milliseconds timeout_;

  bool tcpOpen_ = false;
  bool tcpClosed_ = true;
  bool timedOut_ = false;
  int connectStatus_ = 1;  // 1: pending
  int writesPending_ = 0;
  int writeStatus_ = 0;
  bool shutdownDone_ = false;
  bool eof_ = false;
  int readError_ = 0;
  bool keepReceived_ = false;
  std::shared_ptr<TlsContext> tlsContext_;  // set: speak TLS
  std::unique_ptr<TlsSession> tls_;
  std::string tlsError_;  // why the session failed

  std::string header_;   // the frame's header being written; valid until its write callback
  std::string payload_;  // the frame being written; valid until its write callback
  std::string received_;
  std::array<char, 64 * 1024> readBuffer_{};
};

}  // namespace uvframe
