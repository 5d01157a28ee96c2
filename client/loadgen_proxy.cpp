// uvframe-loadgen's PROXY protocol headers: see loadgen_proxy.h.
#include "loadgen_proxy.h"

#include "proxy_header_writer.h"

namespace uvframe {
namespace {

constexpr std::uint32_t kBaseAddress = (198u << 24) | (18u << 16);  // 198.18.0.0/15
constexpr std::uint64_t kAddressCount = 131070;  // .0.1 .. .255.254: no all-zero/all-one host
constexpr std::uint64_t kFirstPort = 1024;
constexpr std::uint64_t kPortCount = 65536 - kFirstPort;

}  // namespace

std::string_view toString(ProxyProtocolVersion version) {
  switch (version) {
    case ProxyProtocolVersion::kV1:
      return "v1";
    case ProxyProtocolVersion::kV2:
      return "v2";
    case ProxyProtocolVersion::kOff:
      break;
  }
  return "off";
}

std::optional<ProxyProtocolVersion> parseProxyProtocolVersion(std::string_view text) {
  if (text == "off") return ProxyProtocolVersion::kOff;
  if (text == "v1") return ProxyProtocolVersion::kV1;
  if (text == "v2") return ProxyProtocolVersion::kV2;
  return std::nullopt;
}

PeerAddress proxyClientAddress(std::uint64_t connectionId) {
  auto address = static_cast<std::uint32_t>(kBaseAddress + 1 + connectionId % kAddressCount);
  PeerAddress peer;
  peer.ip = std::to_string(address >> 24) + '.' + std::to_string((address >> 16) & 0xFF) + '.' +
            std::to_string((address >> 8) & 0xFF) + '.' + std::to_string(address & 0xFF);
  peer.port = static_cast<std::uint16_t>(kFirstPort + connectionId % kPortCount);
  peer.isIpv6 = false;
  return peer;
}

std::string proxyHeaderForConnection(ProxyProtocolVersion version, std::uint64_t connectionId,
                                     const PeerAddress& destination) {
  switch (version) {
    case ProxyProtocolVersion::kV1:
      return proxyHeaderV1(proxyClientAddress(connectionId), destination);
    case ProxyProtocolVersion::kV2:
      return proxyHeaderV2(proxyClientAddress(connectionId), destination);
    case ProxyProtocolVersion::kOff:
      break;
  }
  return {};
}

}  // namespace uvframe
