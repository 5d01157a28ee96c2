// ProxyHeaderParser: the PROXY protocol header (HAProxy's proxy-protocol.txt)
// a load balancer sends before a connection's first frame, parsed from byte
// spans with no socket in sight (unit-tested and fuzzed on spans).
//
//   v1: "PROXY TCP4 203.0.113.7 192.0.2.1 41000 9000\r\n"  (at most 107 bytes)
//   v2: 12-byte signature, ver/cmd, fam/proto, 2-byte length, then length bytes
//       (the address block, then TLVs, which are skipped and never parsed)
//
// The bytes arrive in reads of any size, one byte at a time included; the
// parser consumes header bytes only and never one past the header's end (the
// bytes after it are frames and stay with the caller). It decides as early as
// the bytes allow: a first byte other than 'P' or '\r' is an error at once.
//
// Why a fixed buffer: a v2 header may announce up to 65535 bytes, but only its
// 16 fixed bytes and the first 36 of its address block (IPv6 + ports) carry
// anything we use; the rest is counted down as it arrives, never stored. A v1
// line is at most 107 bytes. So one 107-byte array covers both, and a
// connection's header costs the same whatever it announces (no heap).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "peer_address.h"

namespace uvframe {

/// Which PROXY protocol versions the server accepts.
enum class ProxyVersions : std::uint8_t { kV1 = 1, kV2 = 2, kAny = 3 };

/// What a complete header said.
struct ProxyHeader {
  int version = 0;  ///< 1 or 2
  /// v2 LOCAL command (a balancer's health check), v2 UNSPEC family or
  /// transport, or v1 "UNKNOWN": keep the socket's own address.
  bool local = false;
  std::optional<PeerAddress> source;       ///< the client (TCP over IPv4/IPv6 PROXY only)
  std::optional<PeerAddress> destination;  ///< the address the client connected to
  std::size_t headerBytes = 0;             ///< whole header size on the wire
};

/// Parses one connection's PROXY header, fed in pieces as they arrive.
class ProxyHeaderParser {
 public:
  enum class Status : std::uint8_t { kNeedMore, kDone, kError };

  /// The longest v1 line, CRLF included.
  static constexpr std::size_t kV1MaxBytes = 107;
  /// The fixed part of a v2 header (signature, ver/cmd, fam, length).
  static constexpr std::size_t kV2FixedBytes = 16;

  explicit ProxyHeaderParser(ProxyVersions accepted);

  /// Feeds the next bytes of the stream; returns how many it consumed. Only
  /// header bytes are consumed: on kDone the bytes past the header are left.
  /// On kError the count includes the byte that proved the error. After
  /// kDone or kError nothing more is consumed.
  std::size_t feed(std::span<const std::byte> bytes);

  Status status() const { return status_; }
  /// The header, once status() is kDone.
  const ProxyHeader& result() const { return result_; }
  /// Why the header was refused (a short phrase for a log line), once
  /// status() is kError; empty otherwise.
  std::string_view error() const { return {errorText_.data(), errorBytes_}; }

 private:
  enum class Stage : std::uint8_t { kFirst, kV1Prefix, kV1Line, kV2Fixed, kV2Address, kV2Skip };

  void step(std::uint8_t b);  // one byte; may finish or fail
  void stepV1Line(std::uint8_t b);
  void stepV2Fixed(std::uint8_t b);
  void finishV1();
  void finishV2();
  void fail(std::string_view why);
  void failWithNumber(std::string_view prefix, unsigned n, std::string_view suffix);

  ProxyVersions accepted_;
  Status status_ = Status::kNeedMore;
  Stage stage_ = Stage::kFirst;
  bool v2Local_ = false;          // LOCAL command or UNSPEC: addresses ignored
  std::uint8_t v2Family_ = 0;     // 1 = IPv4, 2 = IPv6 (when !v2Local_)
  std::size_t stored_ = 0;        // bytes in buf_
  std::size_t consumed_ = 0;      // header bytes seen so far
  std::size_t toSkip_ = 0;        // v2: bytes of the address block not stored yet
  std::size_t addressBytes_ = 0;  // v2: address bytes to store (0, 12 or 36)
  std::array<char, kV1MaxBytes> buf_{};
  std::array<char, 64> errorText_{};
  std::size_t errorBytes_ = 0;
  ProxyHeader result_;
};

}  // namespace uvframe
