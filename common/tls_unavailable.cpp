// TlsContext and TlsSession in a build without OpenSSL (UVFRAME_WITH_TLS=OFF,
// e.g. the Windows cross build of scripts/build-windows.sh): no context can
// be made, so every --tls option fails where its files would be loaded, with
// the one-line error "TLS: TLS is not in this build …" (exit 2). The session
// half is never reached without a context; it only has to link.
#include <string>

#include "tls_context.h"
#include "tls_session.h"

namespace uvframe {
namespace {

const char* const kNotInThisBuild = "TLS is not in this build (uvframe was built without OpenSSL)";

}  // namespace

std::string drainOpenSslErrors() {
  return {};
}

std::shared_ptr<TlsContext> TlsContext::createServer(const TlsServerOptions&, std::string& error) {
  error = kNotInThisBuild;
  return nullptr;
}

std::shared_ptr<TlsContext> TlsContext::createClient(const TlsClientOptions&, std::string& error) {
  error = kNotInThisBuild;
  return nullptr;
}

std::shared_ptr<TlsContext> TlsContext::reloaded(std::string& error) const {
  error = kNotInThisBuild;
  return nullptr;
}

TlsContext::~TlsContext() = default;

// Nothing ever writes to a session's queues here, so they never hold a block.
TlsByteQueue::~TlsByteQueue() = default;

TlsSession::TlsSession(const TlsContext&, std::string_view)
    : state_(TlsState::kFailed), failureReason_(kNotInThisBuild) {}
TlsSession::~TlsSession() = default;
TlsState TlsSession::handshake() {
  return state_;
}
TlsState TlsSession::feedCiphertext(std::span<const std::byte>) {
  return state_;
}
std::span<std::byte> TlsSession::ciphertextRoom(std::size_t) {
  return {};
}
TlsState TlsSession::commitCiphertext(std::size_t) {
  return state_;
}
std::size_t TlsSession::bufferedCiphertext() const {
  return 0;
}
bool TlsSession::hasInput() const {
  return false;
}
std::size_t TlsSession::readPlaintext(std::span<std::byte>) {
  return 0;
}
bool TlsSession::writePlaintext(std::span<const std::byte>) {
  return false;
}
bool TlsSession::writePlaintext(std::span<const std::byte>, TlsByteQueue&) {
  return false;
}
void TlsSession::shutdown() {}
std::span<const std::byte> TlsSession::pendingCiphertext() const {
  return {};
}
void TlsSession::consumeCiphertext(std::size_t) {}
std::vector<std::byte> TlsSession::takeCiphertext() {
  return {};
}
bool TlsSession::releaseBuffers() {
  return true;
}
std::string_view TlsSession::version() const {
  return {};
}
std::string_view TlsSession::cipher() const {
  return {};
}
std::string TlsSession::peerSubject() const {
  return {};
}

}  // namespace uvframe
