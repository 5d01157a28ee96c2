// libFuzzer target for TlsSession (common/tls_session.h) as the server sees
// it: a peer that sends arbitrary bytes, cut into arbitrary pieces.
// Input: byte 0 picks the context (bit 0: mTLS required) and seeds the cut
// sizes (1 byte .. 1 KiB, all sizes reachable); the rest is the stream.
// Properties: no crash or sanitizer report, no leak (ASan's leak check runs
// per input), never a byte of plaintext and never "open" (a handshake needs
// the peer to know the ECDHE secret; random bytes cannot finish one), the
// ciphertext the server answers with stays small (its flight or an alert),
// a failure always carries a reason, and once failed it stays failed.
// The certificate and key are generated once at init (tests/unit/
// tls_test_certs.h) and loaded into the contexts; their directory is
// removed before fuzzing starts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "tls_context.h"
#include "tls_session.h"
#include "tls_test_certs.h"

namespace {

using uvframe::TlsContext;
using uvframe::TlsSession;
using uvframe::TlsState;

std::shared_ptr<TlsContext> gPlain, gMutual;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  uvframe::test::TestPki pki;  // its files go when it does
  std::string error;
  using uvframe::test::serverOptions;
  gPlain = TlsContext::createServer(serverOptions(pki.serverCert, pki.serverKey), error);
  gMutual =
      TlsContext::createServer(serverOptions(pki.serverCert, pki.serverKey, pki.caCert), error);
  check(gPlain && gMutual);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const TlsContext& ctx = (data[0] & 1) ? *gMutual : *gPlain;
  std::uint32_t rng = 0x9E3779B9u * (data[0] + 1u);
  auto bytes = std::as_bytes(std::span(data + 1, size - 1));

  TlsSession server(ctx);
  std::byte plain[512];
  std::size_t sent = 0;
  bool failed = false;
  while (!bytes.empty()) {
    rng = rng * 1664525u + 1013904223u;
    std::size_t cut = std::min<std::size_t>(bytes.size(), 1 + (rng >> 22));  // 1..1024
    TlsState state = server.feedCiphertext(bytes.first(cut));
    bytes = bytes.subspan(cut);
    check(server.readPlaintext(plain) == 0);
    check(server.state() != TlsState::kOpen && server.state() != TlsState::kPeerClosed);
    check(!failed || state == TlsState::kFailed);
    failed = state == TlsState::kFailed;
    check(!failed || !server.failureReason().empty());
    // Send what it wants sent, sometimes in place, sometimes as a copy.
    if (rng & 0x100) {
      std::size_t n = server.pendingCiphertext().size();
      server.consumeCiphertext(n / 2);
      sent += n / 2;
    } else {
      sent += server.takeCiphertext().size();
    }
    check(server.bufferedCiphertext() <= size);
  }
  sent += server.takeCiphertext().size();
  check(sent < 16384);  // one server flight (about 1 KiB here) plus an alert
  check(!server.writePlaintext(std::as_bytes(std::span(plain))));
  server.shutdown();
  check(!server.releaseBuffers());
  check(server.peerSubject().empty());
  return 0;
}
