// TLS on the listener (--tls-cert/--tls-key, --tls-client-ca): the real
// server with certificates the tests make themselves (tls_test_certs.h),
// real TLS clients over loopback (tls_test_client.h). Covered: a TLS client
// served and named with its version, mTLS with the client's subject, every
// refusal (plaintext, no certificate, another CA, expired, a handshake that
// stalls, 500 at once) with only that peer closed, echo over TLS, PROXY
// protocol in front of TLS, rate limits over TLS, SIGHUP certificate
// rotation, and bad options.
//
// Refusal warnings are rate-limited per reason (about one a second), so
// each refusal that must be read in the log has a server of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "child_process.h"
#include "log_lines.h"
#include "proxy_header_writer.h"
#include "server_process.h"
#include "test_socket.h"
#include "tls_test_certs.h"
#include "tls_test_client.h"

namespace uvframe::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> tlsArgs(std::vector<std::string> more = {}, bool mutual = false) {
  const TestPki& pki = testPki();
  std::vector<std::string> args = {"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey};
  if (mutual) {
    args.push_back("--tls-client-ca");
    args.push_back(pki.caCert);
  }
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TlsClientOptions trustingClient(std::string cert = "", std::string key = "") {
  return clientOptions(testPki().caCert, "127.0.0.1", std::move(cert), std::move(key));
}

TlsTestClient connectTls(const ServerProcess& server, const TlsClientOptions& options) {
  return TlsTestClient(TestSocket::connect("127.0.0.1", server.port()), options);
}

std::string connectedLine(const std::string& hostPort) {
  const std::string ip = hostPort.substr(0, hostPort.rfind(':'));
  const std::string port = hostPort.substr(hostPort.rfind(':') + 1);
  return "client connected: ip=" + ip + ", port=" + port;
}

std::string refusedLine(const std::string& hostPort) {
  const std::string ip = hostPort.substr(0, hostPort.rfind(':'));
  const std::string port = hostPort.substr(hostPort.rfind(':') + 1);
  return "connection refused: ip=" + ip + ", port=" + port + " (reason=tls handshake failed: ";
}

std::size_t countMessages(const std::vector<std::string>& lines, const std::string& hostPort) {
  const std::string tag = "[tcp/" + hostPort + "] ";
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const auto& l) { return l.find(tag) != std::string::npos; }));
}

// The refused peer gets one warning naming it and why, and no other line.
void expectRefused(ServerProcess& server, const std::string& hostPort, const std::string& why) {
  auto line = server.process().waitForText(refusedLine(hostPort));
  ASSERT_TRUE(line) << server.process().output();
  EXPECT_NE(line->find(why), std::string::npos) << *line;
  std::string level;
  withoutPrefix(*line, &level);
  EXPECT_EQ(level, "warning") << *line;
  EXPECT_TRUE(server.process().linesContaining(connectedLine(hostPort)).empty())
      << server.process().output();
  EXPECT_TRUE(server.messagesFrom(hostPort).empty());
}

// A TLS client is served: the connected line names the version and waits for
// the handshake; messages are logged as in plaintext.
TEST(Tls, ClientIsServedAndNamedWithItsVersion) {
  ServerProcess server(tlsArgs({"--workers", "2"}));
  TlsTestClient client = connectTls(server, trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  EXPECT_EQ(client.session().peerSubject(), "CN=localhost");
  const std::string me = client.socket().localHostPort();
  client.sendFrame("hello over tls");
  client.sendFrame("안녕하세요");
  client.sendFrame("");
  ASSERT_TRUE(server.process().waitForText("[tcp/" + me + "] "));
  ASSERT_TRUE(server.process().waitUntil(
      [&](const std::vector<std::string>& lines) { return countMessages(lines, me) == 3; }));
  EXPECT_EQ(server.messagesFrom(me),
            (std::vector<std::string>{"hello over tls", "안녕하세요", ""}));
  auto connected = server.process().waitForText(connectedLine(me));
  ASSERT_TRUE(connected);
  EXPECT_NE(connected->find(connectedLine(me) + " (tls=TLSv1.3)"), std::string::npos) << *connected;
  const std::uint16_t myPort = client.socket().localPort();
  client.close();
  auto gone = server.process().waitForText("client disconnected: ip=127.0.0.1, port=" +
                                           std::to_string(myPort));
  ASSERT_TRUE(gone) << server.process().output();
  EXPECT_NE(gone->find("reason=peer closed, frames=3,"), std::string::npos) << *gone;
  ASSERT_EQ(server.stop(), 0);
  EXPECT_TRUE(server.process().waitForText("listening on")->find("tls=on") != std::string::npos);
}

TEST(Tls, PlaintextClientIsRefusedAndOthersServed) {
  ServerProcess server(tlsArgs());
  TestSocket plain = TestSocket::connect("127.0.0.1", server.port());
  plain.sendFrame("plaintext to a TLS port");
  EXPECT_TRUE(plain.waitClosedByPeer()) << server.process().output();
  expectRefused(server, plain.localHostPort(), "wrong version number");
  TlsTestClient client = connectTls(server, trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  client.sendFrame("still served");
  ASSERT_TRUE(
      server.process().waitForText("[tcp/" + client.socket().localHostPort() + "] still served"));
  ASSERT_EQ(server.stop(), 0);
  EXPECT_TRUE(server.process().waitForText("refused=1,")) << server.process().output();
}

TEST(MutualTls, ClientCertificateSubjectIsLogged) {
  const TestPki& pki = testPki();
  ServerProcess server(tlsArgs({}, true));
  TlsTestClient client = connectTls(server, trustingClient(pki.clientCert, pki.clientKey));
  ASSERT_TRUE(client.handshake()) << client.error();
  client.sendFrame("signed by the CA");
  const std::string me = client.socket().localHostPort();
  ASSERT_TRUE(server.process().waitForText("[tcp/" + me + "] signed by the CA"))
      << server.process().output();
  auto connected = server.process().waitForText(connectedLine(me));
  ASSERT_TRUE(connected);
  EXPECT_NE(connected->find(" (tls=TLSv1.3, subject=CN=client-7)"), std::string::npos)
      << *connected;
  ASSERT_EQ(server.stop(), 0);
}

// With TLS 1.3 the client finishes its handshake before the server checks
// its certificate: the refusal reaches it as an alert and a close.
void expectClientRefused(const TlsClientOptions& options, const std::string& why) {
  ServerProcess server(tlsArgs({}, true));
  TlsTestClient client = connectTls(server, options);
  const std::string me = client.socket().localHostPort();
  if (client.handshake()) {
    client.sendFrame("must not be logged");
    EXPECT_TRUE(client.waitClosed()) << client.error();
  }
  expectRefused(server, me, why);
  // Only that peer: a client with a good certificate is served meanwhile.
  const TestPki& pki = testPki();
  TlsTestClient good = connectTls(server, trustingClient(pki.clientCert, pki.clientKey));
  ASSERT_TRUE(good.handshake()) << good.error();
  good.sendFrame("good");
  EXPECT_TRUE(server.process().waitForText("[tcp/" + good.socket().localHostPort() + "] good"));
  ASSERT_EQ(server.stop(), 0);
  EXPECT_TRUE(server.process().waitForText("refused=1,")) << server.process().output();
}

TEST(MutualTls, ClientWithoutCertificateIsRefused) {
  expectClientRefused(trustingClient(), "peer did not return a certificate");
}

TEST(MutualTls, CertificateFromAnotherCaIsRefused) {
  const TestPki& pki = testPki();
  expectClientRefused(trustingClient(pki.otherClientCert, pki.otherClientKey),
                      "certificate verify failed");
}

TEST(MutualTls, ExpiredCertificateIsRefused) {
  const TestPki& pki = testPki();
  expectClientRefused(trustingClient(pki.expiredClientCert, pki.expiredClientKey),
                      "certificate has expired");
}

// 500 peers open TCP and never finish a handshake (half of them send the
// first bytes of a ClientHello): each is closed at --tls-handshake-timeout
// and counted as refused, while a normal TLS client is served meanwhile.
TEST(Tls, HandshakeSlowlorisIsClosedAtTheTimeoutWhileOthersAreServed) {
  ServerProcess server(tlsArgs({"--workers", "2", "--tls-handshake-timeout", "2"}));
  std::vector<TestSocket> stalled;
  stalled.reserve(500);
  for (int i = 0; i < 500; ++i) {
    stalled.push_back(TestSocket::connect("127.0.0.1", server.port()));
    if (i % 2 == 0) stalled.back().sendAll(std::string("\x16\x03\x01\x02\x00\x01", 6));
  }
  TlsTestClient client = connectTls(server, trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  client.sendFrame("served among stalled handshakes");
  ASSERT_TRUE(server.process().waitForText("[tcp/" + client.socket().localHostPort() +
                                           "] served among stalled handshakes"));
  for (TestSocket& s : stalled)
    ASSERT_TRUE(s.waitClosedByPeer(20s)) << server.process().output();
  auto line = server.process().waitForText("handshake not done within 2s");
  ASSERT_TRUE(line) << server.process().output();
  EXPECT_NE(line->find("reason=tls handshake failed: "), std::string::npos) << *line;
  EXPECT_TRUE(server.process().linesContaining("client connected:").size() == 1)
      << server.process().output();
  client.sendFrame("and still served after");
  ASSERT_TRUE(server.process().waitForText("and still served after"));
  ASSERT_EQ(server.stop(), 0);
  EXPECT_TRUE(server.process().waitForText("refused=500,")) << server.process().output();
}

TEST(Tls, EchoIsByteIdentical) {
  ServerProcess server(tlsArgs({"--echo", "--workers", "2"}));
  TlsTestClient client = connectTls(server, trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  std::vector<std::string> payloads = {"", "x", "안녕하세요 echo", std::string(70'000, 'a'),
                                       std::string(300'000, 'b')};
  for (std::size_t i = 0; i < 50; ++i)
    payloads.push_back("small " + std::to_string(i));
  for (const auto& p : payloads)
    client.sendFrame(p);
  for (const auto& p : payloads) {
    auto echoed = client.recvFrame(20s);
    ASSERT_TRUE(echoed) << client.error() << "\n" << server.process().output();
    ASSERT_EQ(echoed->size(), p.size());
    EXPECT_EQ(*echoed, p);
  }
  client.close();
  ASSERT_EQ(server.stop(), 0);
}

// The memory budget holds over TLS: peers whose large frames do not fit at
// once wait (their ciphertext stays in their sessions, charged to the
// budget) and are pumped again when memory frees, even though their sockets
// have nothing new to say. Every echo comes back whole.
TEST(Tls, LargeFramesThroughATightMemoryBudgetAllFinish) {
  ServerProcess server(tlsArgs({"--echo", "--workers", "1", "--max-input-memory", "1MiB"}));
  constexpr int kClients = 6;
  constexpr int kFrames = 8;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        TlsTestClient client = connectTls(server, trustingClient());
        if (!client.handshake()) {
          failures[c] = "handshake: " + client.error();
          return;
        }
        for (int f = 0; f < kFrames; ++f) {
          std::string payload(150'000 + 1000 * f, static_cast<char>('a' + c));
          client.sendFrame(payload);
          auto echoed = client.recvFrame(60s);
          if (!echoed || *echoed != payload) {
            failures[c] = "frame " + std::to_string(f) + ": " + client.error();
            return;
          }
        }
        client.close();
      } catch (const std::exception& e) {
        failures[c] = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (int c = 0; c < kClients; ++c)
    EXPECT_EQ(failures[c], "") << "client " << c;
  ASSERT_EQ(server.stop(), 0);
  auto stats = server.process().waitForText("stats:");
  ASSERT_TRUE(stats);
  EXPECT_NE(stats->find("frames=" + std::to_string(kClients * kFrames) + ","), std::string::npos)
      << *stats;
}

// SIGTERM drains TLS peers as it drains plaintext ones: every frame whose
// records reached the server's socket before the signal is logged.
TEST(Tls, ShutdownLogsEveryFrameAlreadySent) {
  ServerProcess server(tlsArgs({"--workers", "2"}));
  std::vector<TlsTestClient> clients;
  for (int c = 0; c < 4; ++c) {
    clients.push_back(connectTls(server, trustingClient()));
    ASSERT_TRUE(clients.back().handshake()) << clients.back().error();
  }
  std::string burst;
  for (int f = 0; f < 500; ++f) {
    std::string payload = "drained " + std::to_string(f);
    auto header = encodeHeader(static_cast<std::uint32_t>(payload.size()), ByteOrder::kLittle);
    burst.append(reinterpret_cast<const char*>(header.data()), header.size());
    burst += payload;
  }
  for (auto& c : clients)
    c.sendAll(burst);  // 4 x 500 frames, then the signal at once
  ASSERT_EQ(server.stop(), 0);
  for (auto& c : clients) {
    auto logged = server.messagesFrom(c.socket().localHostPort());
    ASSERT_EQ(logged.size(), 500u) << server.process().output().substr(0, 2000);
    EXPECT_EQ(logged.front(), "drained 0");
    EXPECT_EQ(logged.back(), "drained 499");
  }
}

// A balancer's PROXY header comes first, in plaintext; the TLS handshake
// follows on the same connection (HAProxy's TCP mode with send-proxy-v2).
TEST(Tls, ProxyHeaderInFrontOfTls) {
  ServerProcess server(tlsArgs({"--proxy-protocol", "v2"}));
  TestSocket socket = TestSocket::connect("127.0.0.1", server.port());
  const std::string via = socket.localHostPort();
  socket.sendAll(proxyHeaderV2(PeerAddress{"203.0.113.7", 41000}, socket.local()));
  TlsTestClient client(std::move(socket), trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  client.sendFrame("from behind the balancer");
  ASSERT_TRUE(server.process().waitForText("[tcp/203.0.113.7:41000] from behind the balancer"))
      << server.process().output();
  auto connected = server.process().waitForText("client connected: ip=203.0.113.7, port=41000");
  ASSERT_TRUE(connected);
  EXPECT_NE(connected->find("(via=" + via + ", tls=TLSv1.3)"), std::string::npos) << *connected;
  ASSERT_EQ(server.stop(), 0);
}

// --max-frame-rate pushes back over TLS as in plaintext: slowed, nothing lost.
TEST(Tls, RateLimitedPeerLosesNothing) {
  ServerProcess server(tlsArgs({"--max-frame-rate", "200"}));
  TlsTestClient client = connectTls(server, trustingClient());
  ASSERT_TRUE(client.handshake()) << client.error();
  std::vector<std::string> sent;
  for (int i = 0; i < 400; ++i) {
    sent.push_back("rated " + std::to_string(i));
    client.sendFrame(sent.back());
  }
  const std::string me = client.socket().localHostPort();
  ASSERT_TRUE(server.process().waitUntil(
      [&](const std::vector<std::string>& lines) { return countMessages(lines, me) == 400; }, 30s))
      << server.messagesFrom(me).size();
  EXPECT_EQ(server.messagesFrom(me), sent);
  ASSERT_EQ(server.stop(), 0);
  auto stats = server.process().waitForText("stats:");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->find("rate_pauses=0,"), std::string::npos) << *stats;
}

void copyFile(const std::string& from, const std::filesystem::path& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

// SIGHUP reads the certificate and key again: new connections get the
// renewed certificate, open ones go on; a broken pair keeps the old one.
TEST(Tls, SighupRotatesTheCertificateAndKeepsItWhenTheNewPairIsBad) {
  const TestPki& pki = testPki();
  const std::filesystem::path dir = pki.dir / ("rotation-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  copyFile(pki.serverCert, dir / "cert.pem");
  copyFile(pki.serverKey, dir / "key.pem");
  ServerProcess server(
      {"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  TlsTestClient before = connectTls(server, trustingClient());
  ASSERT_TRUE(before.handshake()) << before.error();
  EXPECT_EQ(before.session().peerSubject(), "CN=localhost");

  copyFile(pki.renewedServerCert, dir / "cert.pem");
  copyFile(pki.renewedServerKey, dir / "key.pem");
  server.process().sendSignal(SIGHUP);
  ASSERT_TRUE(
      server.process().waitForText("TLS certificate '" + (dir / "cert.pem").string() + "' and key"))
      << server.process().output();
  TlsTestClient after = connectTls(server, trustingClient());
  ASSERT_TRUE(after.handshake()) << after.error();
  EXPECT_EQ(after.session().peerSubject(), "CN=localhost-renewed");
  before.sendFrame("made before the rotation");
  EXPECT_TRUE(server.process().waitForText("] made before the rotation"));

  // A key that does not match the certificate: the server keeps the pair it has.
  copyFile(pki.clientKey, dir / "key.pem");
  server.process().sendSignal(SIGHUP);
  auto warning = server.process().waitForText("cannot reload the TLS certificate and key");
  ASSERT_TRUE(warning) << server.process().output();
  EXPECT_NE(warning->find("still using the old ones"), std::string::npos) << *warning;
  TlsTestClient still = connectTls(server, trustingClient());
  ASSERT_TRUE(still.handshake()) << still.error();
  EXPECT_EQ(still.session().peerSubject(), "CN=localhost-renewed");
  ASSERT_EQ(server.stop(), 0);
  std::filesystem::remove_all(dir);
}

TEST(TlsOptions, BadSettingsExitTwoWithOneLine) {
  const TestPki& pki = testPki();
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--tls-cert", pki.serverCert},
           {"--tls-key", pki.serverKey},
           {"--tls-client-ca", pki.caCert},
           {"--tls-cert", "/nonexistent/cert.pem", "--tls-key", pki.serverKey},
           {"--tls-cert", pki.serverCert, "--tls-key", pki.clientKey},
           {"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--tls-handshake-timeout",
            "0"}}) {
    args.insert(args.begin(), programPath("uvframe-server"));
    ChildProcess p(args);
    EXPECT_EQ(p.waitExit(), 2) << args[1];
    auto lines = p.lines();
    ASSERT_EQ(lines.size(), 1u) << p.output();
    EXPECT_NE(lines[0].find("error"), std::string::npos) << lines[0];
  }
}

}  // namespace
}  // namespace uvframe::test
