// Host resolution for uvframe-client and uvframe-loadgen: turns --host and
// --port into socket addresses. Numeric addresses ("127.0.0.1", "::1",
// "[::1]") are parsed directly; names go through libuv's getaddrinfo, run
// synchronously because both programs resolve once, before any traffic.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

namespace uvframe {

/// The outcome of resolveHost(): addresses in getaddrinfo's order, or an
/// error text when there are none.
struct ResolvedHost {
  std::vector<sockaddr_storage> addresses;
  std::string error;  ///< e.g. "name not resolved (EAI_NONAME)"
};

/// Resolves host (numeric or a name) for a TCP connection to port.
ResolvedHost resolveHost(const std::string& host, std::uint16_t port);

/// The first IPv4 address of r if it has one, else its first address; the
/// load generator uses one destination for all its connections.
const sockaddr_storage* preferIpv4(const ResolvedHost& r);

/// "127.0.0.1:9000" or "[::1]:9000" (empty for other families).
std::string addressText(const sockaddr* sa);

/// The byte length of a sockaddr_in or sockaddr_in6 held in storage.
unsigned sockaddrLength(const sockaddr_storage& storage);

}  // namespace uvframe
