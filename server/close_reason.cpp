// CloseReason: see close_reason.h.
#include "close_reason.h"

namespace uvframe {

std::string_view toString(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer closed";
    case CloseReason::kReset:
      return "reset";
    case CloseReason::kIdleTimeout:
      return "idle timeout";
    case CloseReason::kFrameTimeout:
      return "frame timeout";
    case CloseReason::kFrameTooLarge:
      return "frame too large";
    case CloseReason::kServerShutdown:
      return "server shutdown";
    case CloseReason::kReadError:
      return "read error";
    case CloseReason::kWriteError:
      return "write error";
    case CloseReason::kWriteTimeout:
      return "write timeout";
    case CloseReason::kRefused:
      return "connection limit";
    case CloseReason::kMaxAge:
      return "max age";
    case CloseReason::kTlsError:
      return "tls error";
    case CloseReason::kBadHeader:
      return "bad header";
    case CloseReason::kUntrustedProxy:
      return "untrusted proxy";
    case CloseReason::kProxyTimeout:
      return "proxy timeout";
    case CloseReason::kBadProxyHeader:
      return "bad proxy header";
    case CloseReason::kNotAllowed:
      return "not allowed";
    case CloseReason::kTooManyFromIp:
      return "too many from ip";
    case CloseReason::kTlsHandshakeFailed:
      return "tls handshake failed";
    case CloseReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace uvframe
