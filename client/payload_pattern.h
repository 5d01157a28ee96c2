// PayloadPattern: the load generator's default payload, printable ASCII that
// names its connection and sequence number and is padded with filler to the
// frame size:
//
//   conn=17 seq=42 pqrstuvwxyz0123456789ABCDEF...
//   `-- prefix ---'`-- filler: kFiller cycled by byte position --'
//
// A server log line then shows which frame it is, so scripts/check-log.py can
// prove completeness and per-connection order. An echo is checked without
// keeping a copy of what was sent: the expected bytes are regenerated from
// (connection, sequence, size). Frames shorter than the prefix carry only its
// beginning (and cannot be checked in a server log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace uvframe {

/// Immutable after construction: shared read-only by every loop thread.
class PayloadPattern {
 public:
  /// Longest "conn=<id> seq=<n> " prefix (two 20-digit numbers).
  static constexpr std::size_t kMaxPrefixBytes = 64;

  explicit PayloadPattern(std::uint32_t maxSizeBytes);

  /// Writes the sizeBytes payload of frame seq of connection connId to out.
  void write(std::uint64_t connId, std::uint64_t seq, std::uint32_t sizeBytes, char* out) const;
  /// True if payload is exactly the payload write() makes for these values.
  bool matches(std::span<const std::byte> payload, std::uint64_t connId, std::uint64_t seq,
               std::uint32_t sizeBytes) const;

  /// Writes "conn=<id> seq=<n> " to out (kMaxPrefixBytes) and returns its length.
  static std::size_t writePrefix(std::uint64_t connId, std::uint64_t seq, char* out);

 private:
  std::string filler_;  // filler_[i] is the byte at payload position i
};

}  // namespace uvframe
