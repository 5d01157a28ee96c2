// FrameBatchWriter: see frame_batch_writer.h.
#include "frame_batch_writer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <string>
#include <utility>

namespace uvframe {
namespace {

constexpr std::size_t kMaxDigits = 20;  // UINT64_MAX has 20

// kPow10[d] is the first number with d + 1 digits (d < kMaxDigits).
constexpr std::array<std::uint64_t, kMaxDigits> kPow10 = [] {
  std::array<std::uint64_t, kMaxDigits> p{};
  std::uint64_t v = 1;
  for (std::size_t d = 0; d < kMaxDigits; ++d, v *= 10)
    p[d] = v;
  return p;
}();

std::size_t decimalDigits(std::uint64_t v) {
  std::size_t d = 1;
  while (d < kMaxDigits && v >= kPow10[d])
    ++d;
  return d;
}

// Gives frames 1 .. count - 1 (strideBytes apart, each a copy of frame 0)
// the sequence numbers that follow frame 0's, whose kDigits digits are in
// counter; the caller guarantees the run never needs another digit. The last
// digit lives in a register and the others change only every tenth frame, so
// no load waits on the byte stores of a carry just made (a store-forwarding
// stall each frame otherwise), and with the width a constant the copy of the
// digits is a move or two, not a call.
template <std::size_t kDigits>
void patchDigits(char* firstDigits, std::size_t strideBytes, std::uint64_t count,
                 const char* counter) {
  if constexpr (kDigits > 0) {
    char digits[kDigits];
    std::memcpy(digits, counter, kDigits);
    char last = digits[kDigits - 1];
    char* at = firstDigits;
    for (std::uint64_t k = 1; k < count; ++k) {
      if (last != '9') {
        ++last;
      } else if constexpr (kDigits > 1) {
        last = '0';
        std::size_t i = kDigits - 1;
        while (digits[--i] == '9')
          digits[i] = '0';
        ++digits[i];
      }
      at += strideBytes;
      std::memcpy(at, digits, kDigits - 1);
      at[kDigits - 1] = last;
    }
  }
}

using DigitPatcher = void (*)(char*, std::size_t, std::uint64_t, const char*);

template <std::size_t... kDigits>
constexpr std::array<DigitPatcher, sizeof...(kDigits)> makePatchers(
    std::index_sequence<kDigits...>) {
  return {&patchDigits<kDigits>...};
}

constexpr auto kPatchers = makePatchers(std::make_index_sequence<kMaxDigits + 1>{});

}  // namespace

void FrameBatchWriter::writeFrame(std::uint64_t connId, std::uint64_t seq, std::uint32_t sizeBytes,
                                  char* out) const {
  if (!plain4_) {
    writeFramedFrame(connId, seq, sizeBytes, out);
    return;
  }
  auto header = encodeHeader(sizeBytes, framing_.byteOrder);
  std::memcpy(out, header.data(), header.size());
  pattern_.write(connId, seq, sizeBytes, out + kFrameHeaderBytes);
}

void FrameBatchWriter::writeFramedFrame(std::uint64_t connId, std::uint64_t seq,
                                        std::uint32_t sizeBytes, char* out) const {
  std::memset(out, 0, offsetBytes_);
  out += offsetBytes_;
  // Without the offset a header is at most 11 bytes (octet-counting): the
  // string's own buffer holds it, nothing is allocated.
  std::string header;
  bool announced = appendHeader(framing_, sizeBytes, header);
  assert(announced && "the options were checked against --size");
  (void)announced;
  std::memcpy(out, header.data(), header.size());
  pattern_.write(connId, seq, sizeBytes, out + header.size());
}

void FrameBatchWriter::writeRun(std::uint64_t connId, std::uint64_t firstSeq, std::uint64_t count,
                                std::uint32_t sizeBytes, char* out, FrameRunLayout& layout) const {
  if (count == 0) return;
  std::size_t frameBytes = frameSize(sizeBytes);
  std::size_t digits = decimalDigits(firstSeq);
  if (digits == kMaxDigits || count <= kPow10[digits] - firstSeq) {
    FrameRunLayout wanted{connId, sizeBytes, digits, count};
    bool reuse = layout.connId == connId && layout.sizeBytes == sizeBytes &&
                 layout.digits == digits && layout.frames >= count;
    bool copyable = writeSameWidthRun(connId, firstSeq, count, sizeBytes, out, reuse);
    // A reused buffer holds all its old frames still, patched or not.
    if (!reuse) layout = copyable ? wanted : FrameRunLayout{};
    return;
  }
  layout = {};
  std::uint64_t seq = firstSeq;
  while (count > 0) {
    digits = decimalDigits(seq);
    std::uint64_t n = digits < kMaxDigits ? std::min(count, kPow10[digits] - seq) : count;
    writeSameWidthRun(connId, seq, n, sizeBytes, out, false);
    out += n * frameBytes;
    seq += n;
    count -= n;
  }
}

bool FrameBatchWriter::writeSameWidthRun(std::uint64_t connId, std::uint64_t firstSeq,
                                         std::uint64_t count, std::uint32_t sizeBytes, char* out,
                                         bool reuse) const {
  std::size_t headerBytes = headerSize(sizeBytes);
  std::size_t frameBytes = headerBytes + sizeBytes;
  char prefix[PayloadPattern::kMaxPrefixBytes];
  std::size_t prefixBytes = PayloadPattern::writePrefix(connId, firstSeq, prefix);
  if (prefixBytes > sizeBytes) {
    // The digits are cut short, or missing: no run to copy.
    for (std::uint64_t k = 0; k < count; ++k)
      writeFrame(connId, firstSeq + k, sizeBytes, out + k * frameBytes);
    return false;
  }
  // The prefix ends "<digits> ", so the digits sit just before its last byte.
  std::size_t digits = decimalDigits(firstSeq);
  std::size_t digitsAt = prefixBytes - 1 - digits;
  char* firstDigits = out + headerBytes + digitsAt;
  if (reuse) {
    // Every frame is already right but for its digits.
    std::memcpy(firstDigits, prefix + digitsAt, digits);
  } else {
    writeFrame(connId, firstSeq, sizeBytes, out);
    // Each copy doubles the frames written so far, and its source is
    // already in cache; the copies never overlap (n <= filled).
    std::size_t totalBytes = count * frameBytes;
    for (std::size_t filled = frameBytes; filled < totalBytes;) {
      std::size_t n = std::min(filled, totalBytes - filled);
      std::memcpy(out + filled, out, n);
      filled += n;
    }
  }
  kPatchers[digits](firstDigits, frameBytes, count, prefix + digitsAt);
  return true;
}

}  // namespace uvframe
