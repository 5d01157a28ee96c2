// Port probe: see port_probe.h.
#include "port_probe.h"

#include <stdexcept>

#ifndef _WIN32
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

#include <uv.h>

#include "peer_address.h"
#include "uv_handle.h"

namespace uvframe {

std::uint16_t probeListenPort(const std::string& numericHost, std::uint16_t port) {
#ifdef _WIN32
  // No SO_REUSEPORT on Windows: the single listener's own bind reports a
  // taken port.
  (void)numericHost;
  return port;
#else
  sockaddr_storage addr{};
  if (!parseNumericAddress(numericHost, port, &addr, sizeof addr)) {
    throw std::runtime_error("not a numeric address: " + numericHost);
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(uvErrorText(uv_translate_sys_error(errno)));
  // SO_REUSEADDR, as the real listeners have it, so a port in TIME_WAIT from
  // a previous run does not count as taken.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error(uvErrorText(uv_translate_sys_error(err)));
  }
  sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLen);
  ::close(fd);
  auto peer = peerFromSockaddr(reinterpret_cast<sockaddr*>(&bound));
  return peer ? peer->port : port;
#endif
}

}  // namespace uvframe
