// Which payload sizes a framing can announce, in words, for the client's and
// the load generator's errors: octet-counting has no empty frames (its length
// begins with a nonzero digit), a length field holds only so much (and its
// adjust shifts the range), varint announces every size.
#pragma once

#include <cstdint>
#include <string>

#include "framing.h"

namespace uvframe {

/// Empty when framing can announce a payload of payloadBytes
/// (framingHeaderBytes() != 0), else why not, naming the options at fault:
/// "--framing octet-counting cannot announce an empty payload (...)",
/// "a 1-byte length field (--length-bytes 1, --length-adjust 0) announces
/// payloads of 0 to 255 bytes only".
std::string whyNotAnnounced(const FramingOptions& framing, std::uint64_t payloadBytes);

}  // namespace uvframe
