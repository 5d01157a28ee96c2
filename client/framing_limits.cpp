// Framing limits in words: see framing_limits.h.
#include "framing_limits.h"

#include <algorithm>

namespace uvframe {

std::string whyNotAnnounced(const FramingOptions& f, std::uint64_t payloadBytes) {
  if (framingHeaderBytes(f, payloadBytes) != 0) return {};
  switch (f.kind) {
    case FramingKind::kOctetCounting:
      if (payloadBytes == 0) {
        return "--framing octet-counting cannot announce an empty payload (its length begins "
               "with a nonzero digit)";
      }
      return "--framing octet-counting announces payloads of at most 9999999999 bytes";
    case FramingKind::kVarint:
      return "--framing varint cannot announce it";
    case FramingKind::kLength:
      break;
  }
  // The field holds 0 .. 2^(8 * lengthBytes) - 1; the payload is the field
  // plus the adjust (both bounded by validateFramingOptions()).
  std::int64_t lowest = std::max<std::int64_t>(0, f.lengthAdjust);
  std::string range = std::to_string(lowest) + " bytes or more";
  if (f.lengthBytes < 8) {
    std::int64_t fieldMax = (std::int64_t{1} << (8 * f.lengthBytes)) - 1;
    range = std::to_string(lowest) + " to " + std::to_string(fieldMax + f.lengthAdjust) + " bytes";
  }
  return "a " + std::to_string(f.lengthBytes) + "-byte length field (--length-bytes " +
         std::to_string(f.lengthBytes) + ", --length-adjust " + std::to_string(f.lengthAdjust) +
         ") announces payloads of " + range + " only";
}

}  // namespace uvframe
