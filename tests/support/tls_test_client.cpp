// TlsTestClient: see tls_test_client.h.
#include "tls_test_client.h"

#include <sys/socket.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "frame_codec.h"

namespace uvframe::test {

TlsTestClient::TlsTestClient(TestSocket socket, const TlsClientOptions& options)
    : socket_(std::move(socket)) {
  context_ = TlsContext::createClient(options, error_);
  if (!context_) throw std::runtime_error("TLS client context: " + error_);
  session_ = std::make_unique<TlsSession>(*context_);
}

bool TlsTestClient::flush() {
  std::span<const std::byte> out = session_->pendingCiphertext();
  if (out.empty()) return true;
  std::string bytes(reinterpret_cast<const char*>(out.data()), out.size());
  session_->consumeCiphertext(out.size());
  try {
    socket_.sendAll(bytes);
  } catch (const std::exception& e) {
    error_ = e.what();
    return false;
  }
  return true;
}

bool TlsTestClient::readSome(std::chrono::steady_clock::time_point deadline) {
  if (!waitReadable(socket_.fd(), deadline)) {
    error_ = "deadline passed";
    return false;
  }
  std::array<char, 16384> buf;
  ssize_t n = ::recv(socket_.fd(), buf.data(), buf.size(), 0);
  if (n <= 0) {
    error_ = n == 0 ? "connection closed by the server" : std::strerror(errno);
    return false;
  }
  session_->feedCiphertext(
      std::span(reinterpret_cast<const std::byte*>(buf.data()), static_cast<std::size_t>(n)));
  flush();
  std::array<std::byte, 16384> plain;
  while (std::size_t got = session_->readPlaintext(plain)) {
    buffered_.append(reinterpret_cast<const char*>(plain.data()), got);
  }
  flush();
  if (session_->state() == TlsState::kFailed) {
    error_ = session_->failureReason();
    return false;
  }
  return true;
}

bool TlsTestClient::handshake(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  session_->handshake();
  if (!flush()) return false;
  while (!session_->handshakeDone()) {
    if (session_->state() == TlsState::kFailed) {
      error_ = session_->failureReason();
      return false;
    }
    if (!readSome(deadline)) return false;
  }
  return true;
}

void TlsTestClient::sendAll(std::string_view bytes) {
  if (!session_->writePlaintext(
          std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()))) {
    throw std::runtime_error("TLS write refused: session " +
                             std::string(toString(session_->state())));
  }
  if (!flush()) throw std::runtime_error("TLS send failed: " + error_);
}

void TlsTestClient::sendFrame(std::string_view payload) {
  auto header = encodeHeader(static_cast<std::uint32_t>(payload.size()), ByteOrder::kLittle);
  std::string frame(reinterpret_cast<const char*>(header.data()), header.size());
  frame.append(payload);
  sendAll(frame);
}

std::optional<std::string> TlsTestClient::recvExact(std::size_t n,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffered_.size() < n) {
    if (session_->state() != TlsState::kOpen) return std::nullopt;
    if (!readSome(deadline)) return std::nullopt;
  }
  std::string out = buffered_.substr(0, n);
  buffered_.erase(0, n);
  return out;
}

std::optional<std::string> TlsTestClient::recvFrame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto header = recvExact(kFrameHeaderBytes, timeout);
  if (!header) return std::nullopt;
  std::uint32_t length =
      decodeLength(reinterpret_cast<const std::byte*>(header->data()), ByteOrder::kLittle);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return recvExact(length, std::max(left, std::chrono::milliseconds(1)));
}

bool TlsTestClient::waitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  error_.clear();
  while (session_->state() == TlsState::kOpen || session_->state() == TlsState::kHandshaking) {
    if (!readSome(deadline)) return error_ != "deadline passed";
  }
  return true;
}

void TlsTestClient::close() {
  if (session_->handshakeDone()) {
    session_->shutdown();
    flush();
  }
  socket_.close();
}

}  // namespace uvframe::test
