// Frame codec: the wire format of uvframe, on plain byte spans (no sockets).
//
//   +--------+--------+--------+--------+--------------------------------+
//   |      payload length (4 bytes)     |  payload (length bytes)        |
//   |  little-endian (default) or big   |  any bytes, often text         |
//   +--------+--------+--------+--------+--------------------------------+
//
// Little-endian is what the classic Windows client sends with
// send(sock, (char*)&len, sizeof(int), 0) on x86/x64; big-endian is network
// order. A zero length is a valid, empty message. A length above the limit is
// a protocol error and the connection that sent it is closed.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace uvframe {

enum class ByteOrder : std::uint8_t { kLittle, kBig };

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 1u << 20;

std::string_view toString(ByteOrder order);
std::optional<ByteOrder> parseByteOrder(std::string_view text);

/// Reads the 4-byte length at the front of header (which holds >= 4 bytes).
/// Inline: it runs once per frame, and a call there cost up to a fifth of the
/// decoding time of 16-byte frames.
inline std::uint32_t decodeLength(const std::byte* header, ByteOrder order) {
  std::uint32_t v;
  std::memcpy(&v, header, sizeof v);
  bool swap = (order == ByteOrder::kLittle) != (std::endian::native == std::endian::little);
  if (swap) {
    v = (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
  }
  return v;
}
/// The 4-byte header announcing a payload of payloadBytes.
std::array<std::byte, kFrameHeaderBytes> encodeHeader(std::uint32_t payloadBytes, ByteOrder order);

/// What FrameDecoder::decode found at the front of a span.
struct DecodeResult {
  enum class Status : std::uint8_t {
    kFrame,     ///< a complete frame: payload and consumedBytes are set
    kNeedMore,  ///< incomplete: frameBytes is the whole frame's size, once known
    kTooLarge,  ///< the length is above the limit: payloadBytes tells it
  };
  Status status = Status::kNeedMore;
  std::uint32_t payloadBytes = 0;
  std::span<const std::byte> payload;  ///< view into the input (kFrame)
  std::size_t consumedBytes = 0;       ///< header + payload (kFrame)
  std::size_t frameBytes = 0;          ///< header + payload, 0 if unknown (kNeedMore)
};

/// Splits a byte stream into frames. Stateless between calls: the caller keeps
/// unconsumed bytes (the receive ring does) and calls decode() again once more
/// bytes are appended. Cheap to copy; safe to share between threads.
class FrameDecoder {
 public:
  explicit FrameDecoder(ByteOrder order = ByteOrder::kLittle,
                        std::uint32_t maxPayloadBytes = kDefaultMaxFrameBytes)
      : order_(order), maxPayloadBytes_(maxPayloadBytes) {}

  /// Decodes the frame at the front of input, if there is a whole one.
  DecodeResult decode(std::span<const std::byte> input) const {
    DecodeResult r;
    if (input.size() < kFrameHeaderBytes) return r;
    r.payloadBytes = decodeLength(input.data(), order_);
    if (r.payloadBytes > maxPayloadBytes_) {
      r.status = DecodeResult::Status::kTooLarge;
      return r;
    }
    std::size_t total = kFrameHeaderBytes + r.payloadBytes;
    if (input.size() < total) {
      r.frameBytes = total;
      return r;
    }
    r.status = DecodeResult::Status::kFrame;
    r.payload = input.subspan(kFrameHeaderBytes, r.payloadBytes);
    r.consumedBytes = total;
    return r;
  }

  ByteOrder byteOrder() const { return order_; }
  std::uint32_t maxPayloadBytes() const { return maxPayloadBytes_; }

 private:
  ByteOrder order_;
  std::uint32_t maxPayloadBytes_;
};

/// Names the protocol a misdirected peer probably speaks, judging by the first
/// bytes it sent where a frame header was expected ("HTTP", "TLS", ...), or an
/// empty view when the bytes give nothing away.
std::string_view guessForeignProtocol(std::span<const std::byte> firstBytes);

}  // namespace uvframe
