// Host resolution: see host_resolver.h.
#include "host_resolver.h"

#include <cstring>

#include "peer_address.h"
#include "uv_handle.h"

namespace uvframe {

ResolvedHost resolveHost(const std::string& host, std::uint16_t port) {
  ResolvedHost result;
  sockaddr_storage numeric{};
  if (parseNumericAddress(host, port, &numeric, sizeof numeric)) {
    result.addresses.push_back(numeric);
    return result;
  }
  UvLoop loop;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  uv_getaddrinfo_t req{};
  std::string service = std::to_string(port);
  // A null callback makes uv_getaddrinfo synchronous (libuv >= 1.3).
  int rc = uv_getaddrinfo(loop.get(), &req, nullptr, host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    result.error = rc == UV_EAI_NONAME || rc == UV_EAI_AGAIN || rc == UV_EAI_NODATA
                       ? "name not resolved (" + std::string(uv_err_name(rc)) + ")"
                       : "cannot resolve: " + uvErrorText(rc);
    return result;
  }
  for (const addrinfo* ai = req.addrinfo; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage storage{};
    std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
    result.addresses.push_back(storage);
  }
  uv_freeaddrinfo(req.addrinfo);
  if (result.addresses.empty()) result.error = "name has no IPv4 or IPv6 address";
  return result;
}

const sockaddr_storage* preferIpv4(const ResolvedHost& r) {
  for (const auto& a : r.addresses) {
    if (a.ss_family == AF_INET) return &a;
  }
  return r.addresses.empty() ? nullptr : &r.addresses.front();
}

std::string addressText(const sockaddr* sa) {
  auto peer = peerFromSockaddr(sa);
  return peer ? peer->hostPort() : std::string();
}

unsigned sockaddrLength(const sockaddr_storage& storage) {
  return storage.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace uvframe
