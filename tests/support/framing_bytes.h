// Framing helpers shared by the tests (header-only, no sockets): options for
// a length field or another framing kind, a payload framed with appendHeader,
// and a byte stream decoded back into its payloads.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "framing.h"

namespace uvframe::test {

inline FramingOptions lengthFraming(std::uint8_t bytes, ByteOrder order, std::uint32_t offset = 0,
                                    std::int64_t adjust = 0) {
  FramingOptions f;
  f.lengthBytes = bytes;
  f.byteOrder = order;
  f.lengthOffset = offset;
  f.lengthAdjust = adjust;
  return f;
}

inline FramingOptions framingOf(FramingKind kind) {
  FramingOptions f;
  f.kind = kind;
  return f;
}

/// Header (offset bytes as zeros) and payload; fails the test when the
/// framing cannot announce the payload.
inline std::string framedBytes(const FramingOptions& f, const std::string& payload) {
  std::string out;
  EXPECT_TRUE(appendHeader(f, payload.size(), out)) << payload.size() << " bytes";
  out += payload;
  return out;
}

/// Every frame in bytes, decoded; fails the test unless bytes are whole
/// frames and nothing else.
inline std::vector<std::string> decodeAll(const FramingOptions& f, const std::string& bytes) {
  FramingDecoder decoder(f);
  std::vector<std::string> payloads;
  auto input = std::as_bytes(std::span(bytes.data(), bytes.size()));
  while (!input.empty()) {
    FramingResult r = decoder.decode(input);
    EXPECT_EQ(r.status, FramingResult::Status::kFrame) << "at byte " << bytes.size() - input.size();
    if (r.status != FramingResult::Status::kFrame) break;
    payloads.emplace_back(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
    input = input.subspan(r.consumedBytes);
  }
  return payloads;
}

}  // namespace uvframe::test
