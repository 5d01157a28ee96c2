// Frame codec: see frame_codec.h for the wire format.
#include "frame_codec.h"

#include <algorithm>
#include <cstring>

namespace uvframe {

std::string_view toString(ByteOrder order) {
  return order == ByteOrder::kBig ? "big" : "little";
}

std::optional<ByteOrder> parseByteOrder(std::string_view text) {
  if (text == "little" || text == "le") return ByteOrder::kLittle;
  if (text == "big" || text == "be" || text == "network") return ByteOrder::kBig;
  return std::nullopt;
}

std::array<std::byte, kFrameHeaderBytes> encodeHeader(std::uint32_t payloadBytes, ByteOrder order) {
  std::array<std::byte, kFrameHeaderBytes> h{};
  for (std::size_t i = 0; i < kFrameHeaderBytes; ++i) {
    std::size_t shift = order == ByteOrder::kLittle ? 8 * i : 8 * (3 - i);
    h[i] = static_cast<std::byte>((payloadBytes >> shift) & 0xFFu);
  }
  return h;
}

std::string_view guessForeignProtocol(std::span<const std::byte> firstBytes) {
  auto startsWith = [firstBytes](std::string_view prefix) {
    return firstBytes.size() >= prefix.size() &&
           std::memcmp(firstBytes.data(), prefix.data(), prefix.size()) == 0;
  };
  struct Known {
    std::string_view prefix;
    std::string_view name;
  };
  static constexpr Known kKnown[] = {
      {"GET ", "HTTP"},           {"POST", "HTTP"}, {"PUT ", "HTTP"},
      {"HEAD", "HTTP"},           {"DELE", "HTTP"}, {"OPTI", "HTTP"},
      {"PATC", "HTTP"},           {"CONN", "HTTP"}, {"PRI ", "HTTP/2"},
      {"PROX", "PROXY protocol"}, {"SSH-", "SSH"},  {"\r\n\r\n", "PROXY protocol v2"},
  };
  for (const Known& k : kKnown) {
    if (startsWith(k.prefix)) return k.name;
  }
  if (firstBytes.size() >= 2 && firstBytes[0] == std::byte{0x16} &&
      firstBytes[1] == std::byte{0x03}) {
    return "TLS";
  }
  return {};
}

}  // namespace uvframe
