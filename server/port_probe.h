// Port probe: makes SO_REUSEPORT safe to use for the workers' listening
// sockets. With SO_REUSEPORT set, a second server started by mistake on the
// same port would bind without error and silently take half the clients.
// Before the workers bind, a plain socket (no SO_REUSEPORT) is bound to the
// address: if anyone else holds the port, that bind fails with EADDRINUSE,
// and for --port 0 it picks the free port the workers then share.
#pragma once

#include <cstdint>
#include <string>

namespace uvframe {

/// The port to bind the workers to: port itself, or a free one for port 0.
/// Throws std::runtime_error ("EADDRINUSE (address already in use)", ...)
/// when another socket holds it.
std::uint16_t probeListenPort(const std::string& numericHost, std::uint16_t port);

}  // namespace uvframe
