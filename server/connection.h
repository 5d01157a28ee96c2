// Connection: one accepted TCP peer — its socket, its receive ring, and the
// story the log tells about it (connected, every message, disconnected with
// reason and totals).
//
// Read path (no copy, no allocation per frame in the steady state):
//   libuv alloc_cb  -> RingBuffer::prepareWrite()   bytes land in the ring
//   libuv read_cb   -> RingBuffer::commit(n)
//                   -> FrameDecoder::decode() over the readable span
//                   -> one log line per complete frame, rendered from the ring
//                   -> --echo: the complete frames go back with one
//                      uv_try_write straight from the ring; only what the
//                      socket does not take at once is copied and queued
//                   -> RingBuffer::consume(); storage back to the pool once empty
//
// A frame larger than the receive chunk is not kept whole unless --echo needs
// it: its header and the first --max-logged-bytes of payload stay in the ring
// and the rest is skimmed off as it arrives (the log line shows only those
// bytes anyway), so a 1 MiB frame costs one chunk, not 1 MiB.
// A peer that stalls mid-frame for a second is parked: its few bytes move to
// a block of their own size and the chunk goes back to the pool.
#pragma once

#include <spdlog/common.h>
#include <uv.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "frame_codec.h"
#include "peer_address.h"
#include "ring_buffer.h"

namespace uvframe {

class Worker;
using ConnId = std::uint64_t;

/// Why a connection ended; printed as the disconnected line's reason.
enum class CloseReason : std::uint8_t {
  kPeerClosed,
  kReset,
  kIdleTimeout,
  kFrameTimeout,
  kFrameTooLarge,
  kServerShutdown,
  kReadError,
  kWriteError,
  kWriteTimeout,
  kRefused,
};
std::string_view toString(CloseReason reason);

/// One peer. Owned by its Worker (map from ConnId); used only on the worker's
/// loop thread. close() is the only way out; the memory is freed when libuv's
/// close callback asks the Worker to erase it.
class Connection {
 public:
  Connection(Worker& worker, ConnId id);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&tcp_); }
  ConnId id() const { return id_; }
  bool isClosing() const { return uv_is_closing(reinterpret_cast<const uv_handle_t*>(&tcp_)); }

  /// After uv_accept: names the peer, logs the connected line and starts
  /// reading. Closes the connection (quietly) if the peer is already gone.
  void start();
  /// After uv_accept, when the server is full: logs nothing itself, closes.
  void refuse();
  /// Logs the disconnected line (once) and closes the socket. Idempotent.
  void close(CloseReason reason);
  /// Server shutdown: reads what the socket already holds, logs every
  /// complete frame in it, then closes with reason "server shutdown".
  void drainAndClose();
  /// Closes the connection if it has been idle, or stuck mid-frame, too long.
  void checkTimeouts(std::uint64_t nowMs);
  /// Resumes reading after the memory budget stopped it.
  void resumeAfterMemoryWait();
  /// Gives back the chunk of a peer that stalled mid-frame (see file
  /// comment). Returns true if memory was released.
  bool parkIfStalled(std::uint64_t nowMs);

  const PeerAddress& peer() const { return peer_; }

 private:
  enum PauseBits : std::uint8_t { kPausedForEcho = 1, kPausedForMemory = 2 };
  struct EchoWrite;

  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onWrite(uv_write_t* req, int status) noexcept;
  static void onClose(uv_handle_t* handle) noexcept;

  void handleRead(ssize_t nread, std::size_t offeredBytes);
  void handleWriteDone(std::size_t bytes, int status);
  void processFrames();
  void startSkimming(std::uint32_t payloadBytes);
  void skim(std::size_t newBytes);
  /// Logs one message line (the caller checked the level).
  void logFrame(std::span<const std::byte> payload, std::size_t totalBytes,
                spdlog::log_clock::time_point when);
  void rejectOversizedFrame(std::uint32_t announcedBytes, std::span<const std::byte> sample);
  void sendEcho(std::span<const std::byte> frames);
  void pause(std::uint8_t bit);
  void resume(std::uint8_t bit);
  void releaseReadBuffer();
  void closeWithError(CloseReason reason, int status);
  /// Bytes of the frame in progress received so far (header included).
  std::size_t unfinishedBytes() const;

  uv_tcp_t tcp_;
  Worker& worker_;
  ConnId id_;
  RingBuffer ring_;
  PeerAddress peer_;
  std::string tag_;  ///< "[tcp/127.0.0.1:55244] ", prefix of each message line

  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t startMs_ = 0;
  std::uint64_t lastActivityMs_ = 0;
  std::uint64_t partialSinceMs_ = 0;       ///< when the unfinished frame began
  std::uint64_t lastWriteProgressMs_ = 0;  ///< last echo write progress (while paused)
  std::size_t pendingFrameBytes_ = 0;      ///< size of the unfinished frame, if known
  std::size_t queuedEchoBytes_ = 0;
  // Skimming a frame larger than the chunk: the ring holds its header and
  // skimKept_ payload bytes; skimSeen_ of skimPayloadBytes_ have arrived.
  std::uint32_t skimPayloadBytes_ = 0;
  std::uint32_t skimSeen_ = 0;
  std::uint32_t skimKept_ = 0;
  bool skimming_ = false;
  std::uint8_t paused_ = 0;
  bool hasPartial_ = false;
  bool announced_ = false;  ///< connected line logged (so log the disconnect)
  bool counted_ = false;    ///< included in the open-connections count
};

}  // namespace uvframe
