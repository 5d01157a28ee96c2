// PayloadPattern: see payload_pattern.h.
#include "payload_pattern.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace uvframe {
namespace {

// No space and no '=' in the filler, so the prefix always parses.
constexpr std::string_view kFiller =
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-";

}  // namespace

PayloadPattern::PayloadPattern(std::uint32_t maxSizeBytes) : filler_(maxSizeBytes, ' ') {
  for (std::size_t i = 0; i < filler_.size(); ++i)
    filler_[i] = kFiller[i % kFiller.size()];
}

std::size_t PayloadPattern::writePrefix(std::uint64_t connId, std::uint64_t seq, char* out) {
  char* p = out;
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put("conn=");
  p = std::to_chars(p, out + kMaxPrefixBytes, connId).ptr;
  put(" seq=");
  p = std::to_chars(p, out + kMaxPrefixBytes, seq).ptr;
  put(" ");
  return static_cast<std::size_t>(p - out);
}

void PayloadPattern::write(std::uint64_t connId, std::uint64_t seq, std::uint32_t sizeBytes,
                           char* out) const {
  char prefix[kMaxPrefixBytes];
  std::size_t prefixBytes = std::min<std::size_t>(writePrefix(connId, seq, prefix), sizeBytes);
  std::memcpy(out, prefix, prefixBytes);
  std::memcpy(out + prefixBytes, filler_.data() + prefixBytes, sizeBytes - prefixBytes);
}

bool PayloadPattern::matches(std::span<const std::byte> payload, std::uint64_t connId,
                             std::uint64_t seq, std::uint32_t sizeBytes) const {
  if (payload.size() != sizeBytes) return false;
  char prefix[kMaxPrefixBytes];
  std::size_t prefixBytes = std::min<std::size_t>(writePrefix(connId, seq, prefix), sizeBytes);
  const char* bytes = reinterpret_cast<const char*>(payload.data());
  return std::memcmp(bytes, prefix, prefixBytes) == 0 &&
         std::memcmp(bytes + prefixBytes, filler_.data() + prefixBytes, sizeBytes - prefixBytes) ==
             0;
}

}  // namespace uvframe
