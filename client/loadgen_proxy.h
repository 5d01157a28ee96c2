// uvframe-loadgen --proxy-protocol v1|v2: every connection first sends a PROXY
// protocol header (common/proxy_header_writer.h), as a load balancer in front
// of the server would, so a server run with --proxy-protocol can be loaded
// without a balancer.
//
// The made-up client address of connection id (0-based, as in the payload's
// "conn=<id>") comes from 198.18.0.0/15 (RFC 2544's benchmarking range):
//
//   ip   = 198.18.0.0 + 1 + id % 131070   (198.18.0.1 .. 198.19.255.254)
//   port = 1024 + id % 64512              (1024 .. 65535)
//
// so the first 131,070 connections have distinct addresses, and (ip, port)
// pairs repeat only after lcm(131070, 64512) = 1,409,312,640 connections. The
// destination in the header is the server address the load generator
// connects to; with an IPv6 server the header is TCP6 and the client address
// its IPv4-mapped form (::ffff:198.18.x.y).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peer_address.h"

namespace uvframe {

enum class ProxyProtocolVersion : std::uint8_t { kOff, kV1, kV2 };

/// "off", "v1" or "v2".
std::string_view toString(ProxyProtocolVersion version);
/// Parses "off", "v1" or "v2".
std::optional<ProxyProtocolVersion> parseProxyProtocolVersion(std::string_view text);

/// The made-up client address of connection id (see above).
PeerAddress proxyClientAddress(std::uint64_t connectionId);

/// The header connection id sends first; empty for kOff.
std::string proxyHeaderForConnection(ProxyProtocolVersion version, std::uint64_t connectionId,
                                     const PeerAddress& destination);

}  // namespace uvframe
