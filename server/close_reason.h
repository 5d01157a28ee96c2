// CloseReason: why a connection ended, as the disconnected line, the refusal
// warnings and the metrics' reason label name it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uvframe {

/// Why a connection ended; printed as the disconnected line's reason.
enum class CloseReason : std::uint8_t {
  kPeerClosed,
  kReset,
  kIdleTimeout,
  kFrameTimeout,
  kFrameTooLarge,
  kServerShutdown,
  kReadError,
  kWriteError,
  kWriteTimeout,
  kRefused,
  kMaxAge,
  kTlsError,   ///< a TLS record or alert after the handshake
  kBadHeader,  ///< a frame header that can never be valid (--framing)
  // Closed before it is a client (no connected line): refusals.
  kUntrustedProxy,
  kProxyTimeout,
  kBadProxyHeader,
  kNotAllowed,
  kTooManyFromIp,
  kTlsHandshakeFailed,
  kCount,  ///< number of reasons (not a reason)
};
std::string_view toString(CloseReason reason);

/// True for the reasons a connection is closed before it is a client (no
/// connected line; counted as refused).
constexpr bool isRefusal(CloseReason r) {
  return r == CloseReason::kRefused || r == CloseReason::kUntrustedProxy ||
         r == CloseReason::kProxyTimeout || r == CloseReason::kBadProxyHeader ||
         r == CloseReason::kNotAllowed || r == CloseReason::kTooManyFromIp ||
         r == CloseReason::kTlsHandshakeFailed;
}

inline constexpr std::size_t kCloseReasonCount = static_cast<std::size_t>(CloseReason::kCount);

}  // namespace uvframe
