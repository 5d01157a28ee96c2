// toString(TlsState): the state names of tls_session.h, in both builds (with
// OpenSSL, and the one without TLS: tls_unavailable.cpp).
#include "tls_session.h"

namespace uvframe {

std::string_view toString(TlsState state) {
  switch (state) {
    case TlsState::kHandshaking:
      return "handshaking";
    case TlsState::kOpen:
      return "open";
    case TlsState::kPeerClosed:
      return "peer closed";
    case TlsState::kFailed:
      return "failed";
  }
  return "?";
}

}  // namespace uvframe
