// Framing: the configurable wire formats of SPEC "Framing options", on plain
// byte spans (no sockets). FrameDecoder (frame_codec.h) is the fixed default;
// FramingDecoder reads any of these, with the same stateless contract.
//
// --framing length (default): a length field, maybe after some offset bytes.
//
//   +---------------------+---------------------------+--------------------+
//   | offset bytes        | length field              | payload            |
//   | lengthOffset bytes, | lengthBytes: 1 2 3 4 or 8,|  field + adjust    |
//   | never checked       | little or big endian      |  bytes             |
//   +---------------------+---------------------------+--------------------+
//   |<------------- header: lengthOffset + lengthBytes ------------>|
//
//   payload bytes = field + lengthAdjust (e.g. -4 when the field counts
//   itself); below zero is a bad header. The default (4 bytes, little
//   endian, offset 0, adjust 0) is exactly FrameDecoder's format.
//
// --framing octet-counting (RFC 6587, as rsyslog and syslog-ng forward):
//
//   +---+---+---+---+---------------------------+
//   | 1 | 2 | 7 | SP| payload (127 bytes)       |
//   +---+---+---+---+---------------------------+
//   a nonzero digit, then at most 9 more digits, then one space (0x20).
//   "012 ", 11 digits, or any other byte where a digit or the space belongs
//   is a bad header. "0 " alone is read as an empty frame: RFC 6587 has no
//   such header, but rsyslog's omfwd sends it for an empty message (senders
//   here never write it: appendHeader refuses an empty octet-counted frame).
//
// --framing varint (protobuf base-128, least significant group first):
//
//   +----------+----------+----------+-------------------------+
//   | 1xxxxxxx | 1xxxxxxx | 0xxxxxxx | payload                 |
//   +----------+----------+----------+-------------------------+
//   bit 7 set: another byte follows. At most 10 bytes; a 10th byte with bit
//   7 set, or above 1 (bits past 2^64), is a bad header. Redundant groups
//   (0x80 0x00 for 0) are accepted, as protobuf does.
//
// In every framing a payload above maxPayloadBytes is "too large", reported
// with the length field's value as received (before the adjust).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "frame_codec.h"

namespace uvframe {

enum class FramingKind : std::uint8_t { kLength, kOctetCounting, kVarint };

std::string_view toString(FramingKind kind);
/// "length", "octet-counting" (also "octet"), "varint"; else nothing.
std::optional<FramingKind> parseFramingKind(std::string_view text);

inline constexpr std::size_t kMaxLengthOffsetBytes = 4096;
inline constexpr std::int64_t kMaxLengthAdjust = std::int64_t{1} << 32;
inline constexpr std::size_t kMaxOctetCountDigits = 10;
inline constexpr std::size_t kMaxVarintBytes = 10;

/// The framing options of the server, client and load generator alike.
struct FramingOptions {
  FramingKind kind = FramingKind::kLength;
  std::uint8_t lengthBytes = 4;  ///< 1, 2, 3, 4 or 8 (kLength)
  ByteOrder byteOrder = ByteOrder::kLittle;
  std::uint32_t lengthOffset = 0;  ///< bytes before the length field (kLength)
  std::int64_t lengthAdjust = 0;   ///< field + adjust = payload bytes (kLength)
  std::uint32_t maxPayloadBytes = kDefaultMaxFrameBytes;

  bool operator==(const FramingOptions&) const = default;
};

/// Empty when options are usable, else a sentence naming the option at fault
/// ("--length-bytes must be 1, 2, 3, 4 or 8, not 5").
std::string validateFramingOptions(const FramingOptions& options);
/// "framing=length, length-bytes=4, byte-order=little, length-offset=0,
/// length-adjust=0" (only "framing=varint" for the others): for the
/// listening line.
std::string describeFraming(const FramingOptions& options);

/// What FramingDecoder::decode found at the front of a span.
struct FramingResult {
  enum class Status : std::uint8_t {
    kFrame,      ///< a complete frame: payload and consumedBytes are set
    kNeedMore,   ///< incomplete: frameBytes is the whole frame's size, once known
    kTooLarge,   ///< the payload is above the limit: lengthField tells what came
    kBadHeader,  ///< the header can never be valid: reason tells why
  };
  Status status = Status::kNeedMore;
  std::uint64_t lengthField = 0;       ///< the length as received, once the header is whole
  std::uint32_t payloadBytes = 0;      ///< payload size (kFrame; kNeedMore once known)
  std::span<const std::byte> payload;  ///< view into the input (kFrame)
  std::size_t headerBytes = 0;         ///< once the header is whole
  std::size_t consumedBytes = 0;       ///< header + payload (kFrame)
  std::size_t frameBytes = 0;          ///< header + payload, 0 if unknown (kNeedMore)
  std::string_view reason;             ///< kBadHeader: a short static text
};

/// Splits a byte stream into frames of one framing. Stateless between calls,
/// like FrameDecoder: the caller keeps unconsumed bytes and calls decode()
/// again once more are appended; a call on any prefix of a stream gives
/// kNeedMore or the same answer as on the whole. Cheap to copy; safe to
/// share between threads. The options must have passed
/// validateFramingOptions().
class FramingDecoder {
 public:
  explicit FramingDecoder(const FramingOptions& options = {})
      : options_(options),
        plain4_(options.kind == FramingKind::kLength && options.lengthBytes == 4 &&
                options.lengthOffset == 0 && options.lengthAdjust == 0) {}

  /// Decodes the frame at the front of input, if there is a whole one.
  FramingResult decode(std::span<const std::byte> input) const {
    if (plain4_) return decodePlain4(input);
    FramingResult r;
    switch (options_.kind) {
      case FramingKind::kLength:
        if (!readLengthHeader(input, r)) return r;
        break;
      case FramingKind::kOctetCounting:
        if (!readOctetCountHeader(input, r)) return r;
        break;
      case FramingKind::kVarint:
        if (!readVarintHeader(input, r)) return r;
        break;
    }
    finish(input, r);
    return r;
  }

  const FramingOptions& options() const { return options_; }

  /// The seed's framing: a 4-byte length in this byte order, payloads up to
  /// maxPayloadBytes.
  static FramingDecoder lengthPrefix(ByteOrder order = ByteOrder::kLittle,
                                     std::uint32_t maxPayloadBytes = kDefaultMaxFrameBytes) {
    FramingOptions o;
    o.byteOrder = order;
    o.maxPayloadBytes = maxPayloadBytes;
    return FramingDecoder(o);
  }

 private:
  // The default framing (and big endian), step for step as FrameDecoder:
  // the general path's offset, adjust and kind cost a third more time per
  // 16-byte frame (bench_codec BM_DecodeFlat_*).
  FramingResult decodePlain4(std::span<const std::byte> input) const {
    FramingResult r;
    if (input.size() < kFrameHeaderBytes) return r;
    r.headerBytes = kFrameHeaderBytes;
    const std::uint32_t length = decodeLength(input.data(), options_.byteOrder);
    r.lengthField = length;
    if (length > options_.maxPayloadBytes) {
      r.status = FramingResult::Status::kTooLarge;
      return r;
    }
    r.payloadBytes = length;
    std::size_t total = kFrameHeaderBytes + length;
    if (input.size() < total) {
      r.frameBytes = total;
      return r;
    }
    r.status = FramingResult::Status::kFrame;
    r.payload = input.subspan(kFrameHeaderBytes, length);
    r.consumedBytes = total;
    return r;
  }

  // Each reads the header at the front of input into r (lengthField,
  // headerBytes); false when r is already the answer (need more, bad header).
  bool readLengthHeader(std::span<const std::byte> input, FramingResult& r) const {
    r.headerBytes = options_.lengthOffset + options_.lengthBytes;
    if (input.size() < r.headerBytes) return false;
    const std::byte* field = input.data() + options_.lengthOffset;
    // The default header is read exactly as FrameDecoder reads it.
    r.lengthField =
        options_.lengthBytes == 4 ? decodeLength(field, options_.byteOrder) : readField(field);
    return true;
  }
  std::uint64_t readField(const std::byte* field) const;
  bool readOctetCountHeader(std::span<const std::byte> input, FramingResult& r) const;
  bool readVarintHeader(std::span<const std::byte> input, FramingResult& r) const;

  // From a whole header to the answer: adjust, limit, enough bytes.
  void finish(std::span<const std::byte> input, FramingResult& r) const {
    std::uint64_t payload = r.lengthField;
    if (options_.lengthAdjust < 0) {
      auto minus = static_cast<std::uint64_t>(-options_.lengthAdjust);
      if (payload < minus) {
        r.status = FramingResult::Status::kBadHeader;
        r.reason = "adjusted length below zero";
        return;
      }
      payload -= minus;
    } else {
      auto plus = static_cast<std::uint64_t>(options_.lengthAdjust);
      payload = payload > UINT64_MAX - plus ? UINT64_MAX : payload + plus;
    }
    if (payload > options_.maxPayloadBytes) {
      r.status = FramingResult::Status::kTooLarge;
      return;
    }
    r.payloadBytes = static_cast<std::uint32_t>(payload);
    std::size_t total = r.headerBytes + r.payloadBytes;
    if (input.size() < total) {
      r.frameBytes = total;
      return;
    }
    r.status = FramingResult::Status::kFrame;
    r.payload = input.subspan(r.headerBytes, r.payloadBytes);
    r.consumedBytes = total;
  }

  FramingOptions options_;
  bool plain4_;  ///< 4-byte field, no offset, no adjust: decodePlain4()
};

/// The longest header these options can give (offset + field, 11 for an
/// octet count, 10 for a varint).
std::size_t framingMaxHeaderBytes(const FramingOptions& options);

/// Header bytes announcing payloadBytes, or 0 when these options cannot
/// announce it (a field too narrow, an adjusted field below zero).
std::size_t framingHeaderBytes(const FramingOptions& options, std::uint64_t payloadBytes);
/// Appends the header announcing payloadBytes to out (offset bytes as zeros,
/// the length field as payloadBytes - lengthAdjust). False, and out
/// unchanged, when these options cannot announce it. Does not check
/// maxPayloadBytes: the sender decides what to do about that.
bool appendHeader(const FramingOptions& options, std::uint64_t payloadBytes,
                  std::vector<std::byte>& out);
bool appendHeader(const FramingOptions& options, std::uint64_t payloadBytes, std::string& out);

}  // namespace uvframe
