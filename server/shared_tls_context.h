// SharedTlsContext: the listener's current TLS context, shared by the
// workers (each new connection takes a reference) and replaced by the
// control thread when SIGHUP reloads the certificate and key.
//
// A mutex rather than std::atomic<std::shared_ptr>: it is taken once per
// accepted TLS connection, next to a handshake that costs a thousand times
// more, and it keeps the code obvious. Connections made from an old context
// keep it alive through their own SSL objects until they close.
#pragma once

#include <memory>
#include <mutex>

#include "tls_context.h"

namespace uvframe {

class SharedTlsContext {
 public:
  std::shared_ptr<TlsContext> get() const {
    std::lock_guard lock(mutex_);
    return context_;
  }
  void set(std::shared_ptr<TlsContext> context) {
    std::lock_guard lock(mutex_);
    context_ = std::move(context);
  }
  bool enabled() const { return get() != nullptr; }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<TlsContext> context_;
};

}  // namespace uvframe
