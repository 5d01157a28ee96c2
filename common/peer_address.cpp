// Peer addresses: see peer_address.h.
#include "peer_address.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <cstring>

namespace uvframe {

std::string PeerAddress::hostPort() const {
  std::string s;
  s.reserve(ip.size() + 8);
  if (isIpv6) s.push_back('[');
  s.append(ip);
  if (isIpv6) s.push_back(']');
  s.push_back(':');
  s.append(std::to_string(port));
  return s;
}

std::optional<PeerAddress> peerFromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  PeerAddress peer;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in4;
    std::memcpy(&in4, sa, sizeof in4);
    if (inet_ntop(AF_INET, &in4.sin_addr, text, sizeof text) == nullptr) return std::nullopt;
    peer.port = ntohs(in4.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    peer.port = ntohs(in6.sin6_port);
    const auto* b = reinterpret_cast<const unsigned char*>(&in6.sin6_addr);
    static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(b, kMappedPrefix, sizeof kMappedPrefix) == 0) {
      if (inet_ntop(AF_INET, b + 12, text, sizeof text) == nullptr) return std::nullopt;
    } else {
      if (inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text) == nullptr) return std::nullopt;
      peer.isIpv6 = true;
    }
  } else {
    return std::nullopt;
  }
  peer.ip = text;
  return peer;
}

bool parseNumericAddress(std::string_view host, std::uint16_t port, void* storage,
                         std::size_t storageBytes) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string text(host);
  std::memset(storage, 0, storageBytes);
  if (storageBytes >= sizeof(sockaddr_in)) {
    sockaddr_in in4{};
    if (inet_pton(AF_INET, text.c_str(), &in4.sin_addr) == 1) {
      in4.sin_family = AF_INET;
      in4.sin_port = htons(port);
      std::memcpy(storage, &in4, sizeof in4);
      return true;
    }
  }
  if (storageBytes >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    if (inet_pton(AF_INET6, text.c_str(), &in6.sin6_addr) == 1) {
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(port);
      std::memcpy(storage, &in6, sizeof in6);
      return true;
    }
  }
  return false;
}

}  // namespace uvframe
