// Unit tests for common/tls_context and common/tls_session, all in memory:
// two sessions (server and client) talk through their ciphertext queues, cut
// as the test likes (whole flights, one byte at a time). Covered: TLS 1.3 and
// 1.2 handshakes, TLS 1.1 refused, mTLS (good certificate -> subject; none,
// another CA's, expired -> OpenSSL's reason), the client checking the
// server's name, plaintext clients (a uvframe frame, an HTTP GET), data both
// ways in 1-byte records and 1 MiB, plaintext read into a small buffer and
// into a RingBuffer's writable span, renegotiation refused, close_notify,
// context errors and reload, and the memory an idle session holds with and
// without SSL_MODE_RELEASE_BUFFERS (a counting allocator installed with
// CRYPTO_set_mem_functions before OpenSSL allocates anything: ctest runs each
// test in its own process, so it is always first).
#include "tls_session.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "ring_buffer.h"
#include "test_bytes.h"
#include "tls_context.h"
#include "tls_test_certs.h"

namespace uvframe {
namespace {

// ---- counting allocator for OpenSSL (live bytes) -------------------------
std::atomic<long long> gLiveBytes{0};
constexpr std::size_t kHeader = 16;  // keeps malloc's alignment

void* countedMalloc(std::size_t n, const char*, int) {
  auto* base = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (base == nullptr) return nullptr;
  std::memcpy(base, &n, sizeof n);
  gLiveBytes += static_cast<long long>(n);
  return base + kHeader;
}
void countedFree(void* p, const char*, int) {
  if (p == nullptr) return;
  auto* base = static_cast<unsigned char*>(p) - kHeader;
  std::size_t n;
  std::memcpy(&n, base, sizeof n);
  gLiveBytes -= static_cast<long long>(n);
  std::free(base);
}
void* countedRealloc(void* p, std::size_t n, const char* file, int line) {
  if (p == nullptr) return countedMalloc(n, file, line);
  if (n == 0) {
    countedFree(p, file, line);
    return nullptr;
  }
  auto* base = static_cast<unsigned char*>(p) - kHeader;
  std::size_t old;
  std::memcpy(&old, base, sizeof old);
  auto* grown = static_cast<unsigned char*>(std::realloc(base, n + kHeader));
  if (grown == nullptr) return nullptr;
  std::memcpy(grown, &n, sizeof n);
  gLiveBytes += static_cast<long long>(n) - static_cast<long long>(old);
  return grown + kHeader;
}
const bool gCounting = CRYPTO_set_mem_functions(countedMalloc, countedRealloc, countedFree) == 1;

// ---- helpers --------------------------------------------------------------
using test::asBytes;
using test::clientOptions;
using test::serverOptions;
using test::textOf;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

std::shared_ptr<TlsContext> serverContext(bool mtls = false, bool releaseBuffers = true) {
  const auto& pki = test::testPki();
  std::string error;
  TlsServerOptions options = serverOptions(pki.serverCert, pki.serverKey, mtls ? pki.caCert : "");
  options.releaseBuffers = releaseBuffers;
  auto ctx = TlsContext::createServer(options, error);
  EXPECT_TRUE(ctx) << error;
  return ctx;
}

std::shared_ptr<TlsContext> clientContext(const std::string& cert = "", const std::string& key = "",
                                          const std::string& name = "localhost",
                                          bool releaseBuffers = true) {
  std::string error;
  TlsClientOptions options = clientOptions(test::testPki().caCert, name, cert, key);
  options.releaseBuffers = releaseBuffers;
  auto ctx = TlsContext::createClient(options, error);
  EXPECT_TRUE(ctx) << error;
  return ctx;
}

// Reads every plaintext byte available, `bufBytes` at a time.
void drain(TlsSession& s, std::string& out, std::size_t bufBytes) {
  std::vector<std::byte> buf(bufBytes);
  while (std::size_t n = s.readPlaintext(buf))
    out += textOf(std::span(buf).first(n));
}

// Two sessions and what each has read.
struct Pair {
  Pair(const std::shared_ptr<TlsContext>& serverCtx, const std::shared_ptr<TlsContext>& clientCtx)
      : serverContext(serverCtx),
        clientContext(clientCtx),
        server(std::make_unique<TlsSession>(*serverCtx)),
        client(std::make_unique<TlsSession>(*clientCtx)) {}

  // Moves ciphertext both ways, `cut` bytes per feed, reading plaintext after
  // each feed, until nothing moves. Returns the ciphertext bytes moved.
  std::size_t pump(std::size_t cut = kAll, std::size_t readBytes = 65536) {
    client->handshake();
    std::size_t moved = 0;
    for (bool progress = true; progress;) {
      progress = false;
      for (auto [from, to, got] : {std::tuple{client.get(), server.get(), &atServer},
                                   std::tuple{server.get(), client.get(), &atClient}}) {
        std::vector<std::byte> bytes = from->takeCiphertext();
        moved += bytes.size();
        progress = progress || !bytes.empty();
        for (std::size_t at = 0; at < bytes.size();) {
          std::size_t n = std::min(cut, bytes.size() - at);
          to->feedCiphertext(std::span(bytes).subspan(at, n));
          drain(*to, *got, readBytes);
          at += n;
        }
      }
    }
    return moved;
  }

  // Held so that destroying a session frees only the session.
  std::shared_ptr<TlsContext> serverContext, clientContext;
  std::unique_ptr<TlsSession> server, client;
  std::string atServer, atClient;
};

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng());
  return s;
}

// ---- handshakes -------------------------------------------------------------
TEST(TlsSession, HandshakeTls13) {
  Pair p(serverContext(), clientContext());
  EXPECT_EQ(p.server->state(), TlsState::kHandshaking);
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kOpen) << p.server->failureReason();
  ASSERT_EQ(p.client->state(), TlsState::kOpen) << p.client->failureReason();
  EXPECT_EQ(p.server->version(), "TLSv1.3");
  EXPECT_EQ(p.client->version(), "TLSv1.3");
  EXPECT_EQ(p.server->peerSubject(), "");  // no mTLS
  EXPECT_EQ(p.client->peerSubject(), "CN=localhost");
  EXPECT_FALSE(p.server->cipher().empty());
}

TEST(TlsSession, HandshakeTls12WhenTheClientStopsThere) {
  auto clientCtx = clientContext();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(clientCtx->native(), TLS1_2_VERSION), 1);
  Pair p(serverContext(), clientCtx);
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kOpen) << p.server->failureReason();
  EXPECT_EQ(p.server->version(), "TLSv1.2");
  EXPECT_EQ(p.client->version(), "TLSv1.2");
}

TEST(TlsSession, Tls11IsRefused) {
  auto clientCtx = clientContext();
  SSL_CTX* c = clientCtx->native();
  SSL_CTX_set_security_level(c, 0);  // so the client really offers TLS 1.1
  ASSERT_EQ(SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0"), 1);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(c, TLS1_1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION), 1);
  Pair p(serverContext(), clientCtx);
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kFailed);
  EXPECT_EQ(p.server->failureReason(), "unsupported protocol");
  EXPECT_NE(p.server->failureDetail().find("error:"), std::string::npos);
  EXPECT_EQ(p.client->state(), TlsState::kFailed);
  EXPECT_EQ(p.client->failureReason(), "tlsv1 alert protocol version");
}

TEST(TlsSession, MutualTlsReportsTheClientSubject) {
  const auto& pki = test::testPki();
  Pair p(serverContext(true), clientContext(pki.clientCert, pki.clientKey));
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kOpen) << p.server->failureReason();
  EXPECT_EQ(p.server->peerSubject(), "CN=client-7");
  EXPECT_EQ(p.server->verifyResult(), "");
}

struct Refusal {
  std::string serverReason, serverVerify, clientReason;
};

Refusal mtlsRefusal(const std::string& cert, const std::string& key) {
  Pair p(serverContext(true), clientContext(cert, key));
  p.pump();
  EXPECT_EQ(p.server->state(), TlsState::kFailed);
  EXPECT_EQ(p.client->state(), TlsState::kFailed);  // learnt from the server's alert
  EXPECT_EQ(p.atServer, "");
  return {p.server->failureReason(), p.server->verifyResult(), p.client->failureReason()};
}

TEST(TlsSession, MutualTlsWithoutClientCertFails) {
  Refusal r = mtlsRefusal("", "");
  EXPECT_EQ(r.serverReason, "peer did not return a certificate");
  EXPECT_EQ(r.clientReason, "tlsv13 alert certificate required");
}

TEST(TlsSession, MutualTlsWithAnotherCasCertFails) {
  const auto& pki = test::testPki();
  Refusal r = mtlsRefusal(pki.otherClientCert, pki.otherClientKey);
  EXPECT_EQ(r.serverReason, "certificate verify failed: unable to get local issuer certificate");
  EXPECT_EQ(r.serverVerify, "unable to get local issuer certificate");
  EXPECT_EQ(r.clientReason, "tlsv1 alert unknown ca");
}

TEST(TlsSession, MutualTlsWithExpiredCertFails) {
  const auto& pki = test::testPki();
  Refusal r = mtlsRefusal(pki.expiredClientCert, pki.expiredClientKey);
  EXPECT_EQ(r.serverReason, "certificate verify failed: certificate has expired");
  EXPECT_EQ(r.serverVerify, "certificate has expired");
  EXPECT_EQ(r.clientReason, "sslv3 alert certificate expired");
}

TEST(TlsSession, ClientChecksTheServerName) {
  Pair wrongName(serverContext(), clientContext("", "", "example.com"));
  wrongName.pump();
  ASSERT_EQ(wrongName.client->state(), TlsState::kFailed);
  EXPECT_EQ(wrongName.client->failureReason(), "certificate verify failed: hostname mismatch");
  EXPECT_EQ(wrongName.server->state(), TlsState::kFailed);

  Pair byIp(serverContext(), clientContext("", "", "127.0.0.1"));  // IP SAN, no SNI
  byIp.pump();
  EXPECT_EQ(byIp.client->state(), TlsState::kOpen) << byIp.client->failureReason();
  EXPECT_EQ(SSL_get_servername(byIp.server->native(), TLSEXT_NAMETYPE_host_name), nullptr);

  std::string error;
  auto untrusting =
      TlsContext::createClient(clientOptions(test::testPki().otherCaCert, "localhost"), error);
  ASSERT_TRUE(untrusting) << error;
  Pair untrusted(serverContext(), untrusting);
  untrusted.pump();
  EXPECT_EQ(untrusted.client->failureReason(),
            "certificate verify failed: unable to get local issuer certificate");
}

// ---- plaintext clients --------------------------------------------------------
std::string plaintextRefusal(std::string_view bytes) {
  auto ctx = serverContext();
  TlsSession server(*ctx);
  server.feedCiphertext(asBytes(bytes));
  std::byte buf[64];
  EXPECT_EQ(server.readPlaintext(buf), 0u);
  EXPECT_EQ(server.state(), TlsState::kFailed);
  EXPECT_NE(server.failureDetail().find("error:0A"), std::string::npos) << server.failureDetail();
  return server.failureReason();
}

TEST(TlsSession, PlaintextClientsFailWithAClearReason) {
  auto header = encodeHeader(11, ByteOrder::kLittle);
  std::string frame(reinterpret_cast<const char*>(header.data()), header.size());
  EXPECT_EQ(plaintextRefusal(frame + "hello world"), "wrong version number");
  EXPECT_EQ(plaintextRefusal("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "http request");

  // Fewer bytes than a record header: the handshake timeout has to end it.
  auto ctx = serverContext();
  TlsSession server(*ctx);
  EXPECT_EQ(server.feedCiphertext(asBytes("hi\n")), TlsState::kHandshaking);
  EXPECT_EQ(server.pendingCiphertext().size(), 0u);
}

TEST(TlsSession, FailedSessionStaysFailed) {
  auto ctx = serverContext();
  TlsSession server(*ctx);
  server.feedCiphertext(asBytes("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(server.state(), TlsState::kFailed);
  std::string reason = server.failureReason();
  EXPECT_EQ(server.feedCiphertext(asBytes("more")), TlsState::kFailed);
  EXPECT_FALSE(server.writePlaintext(asBytes("x")));
  server.shutdown();
  EXPECT_FALSE(server.releaseBuffers());
  EXPECT_EQ(server.failureReason(), reason);
}

// ---- data -----------------------------------------------------------------------
TEST(TlsSession, ManyOneByteRecordsBothWays) {
  Pair p(serverContext(), clientContext());
  p.pump();
  std::string up = randomBytes(1000, 1), down = randomBytes(1000, 2);
  for (std::size_t i = 0; i < up.size(); ++i) {
    ASSERT_TRUE(p.client->writePlaintext(asBytes(std::string_view(up).substr(i, 1))));
    ASSERT_TRUE(p.server->writePlaintext(asBytes(std::string_view(down).substr(i, 1))));
  }
  EXPECT_GE(p.client->pendingCiphertext().size(), 1000u * 22);  // one record each
  p.pump();
  EXPECT_EQ(p.atServer, up);
  EXPECT_EQ(p.atClient, down);
}

TEST(TlsSession, OneMebibyteBothWays) {
  Pair p(serverContext(), clientContext());
  p.pump();
  std::string up = randomBytes(1 << 20, 3), down = randomBytes(1 << 20, 4);
  ASSERT_TRUE(p.client->writePlaintext(asBytes(up)));
  ASSERT_TRUE(p.server->writePlaintext(asBytes(down)));
  p.pump(65536);
  EXPECT_TRUE(p.atServer == up);
  EXPECT_TRUE(p.atClient == down);
  EXPECT_EQ(p.server->bufferedCiphertext(), 0u);
}

TEST(TlsSession, CiphertextFedOneByteAtATime) {
  const auto& pki = test::testPki();
  Pair p(serverContext(true), clientContext(pki.clientCert, pki.clientKey));
  p.pump(1);
  ASSERT_EQ(p.server->state(), TlsState::kOpen) << p.server->failureReason();
  std::string up = randomBytes(20000, 5), down = randomBytes(20000, 6);
  ASSERT_TRUE(p.client->writePlaintext(asBytes(up)));
  ASSERT_TRUE(p.server->writePlaintext(asBytes(down)));
  p.pump(1);
  EXPECT_TRUE(p.atServer == up);
  EXPECT_TRUE(p.atClient == down);
}

TEST(TlsSession, PlaintextReadIntoASmallBufferInManyCalls) {
  Pair p(serverContext(), clientContext());
  p.pump();
  std::string up = randomBytes(100000, 7);
  ASSERT_TRUE(p.client->writePlaintext(asBytes(up)));
  p.pump(kAll, 7);
  EXPECT_TRUE(p.atServer == up);
}

TEST(TlsSession, DataInTheClientsFinishedFlightIsReadAtOnce) {
  Pair p(serverContext(), clientContext());
  p.client->handshake();
  p.server->feedCiphertext(p.client->takeCiphertext());
  p.client->feedCiphertext(p.server->takeCiphertext());
  ASSERT_EQ(p.client->state(), TlsState::kOpen);  // TLS 1.3: before the server knows
  ASSERT_TRUE(p.client->writePlaintext(asBytes("early frame")));
  p.server->feedCiphertext(p.client->takeCiphertext());  // Finished + the record together
  ASSERT_EQ(p.server->state(), TlsState::kOpen);
  drain(*p.server, p.atServer, 4096);
  EXPECT_EQ(p.atServer, "early frame");
}

TEST(TlsSession, PlaintextLandsInTheRingsWritableSpan) {
  Pair p(serverContext(), clientContext());
  p.pump();
  auto header = encodeHeader(5, ByteOrder::kLittle);
  ASSERT_TRUE(p.client->writePlaintext(header));
  ASSERT_TRUE(p.client->writePlaintext(asBytes("hello")));
  p.server->feedCiphertext(p.client->takeCiphertext());

  BufferPool pool(4096, 0);
  RingBuffer ring(pool);
  std::span<std::byte> into = ring.prepareWrite();
  ASSERT_FALSE(into.empty());
  std::size_t n = p.server->readPlaintext(into);
  ring.commit(n);
  ASSERT_EQ(n, 9u);
  EXPECT_EQ(ring.readable().data(), into.data());  // decrypted in place, no copy after
  EXPECT_EQ(textOf(ring.readable().subspan(4)), "hello");
}

TEST(TlsSession, PendingCiphertextCanBeSentInPieces) {
  Pair p(serverContext(), clientContext());
  p.client->handshake();
  std::string hello = textOf(p.client->pendingCiphertext());
  ASSERT_GT(hello.size(), 100u);
  // Like a socket that takes 10 bytes at a time.
  while (!p.client->pendingCiphertext().empty()) {
    auto pending = p.client->pendingCiphertext();
    auto piece = pending.first(std::min<std::size_t>(10, pending.size()));
    p.server->feedCiphertext(piece);
    p.client->consumeCiphertext(piece.size());
  }
  EXPECT_GT(p.server->pendingCiphertext().size(), 0u);  // ServerHello...Finished
  p.pump();
  EXPECT_EQ(p.server->state(), TlsState::kOpen);
}

// ---- renegotiation and close ----------------------------------------------------
TEST(TlsSession, RenegotiationIsRefused) {
  auto clientCtx = clientContext();
  ASSERT_EQ(SSL_CTX_set_max_proto_version(clientCtx->native(), TLS1_2_VERSION), 1);
  Pair p(serverContext(), clientCtx);
  p.pump();
  ASSERT_EQ(p.server->version(), "TLSv1.2");
  // The server will not start one...
  EXPECT_EQ(SSL_renegotiate(p.server->native()), 0);
  // ...nor accept one from a client that allows itself to ask.
  SSL* c = p.client->native();
  SSL_clear_options(c, SSL_OP_NO_RENEGOTIATION);
  ASSERT_EQ(SSL_renegotiate(c), 1);
  SSL_do_handshake(c);  // queues the new ClientHello
  p.pump();
  EXPECT_EQ(p.client->state(), TlsState::kFailed);
  EXPECT_EQ(p.client->failureReason(), "no renegotiation");
  EXPECT_NE(p.server->state(), TlsState::kHandshaking);
  EXPECT_EQ(p.atServer, "");
}

TEST(TlsSession, CloseNotifyBothWays) {
  Pair p(serverContext(), clientContext());
  p.pump();
  ASSERT_TRUE(p.client->writePlaintext(asBytes("last frame")));
  p.client->shutdown();
  EXPECT_TRUE(p.client->closeNotifySent());
  EXPECT_FALSE(p.client->writePlaintext(asBytes("too late")));
  p.pump();
  EXPECT_EQ(p.atServer, "last frame");
  EXPECT_EQ(p.server->state(), TlsState::kPeerClosed);
  // The server may still answer (queued echoes), then closes too.
  ASSERT_TRUE(p.server->writePlaintext(asBytes("echo")));
  p.server->shutdown();
  p.pump();
  EXPECT_EQ(p.atClient, "echo");
  EXPECT_EQ(p.client->state(), TlsState::kPeerClosed);
}

// ---- contexts ---------------------------------------------------------------------
TEST(TlsContext, ErrorsNameTheFileAndOpenSslsReason) {
  const auto& pki = test::testPki();
  std::string missing = (pki.dir / "missing.pem").string();
  std::string error;
  EXPECT_FALSE(TlsContext::createServer(serverOptions(missing, pki.serverKey), error));
  EXPECT_NE(error.find("cannot load the certificate chain from " + missing), std::string::npos);
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;

  EXPECT_FALSE(TlsContext::createServer(serverOptions(pki.serverCert, pki.serverCert), error));
  EXPECT_NE(error.find("cannot load the private key from " + pki.serverCert), std::string::npos)
      << error;
  EXPECT_FALSE(TlsContext::createServer(serverOptions(pki.serverCert, pki.clientKey), error));
  EXPECT_NE(error.find("cannot load the private key from " + pki.clientKey), std::string::npos);
  EXPECT_NE(error.find("key values mismatch"), std::string::npos) << error;
  EXPECT_FALSE(
      TlsContext::createServer(serverOptions(pki.serverCert, pki.serverKey, missing), error));
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_FALSE(
      TlsContext::createClient(clientOptions(pki.caCert, "localhost", pki.clientCert, ""), error));
  EXPECT_NE(error.find("both"), std::string::npos) << error;
}

TEST(TlsContext, ReloadKeepsTheOldContextOnError) {
  const auto& pki = test::testPki();
  std::filesystem::path cert = pki.dir / "reload.pem", key = pki.dir / "reload.key";
  std::filesystem::copy_file(pki.serverCert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(pki.serverKey, key, std::filesystem::copy_options::overwrite_existing);
  std::string error;
  std::shared_ptr<TlsContext> current = TlsContext::createServer(serverOptions(cert, key), error);
  ASSERT_TRUE(current) << error;
  auto live = std::make_unique<TlsSession>(*current);

  std::filesystem::remove(cert);
  EXPECT_FALSE(current->reloaded(error));
  EXPECT_NE(error.find(cert.string()), std::string::npos) << error;

  std::filesystem::copy_file(pki.serverCert, cert);
  std::shared_ptr<TlsContext> fresh = current->reloaded(error);
  ASSERT_TRUE(fresh) << error;
  EXPECT_NE(fresh->native(), current->native());
  current = fresh;  // the caller's swap; the live session keeps its SSL_CTX
  auto clientCtx = clientContext();
  Pair p(current, clientCtx);
  p.pump();
  EXPECT_EQ(p.server->state(), TlsState::kOpen);
  p.server = std::move(live);  // made from the old context
  p.client = std::make_unique<TlsSession>(*clientCtx);
  p.pump();
  EXPECT_EQ(p.server->state(), TlsState::kOpen);
}

// ---- byte queues and reading in place ---------------------------------------------
TEST(TlsByteQueue, KeepsOrderAcrossGrowthAndCompaction) {
  TlsByteQueue q;
  std::string sent = randomBytes(100000, 3), got;
  std::size_t at = 0;
  std::mt19937 rng(5);
  while (got.size() < sent.size()) {
    std::size_t n = std::min<std::size_t>(rng() % 20000, sent.size() - at);
    if (rng() & 1) {
      ASSERT_TRUE(q.append(sent.data() + at, n));
    } else {
      std::span<std::byte> room = q.prepare(n);
      ASSERT_EQ(room.size(), n);
      std::memcpy(room.data(), sent.data() + at, n);
      q.commit(n);
    }
    at += n;
    EXPECT_EQ(q.size(), at - got.size());
    std::string out(rng() % 30000, '\0');
    out.resize(q.read(out.data(), out.size()));
    got += out;
    if (!q.empty()) {
      EXPECT_FALSE(q.release());  // never while bytes wait
    }
  }
  EXPECT_EQ(got, sent);
  EXPECT_TRUE(q.empty());
  ASSERT_TRUE(q.append("x", 1));
  q.drop(1);
  EXPECT_GT(q.capacity(), 0u);  // drained, the block stays until released
  EXPECT_TRUE(q.release());
  EXPECT_EQ(q.capacity(), 0u);
  ASSERT_TRUE(q.append("ab", 2));
  EXPECT_FALSE(q.release());  // not while bytes wait
  EXPECT_EQ(textOf(q.front()), "ab");
  q.drop(1);
  EXPECT_EQ(textOf(q.front()), "b");
}

TEST(TlsSession, ReadsCiphertextInPlace) {
  Pair p(serverContext(), clientContext());
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kOpen);
  std::string data = randomBytes(300000, 11);
  ASSERT_TRUE(p.client->writePlaintext(asBytes(data)));
  std::vector<std::byte> wire = p.client->takeCiphertext();
  // As the server's socket reads: at most 17 KiB at a time, straight into
  // the session, cut anywhere in a record.
  std::string got;
  for (std::size_t at = 0; at < wire.size();) {
    std::span<std::byte> room = p.server->ciphertextRoom(17 * 1024);
    ASSERT_EQ(room.size(), 17u * 1024);
    std::size_t n = std::min<std::size_t>({room.size(), wire.size() - at, 1000 + at % 9000});
    std::memcpy(room.data(), wire.data() + at, n);
    EXPECT_EQ(p.server->commitCiphertext(n), TlsState::kOpen);
    at += n;
    drain(*p.server, got, 4096);
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(p.server->bufferedCiphertext(), 0u);
  EXPECT_TRUE(p.server->releaseBuffers());
}

TEST(TlsSession, WritesRecordsIntoTheCallersQueue) {
  Pair p(serverContext(), clientContext());
  p.pump();
  ASSERT_EQ(p.client->state(), TlsState::kOpen);
  std::string first = "queued in the session first|", second = randomBytes(70000, 12);
  ASSERT_TRUE(p.client->writePlaintext(asBytes(first)));
  TlsByteQueue batch;
  ASSERT_TRUE(p.client->writePlaintext(asBytes(second), batch));
  EXPECT_TRUE(p.client->pendingCiphertext().empty());  // all of it went to the batch, in order
  ASSERT_TRUE(p.client->writePlaintext(asBytes("after")));
  EXPECT_FALSE(p.client->pendingCiphertext().empty());  // the session's own queue again
  std::vector<std::byte> wire(batch.front().begin(), batch.front().end());
  std::vector<std::byte> rest = p.client->takeCiphertext();
  wire.insert(wire.end(), rest.begin(), rest.end());
  EXPECT_EQ(p.server->feedCiphertext(wire), TlsState::kOpen);
  std::string got;
  drain(*p.server, got, 65536);
  EXPECT_EQ(got, first + second + "after");
}

TEST(TlsSession, ServerPrefersAes128Gcm) {
  Pair p(serverContext(), clientContext());  // the client offers OpenSSL's default order
  p.pump();
  ASSERT_EQ(p.server->state(), TlsState::kOpen);
  EXPECT_EQ(p.server->cipher(), "TLS_AES_128_GCM_SHA256");
}

// ---- idle memory ------------------------------------------------------------------
// Bytes OpenSSL frees when an idle server session (handshake done, `traffic`
// bytes each way) is destroyed: what the session held while idle.
long long idleServerBytes(bool releaseMode, bool releaseBuffers, std::size_t traffic) {
  Pair p(serverContext(false, releaseMode), clientContext("", "", "localhost", releaseMode));
  p.pump();
  std::string data = randomBytes(traffic, 8);
  EXPECT_TRUE(p.client->writePlaintext(asBytes(data)));
  EXPECT_TRUE(p.server->writePlaintext(asBytes(data)));
  p.pump(65536);
  EXPECT_EQ(p.atServer.size(), traffic);
  if (releaseBuffers) {
    EXPECT_TRUE(p.server->releaseBuffers());
  }
  long long before = gLiveBytes.load();
  p.server.reset();
  return before - gLiveBytes.load();
}

TEST(TlsSession, IdleSessionMemory) {
  if (!gCounting) GTEST_SKIP() << "OpenSSL allocated before CRYPTO_set_mem_functions";
  std::printf("bytes held by an idle TLS 1.3 server session (sizeof(TlsSession) = %zu):\n",
              sizeof(TlsSession));
  std::printf("  %-40s %10s %10s\n", "", "100 B", "1 MiB");
  long long plain[2], mode[2], modeRelease[2], plainRelease[2];
  for (int i = 0; i < 2; ++i) {
    std::size_t traffic = i == 0 ? 100 : 1 << 20;
    plain[i] = idleServerBytes(false, false, traffic);
    plainRelease[i] = idleServerBytes(false, true, traffic);
    mode[i] = idleServerBytes(true, false, traffic);
    modeRelease[i] = idleServerBytes(true, true, traffic);
  }
  std::printf("  %-40s %10lld %10lld\n", "no SSL_MODE_RELEASE_BUFFERS", plain[0], plain[1]);
  std::printf("  %-40s %10lld %10lld\n", "no mode + releaseBuffers()", plainRelease[0],
              plainRelease[1]);
  std::printf("  %-40s %10lld %10lld\n", "SSL_MODE_RELEASE_BUFFERS", mode[0], mode[1]);
  std::printf("  %-40s %10lld %10lld\n", "SSL_MODE_RELEASE_BUFFERS + releaseBuffers()",
              modeRelease[0], modeRelease[1]);
  for (int i = 0; i < 2; ++i) {
    EXPECT_LT(mode[i], plain[i]);
    EXPECT_LE(modeRelease[i], mode[i]);
    EXPECT_LT(modeRelease[i], 16384);
  }
  // A 1 MiB burst leaves nothing behind: drained BIOs over 64 KiB are shed.
  EXPECT_LT(mode[1], mode[0] + 4096);
}

}  // namespace
}  // namespace uvframe
