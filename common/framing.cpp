// Framing: see framing.h for the wire layouts.
#include "framing.h"

#include <array>
#include <string>

namespace uvframe {
namespace {

constexpr std::byte kSpace{0x20};

bool isDigit(std::byte b) {
  return b >= std::byte{'0'} && b <= std::byte{'9'};
}

bool validLengthBytes(unsigned n) {
  return n == 1 || n == 2 || n == 3 || n == 4 || n == 8;
}

// The largest value a field of n bytes holds.
std::uint64_t fieldMax(unsigned n) {
  return n >= 8 ? UINT64_MAX : (std::uint64_t{1} << (8 * n)) - 1;
}

// The variable part of a header (the length field, the decimal digits and
// space, or the varint) for payloadBytes, into buf; returns its size, or 0
// when the options cannot announce that payload. Offset bytes come first and
// are the caller's (zeros).
std::size_t encodeLengthPart(const FramingOptions& o, std::uint64_t payloadBytes,
                             std::array<std::byte, 16>& buf) {
  switch (o.kind) {
    case FramingKind::kLength: {
      // field = payload - adjust, which must lie in 0..fieldMax. The adjust
      // is bounded (validateFramingOptions), so the int64 arithmetic cannot
      // overflow for payloads below 2^62.
      if (payloadBytes > (std::uint64_t{1} << 62)) return 0;
      std::int64_t field = static_cast<std::int64_t>(payloadBytes) - o.lengthAdjust;
      if (field < 0 || static_cast<std::uint64_t>(field) > fieldMax(o.lengthBytes)) return 0;
      auto v = static_cast<std::uint64_t>(field);
      for (unsigned i = 0; i < o.lengthBytes; ++i) {
        unsigned shift = o.byteOrder == ByteOrder::kLittle ? 8 * i : 8 * (o.lengthBytes - 1 - i);
        buf[i] = static_cast<std::byte>((v >> shift) & 0xFFu);
      }
      return o.lengthBytes;
    }
    case FramingKind::kOctetCounting: {
      // RFC 6587's length begins with a nonzero digit: no empty frames.
      if (payloadBytes == 0 || payloadBytes > 9'999'999'999ull) return 0;
      std::string digits = std::to_string(payloadBytes);
      for (std::size_t i = 0; i < digits.size(); ++i)
        buf[i] = static_cast<std::byte>(digits[i]);
      buf[digits.size()] = kSpace;
      return digits.size() + 1;
    }
    case FramingKind::kVarint: {
      std::size_t n = 0;
      std::uint64_t v = payloadBytes;
      do {
        auto group = static_cast<std::uint8_t>(v & 0x7Fu);
        v >>= 7;
        buf[n++] = static_cast<std::byte>(v != 0 ? group | 0x80u : group);
      } while (v != 0);
      return n;
    }
  }
  return 0;
}

template <class Out>
bool appendHeaderTo(const FramingOptions& o, std::uint64_t payloadBytes, Out& out) {
  std::array<std::byte, 16> buf{};
  std::size_t n = encodeLengthPart(o, payloadBytes, buf);
  if (n == 0) return false;
  std::size_t offset = o.kind == FramingKind::kLength ? o.lengthOffset : 0;
  out.resize(out.size() + offset, typename Out::value_type{});
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(static_cast<typename Out::value_type>(buf[i]));
  return true;
}

}  // namespace

std::string_view toString(FramingKind kind) {
  switch (kind) {
    case FramingKind::kLength:
      return "length";
    case FramingKind::kOctetCounting:
      return "octet-counting";
    case FramingKind::kVarint:
      return "varint";
  }
  return "?";
}

std::optional<FramingKind> parseFramingKind(std::string_view text) {
  if (text == "length") return FramingKind::kLength;
  if (text == "octet-counting" || text == "octet") return FramingKind::kOctetCounting;
  if (text == "varint") return FramingKind::kVarint;
  return std::nullopt;
}

std::size_t framingMaxHeaderBytes(const FramingOptions& o) {
  switch (o.kind) {
    case FramingKind::kLength:
      return std::size_t{o.lengthOffset} + o.lengthBytes;
    case FramingKind::kOctetCounting:
      return kMaxOctetCountDigits + 1;
    case FramingKind::kVarint:
      return kMaxVarintBytes;
  }
  return 0;
}

std::string validateFramingOptions(const FramingOptions& o) {
  if (o.kind != FramingKind::kLength) {
    // The length-field options mean nothing here; a value other than the
    // default is a mistake worth naming rather than ignoring.
    std::string framing = "--framing " + std::string(toString(o.kind));
    if (o.lengthBytes != 4)
      return "--length-bytes applies only to --framing length, not " + framing;
    if (o.lengthOffset != 0)
      return "--length-offset applies only to --framing length, not " + framing;
    if (o.lengthAdjust != 0)
      return "--length-adjust applies only to --framing length, not " + framing;
    return {};
  }
  if (!validLengthBytes(o.lengthBytes)) {
    return "--length-bytes must be 1, 2, 3, 4 or 8, not " + std::to_string(o.lengthBytes);
  }
  if (o.lengthOffset > kMaxLengthOffsetBytes) {
    return "--length-offset must be at most " + std::to_string(kMaxLengthOffsetBytes) + ", not " +
           std::to_string(o.lengthOffset);
  }
  if (o.lengthAdjust > kMaxLengthAdjust || o.lengthAdjust < -kMaxLengthAdjust) {
    return "--length-adjust must lie within -" + std::to_string(kMaxLengthAdjust) + "..+" +
           std::to_string(kMaxLengthAdjust) + ", not " + std::to_string(o.lengthAdjust);
  }
  // An adjust that no field value can make up for would refuse every frame.
  if (o.lengthAdjust < 0 && static_cast<std::uint64_t>(-o.lengthAdjust) > fieldMax(o.lengthBytes)) {
    return "--length-adjust " + std::to_string(o.lengthAdjust) + " makes every " +
           std::to_string(o.lengthBytes) + "-byte length negative";
  }
  return {};
}

std::string describeFraming(const FramingOptions& o) {
  std::string text = "framing=" + std::string(toString(o.kind));
  if (o.kind == FramingKind::kLength) {
    text += ", length-bytes=" + std::to_string(o.lengthBytes) +
            ", byte-order=" + std::string(toString(o.byteOrder)) +
            ", length-offset=" + std::to_string(o.lengthOffset) +
            ", length-adjust=" + std::to_string(o.lengthAdjust);
  }
  return text;
}

std::uint64_t FramingDecoder::readField(const std::byte* field) const {
  const unsigned n = options_.lengthBytes;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    auto b = std::to_integer<std::uint64_t>(field[i]);
    if (options_.byteOrder == ByteOrder::kLittle) {
      v |= b << (8 * i);
    } else {
      v = (v << 8) | b;
    }
  }
  return v;
}

// "<nonzero digit><0..9 digits> SP". Every byte is judged as it arrives, so
// a prefix either is still a possible header (need more) or already fails.
bool FramingDecoder::readOctetCountHeader(std::span<const std::byte> input,
                                          FramingResult& r) const {
  auto bad = [&r](std::string_view reason) {
    r.status = FramingResult::Status::kBadHeader;
    r.reason = reason;
    return false;
  };
  if (input.empty()) return false;
  if (input[0] == std::byte{'0'}) {
    // RFC 6587 has no "0 ", yet rsyslog's omfwd sends it for an empty
    // message: read it as an empty frame rather than drop the forwarder.
    // Any other leading zero is still a bad header.
    if (input.size() < 2) return false;
    if (input[1] != kSpace) return bad("octet count begins with 0");
    r.lengthField = 0;
    r.headerBytes = 2;
    return true;
  }
  if (!isDigit(input[0])) return bad("octet count is not a decimal number");
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    std::byte b = input[i];
    if (isDigit(b)) {
      if (i == kMaxOctetCountDigits) return bad("octet count longer than 10 digits");
      value = value * 10 + std::to_integer<std::uint64_t>(b) - '0';
      continue;
    }
    if (b != kSpace) return bad("octet count not followed by a space");
    r.lengthField = value;
    r.headerBytes = i + 1;
    return true;
  }
  return false;
}

// Base-128 groups, least significant first; the 10th byte holds bit 63 only.
bool FramingDecoder::readVarintHeader(std::span<const std::byte> input, FramingResult& r) const {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    auto b = std::to_integer<std::uint64_t>(input[i]);
    if (i == kMaxVarintBytes - 1) {
      if ((b & 0x80u) != 0) {
        r.status = FramingResult::Status::kBadHeader;
        r.reason = "varint longer than 10 bytes";
        return false;
      }
      if (b > 1) {
        r.status = FramingResult::Status::kBadHeader;
        r.reason = "varint above 64 bits";
        return false;
      }
    }
    value |= (b & 0x7Fu) << (7 * i);
    if ((b & 0x80u) == 0) {
      r.lengthField = value;
      r.headerBytes = i + 1;
      return true;
    }
  }
  return false;
}

std::size_t framingHeaderBytes(const FramingOptions& options, std::uint64_t payloadBytes) {
  std::array<std::byte, 16> buf{};
  std::size_t n = encodeLengthPart(options, payloadBytes, buf);
  if (n == 0) return 0;
  return n + (options.kind == FramingKind::kLength ? options.lengthOffset : 0);
}

bool appendHeader(const FramingOptions& options, std::uint64_t payloadBytes,
                  std::vector<std::byte>& out) {
  return appendHeaderTo(options, payloadBytes, out);
}

bool appendHeader(const FramingOptions& options, std::uint64_t payloadBytes, std::string& out) {
  return appendHeaderTo(options, payloadBytes, out);
}

}  // namespace uvframe
