// Peer addresses as the log shows them: "ip=127.0.0.1, port=55244" in the
// connection lines and "127.0.0.1:55244" / "[::1]:55244" in message tags.
// IPv4-mapped IPv6 peers (an IPv4 client of a dual-stack listener) are shown
// as plain IPv4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace uvframe {

/// A peer's numeric address and port, rendered once when it connects.
struct PeerAddress {
  std::string ip;  ///< "127.0.0.1", "::1"
  std::uint16_t port = 0;
  bool isIpv6 = false;

  /// "127.0.0.1:55244" or "[::1]:55244".
  std::string hostPort() const;
};

/// The address in sa (AF_INET or AF_INET6), or nullopt for other families.
std::optional<PeerAddress> peerFromSockaddr(const sockaddr* sa);

/// Parses "127.0.0.1", "::1" or "[::1]" (brackets stripped) with a port into
/// a sockaddr_storage-sized buffer; returns false if the text is no address.
bool parseNumericAddress(std::string_view host, std::uint16_t port, void* storage,
                         std::size_t storageBytes);

}  // namespace uvframe
