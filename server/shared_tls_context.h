// SharedTlsContext: the listener's current TLS contexts, one per worker
// (each new connection takes a reference to its worker's), replaced by the
// control thread when SIGHUP reloads the certificate and key.
//
// One context per worker, each read from the same files, rather than one
// shared by all: OpenSSL fills some caches of a context's certificates
// lazily (a name's canonical encoding, cached extensions) in code TSan
// cannot see synchronise, and the load generator's threads sharing one
// client context drew a race report inside libcrypto. With a context per
// thread no OpenSSL object is shared between threads at all.
//
// A mutex rather than std::atomic<std::shared_ptr>: it is taken once per
// accepted TLS connection, next to a handshake that costs a thousand times
// more, and it keeps the code obvious. Connections made from an old context
// keep it alive through their own SSL objects until they close.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tls_context.h"

namespace uvframe {

class SharedTlsContext {
 public:
  using Contexts = std::vector<std::shared_ptr<TlsContext>>;

  /// The context of worker `index` (nullptr: plaintext).
  std::shared_ptr<TlsContext> get(unsigned index) const {
    std::lock_guard lock(mutex_);
    return contexts_.empty() ? nullptr : contexts_[index % contexts_.size()];
  }
  void set(Contexts contexts) {
    std::lock_guard lock(mutex_);
    contexts_ = std::move(contexts);
  }

  /// `first` and workers - 1 more contexts read again from its files; empty
  /// and error set if one cannot be made.
  static Contexts perWorker(std::shared_ptr<TlsContext> first, unsigned workers,
                            std::string& error) {
    Contexts all{first};
    while (all.size() < workers) {
      std::shared_ptr<TlsContext> next = first->reloaded(error);
      if (!next) return {};
      all.push_back(std::move(next));
    }
    return all;
  }

 private:
  mutable std::mutex mutex_;
  Contexts contexts_;
};

}  // namespace uvframe
