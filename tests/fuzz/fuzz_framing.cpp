// libFuzzer target: FramingDecoder (every framing of SPEC "Framing options")
// fed the way a receive ring feeds it, in reads of fuzzer-chosen sizes
// (unconsumed bytes stay, new ones are appended, frames are taken from the
// front), checked against a reference model written here from the SPEC that
// parses the whole stream at once. Any difference in the frames, in where
// and how the stream ends (too large, bad header, or waiting for more), in
// the length reported as too large, or a frame consuming more than it was
// given, traps.
//
// Input layout:
//   byte 0     bits 0-1: framing (0, 1 length; 2 octet-counting; 3 varint);
//              bit 2: big endian; bits 3-7: length bytes, {1,2,3,4,8}[v % 5]
//   byte 1     length offset (low 4 bits)
//   byte 2     length adjust, a signed byte
//   bytes 3-4  max payload (little-endian)
//   bytes 5-8  four read sizes (byte + 1), used in turn
//   rest       the byte stream a peer sends
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "framing.h"

namespace {

using uvframe::ByteOrder;
using uvframe::FramingKind;
using uvframe::FramingOptions;
using uvframe::FramingResult;
using Status = FramingResult::Status;

constexpr std::size_t kParamBytes = 9;
constexpr std::uint8_t kWidths[5] = {1, 2, 3, 4, 8};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// How a stream decodes: each frame's payload (offset and size in the stream),
// then how it ends, where (the offset of the frame that ended it) and, when
// too large, the length field as received.
struct Outcome {
  std::vector<std::pair<std::size_t, std::size_t>> frames;
  Status end = Status::kNeedMore;
  std::size_t endOffset = 0;
  std::uint64_t tooLargeField = 0;
};

// --- The reference model: the SPEC's rules, one whole stream at a time ----

// One header at s[0, n): kFrame with header size and payload size in
// *headerBytes and *payloadBytes, or how it fails.
Status referenceHeader(const FramingOptions& o, const std::uint8_t* s, std::size_t n,
                       std::size_t* headerBytes, std::uint64_t* field) {
  if (o.kind == FramingKind::kOctetCounting) {
    // A nonzero digit, up to 9 more, then one space; or "0 " (what rsyslog
    // sends for an empty message).
    std::size_t digits = 0;
    std::uint64_t value = 0;
    if (n >= 1 && s[0] == '0') {
      if (n == 1) return Status::kNeedMore;
      if (s[1] != ' ') return Status::kBadHeader;
      *headerBytes = 2;
      *field = 0;
      return Status::kFrame;
    }
    while (digits < n && s[digits] >= '0' && s[digits] <= '9') {
      if (digits == 10) return Status::kBadHeader;
      value = value * 10 + (s[digits] - '0');
      ++digits;
    }
    if (digits == n) return Status::kNeedMore;
    if (digits == 0 || s[digits] != ' ') return Status::kBadHeader;
    *headerBytes = digits + 1;
    *field = value;
    return Status::kFrame;
  }
  if (o.kind == FramingKind::kVarint) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 10; ++i) {
      if (i == n) return Status::kNeedMore;
      std::uint64_t group = s[i] & 0x7F;
      if (i == 9 && s[i] > 1) return Status::kBadHeader;  // bit 7 or bits past 63
      value += group << (7 * i);
      if (s[i] < 0x80) {
        *headerBytes = i + 1;
        *field = value;
        return Status::kFrame;
      }
    }
    return Status::kBadHeader;  // not reached: the 10th byte decided
  }
  std::size_t header = o.lengthOffset + o.lengthBytes;
  if (n < header) return Status::kNeedMore;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < o.lengthBytes; ++i) {
    // Most significant byte first in either order.
    std::size_t at = o.byteOrder == ByteOrder::kBig ? i : o.lengthBytes - 1 - i;
    value = value * 256 + s[o.lengthOffset + at];
  }
  *headerBytes = header;
  *field = value;
  return Status::kFrame;
}

Outcome referenceDecode(const FramingOptions& o, const std::uint8_t* s, std::size_t n) {
  Outcome out;
  std::size_t pos = 0;
  while (true) {
    std::size_t header = 0;
    std::uint64_t field = 0;
    Status st = referenceHeader(o, s + pos, n - pos, &header, &field);
    out.endOffset = pos;
    if (st != Status::kFrame) {
      out.end = st;
      return out;
    }
    // The adjust is a signed byte here, the field up to 2^64 - 1.
    std::int64_t adjust = o.lengthAdjust;
    if (adjust < 0 && field < static_cast<std::uint64_t>(-adjust)) {
      out.end = Status::kBadHeader;
      return out;
    }
    bool tooLarge = field > (std::uint64_t{1} << 62) ||
                    static_cast<std::int64_t>(field) + adjust > std::int64_t{o.maxPayloadBytes};
    if (tooLarge) {
      out.end = Status::kTooLarge;
      out.tooLargeField = field;
      return out;
    }
    auto payload = static_cast<std::size_t>(static_cast<std::int64_t>(field) + adjust);
    if (n - pos - header < payload) return out;  // kNeedMore
    out.frames.emplace_back(pos + header, payload);
    pos += header + payload;
  }
}

// --- The decoder, fed like a receive ring ---------------------------------

Outcome ringDecode(const FramingOptions& o, const std::uint8_t* s, std::size_t n,
                   const std::size_t* readSizes) {
  uvframe::FramingDecoder decoder(o);
  Outcome out;
  std::vector<std::uint8_t> ring;  // unconsumed bytes, starting at stream offset base
  std::size_t base = 0, fed = 0, read = 0;
  std::size_t pendingFrameBytes = 0;  // from the last kNeedMore that knew it
  while (true) {
    std::size_t add = std::min(readSizes[read++ % 4], n - fed);
    ring.insert(ring.end(), s + fed, s + fed + add);
    fed += add;
    std::size_t offset = 0;
    FramingResult r;
    while (true) {
      auto input = std::as_bytes(std::span(ring)).subspan(offset);
      r = decoder.decode(input);
      if (r.status != Status::kFrame) break;
      check(r.consumedBytes <= input.size() && r.consumedBytes == r.headerBytes + r.payloadBytes);
      check(r.payload.data() == input.data() + r.headerBytes && r.payload.size() == r.payloadBytes);
      check(pendingFrameBytes == 0 || pendingFrameBytes == r.consumedBytes);
      pendingFrameBytes = 0;
      out.frames.emplace_back(base + offset + r.headerBytes, r.payloadBytes);
      offset += r.consumedBytes;
    }
    ring.erase(ring.begin(), ring.begin() + static_cast<std::ptrdiff_t>(offset));
    base += offset;
    if (r.status == Status::kNeedMore) {
      // Once known, the frame's size never changes and always exceeds what is at hand.
      check(r.frameBytes == 0 || r.frameBytes > ring.size());
      check(pendingFrameBytes == 0 || r.frameBytes == pendingFrameBytes);
      if (r.frameBytes != 0) pendingFrameBytes = r.frameBytes;
      if (fed == n) {
        out.endOffset = base;
        return out;
      }
      continue;
    }
    // Too large or bad: the header was whole (a size was never announced).
    check(pendingFrameBytes == 0);
    check(r.status != Status::kBadHeader || !r.reason.empty());
    out.end = r.status;
    out.endOffset = base;
    out.tooLargeField = r.status == Status::kTooLarge ? r.lengthField : 0;
    return out;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kParamBytes) return 0;
  FramingOptions o;
  const unsigned kind = data[0] & 3;
  o.kind = kind < 2    ? FramingKind::kLength
           : kind == 2 ? FramingKind::kOctetCounting
                       : FramingKind::kVarint;
  if (o.kind == FramingKind::kLength) {
    o.byteOrder = (data[0] & 4) != 0 ? ByteOrder::kBig : ByteOrder::kLittle;
    o.lengthBytes = kWidths[(data[0] >> 3) % 5];
    o.lengthOffset = data[1] & 15;
    o.lengthAdjust = static_cast<std::int8_t>(data[2]);
  }
  o.maxPayloadBytes = static_cast<std::uint32_t>(data[3] | data[4] << 8);
  check(uvframe::validateFramingOptions(o).empty());
  std::size_t readSizes[4];
  for (std::size_t i = 0; i < 4; ++i)
    readSizes[i] = std::size_t{data[5 + i]} + 1;
  const std::uint8_t* stream = data + kParamBytes;
  const std::size_t n = size - kParamBytes;

  Outcome want = referenceDecode(o, stream, n);
  Outcome got = ringDecode(o, stream, n, readSizes);
  check(got.frames == want.frames);
  check(got.end == want.end);
  check(got.endOffset == want.endOffset);
  check(got.tooLargeField == want.tooLargeField);

  // Every frame re-encoded announces the same payload size.
  for (const auto& [at, bytes] : got.frames) {
    std::vector<std::byte> header;
    if (!uvframe::appendHeader(o, bytes, header)) {
      check(o.kind == FramingKind::kOctetCounting && bytes == 0);
      continue;
    }
    check(header.size() == uvframe::framingHeaderBytes(o, bytes));
    header.resize(header.size() + bytes);
    FramingResult r = uvframe::FramingDecoder(o).decode(header);
    check(r.status == Status::kFrame && r.payloadBytes == bytes &&
          r.consumedBytes == header.size());
  }
  return 0;
}
