// uvframe-client over TLS against the real TLS server (certificates from the
// test PKI, tests/support/tls_test_certs.h): messages logged exactly, the
// server's connected line naming the TLS version (and, with mTLS, the client
// certificate's subject), echo, and the clear one-line errors of a failed
// verification, of a missing client certificate and of bad TLS options.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "client_test_helpers.h"
#include "server_process.h"
#include "tls_test_certs.h"

namespace uvframe::test {
namespace {

std::vector<std::string> tlsServerArgs(std::vector<std::string> extra = {}) {
  const TestPki& pki = testPki();
  std::vector<std::string> args{"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> client(std::uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(), {programPath("uvframe-client"), "--port", std::to_string(port)});
  return args;
}

/// The client's local address from its connected line ("" if none).
std::string localAddressOf(const std::vector<std::string>& lines) {
  static const std::regex kConnected(R"(\[tcp client\] connected to \S+ from (\S+))");
  std::smatch m;
  for (const auto& l : lines) {
    if (std::regex_search(l, m, kConnected)) return m[1].str();
  }
  return {};
}

/// Waits for count message lines of peer in the server's output.
bool waitForMessages(ServerProcess& server, const std::string& peer, std::size_t count) {
  std::string tag = "[tcp/" + peer + "] ";
  return server.process().waitUntil([&](const std::vector<std::string>& lines) {
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
             return l.find(tag) != std::string::npos;
           })) >= count;
  });
}

/// The server's connected line for the peer "ip:port".
std::string connectedLineOf(ServerProcess& server, const std::string& peer) {
  auto colon = peer.rfind(':');
  std::string text =
      "client connected: ip=" + peer.substr(0, colon) + ", port=" + peer.substr(colon + 1) + " ";
  auto lines = server.process().linesContaining(text);
  return lines.empty() ? std::string() : lines.front();
}

TEST(ClientTls, MessagesAreLoggedExactlyOverTls) {
  ServerProcess server(tlsServerArgs({"--payload-encoding", "utf-8"}));
  RunResult r = runProgram(client(server.port(), {"--tls", "--tls-ca", testPki().caCert, "first",
                                                  "안녕하세요", "", "tab\there"}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("(tls=TLSv1.3, cipher="), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server=CN=localhost"), std::string::npos) << r.output;
  std::string peer = localAddressOf(r.lines);
  ASSERT_FALSE(peer.empty()) << r.output;
  ASSERT_TRUE(waitForMessages(server, peer, 4)) << server.process().output();
  EXPECT_EQ(server.messagesFrom(peer),
            (std::vector<std::string>{"first", "안녕하세요", "", "tab\\there"}));
  EXPECT_NE(connectedLineOf(server, peer).find("(tls=TLSv1.3)"), std::string::npos)
      << server.process().output();
}

TEST(ClientTls, ClientCertificateForMutualTls) {
  const TestPki& pki = testPki();
  ServerProcess server(tlsServerArgs({"--tls-client-ca", pki.caCert}));
  // --tls-ca alone implies --tls; the name to verify is the --host value.
  RunResult r = runProgram(
      client(server.port(), {"--host", "127.0.0.1", "--tls-ca", pki.caCert, "--tls-cert",
                             pki.clientCert, "--tls-key", pki.clientKey, "from client-7"}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::string peer = localAddressOf(r.lines);
  ASSERT_FALSE(peer.empty()) << r.output;
  ASSERT_TRUE(waitForMessages(server, peer, 1)) << server.process().output();
  EXPECT_EQ(server.messagesFrom(peer), std::vector<std::string>{"from client-7"});
  EXPECT_NE(connectedLineOf(server, peer).find("(tls=TLSv1.3, subject=CN=client-7)"),
            std::string::npos)
      << server.process().output();

  // Without a certificate the handshake completes on the client's side
  // (TLS 1.3), then the server's refusal arrives: still a clear failure.
  RunResult refused =
      runProgram(client(server.port(), {"--tls-ca", pki.caCert, "--echo", "no certificate"}));
  EXPECT_EQ(refused.exitCode, 1) << refused.output;
  EXPECT_NE(refused.output.find("uvframe-client: error: "), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("certificate required"), std::string::npos) << refused.output;
}

TEST(ClientTls, UntrustedServerCertificateIsAClearError) {
  ServerProcess server(tlsServerArgs());
  // Without --tls-ca the system's store is used, which does not know the test CA.
  RunResult r = runProgram(client(server.port(), {"--tls", "hello"}));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  ASSERT_EQ(r.lines.size(), 1u) << r.output;
  EXPECT_EQ(r.lines[0].rfind("uvframe-client: error: TLS handshake with 127.0.0.1:", 0), 0u)
      << r.output;
  EXPECT_NE(r.lines[0].find("failed: certificate verify failed"), std::string::npos) << r.output;

  // A name the certificate does not carry.
  RunResult wrongName = runProgram(client(
      server.port(), {"--tls-ca", testPki().caCert, "--tls-server-name", "example.com", "hi"}));
  EXPECT_EQ(wrongName.exitCode, 1) << wrongName.output;
  EXPECT_NE(wrongName.output.find("hostname mismatch"), std::string::npos) << wrongName.output;
  EXPECT_TRUE(server.process().linesContaining("] hello").empty()) << "nothing may be logged";
}

TEST(ClientTls, TlsClientAgainstAPlaintextServerSaysSo) {
  ServerProcess server;
  RunResult r = runProgram(client(server.port(), {"--tls-ca", testPki().caCert, "hello"}));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("TLS handshake with"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("does it speak TLS?"), std::string::npos) << r.output;
}

TEST(ClientTls, EchoOverTls) {
  ServerProcess server(tlsServerArgs({"--echo"}));
  std::string big(100000, 'x');  // several TLS records each way
  RunResult r = runProgram(
      client(server.port(), {"--tls-ca", testPki().caCert, "--echo", "ping", "안녕", big}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo 4+4 bytes: ping"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo 4+6 bytes: 안녕"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo 4+100000 bytes: xxx"), std::string::npos)
      << r.output.substr(0, 2000);
}

TEST(ClientTls, BadTlsOptions) {
  RunResult noKey = runProgram(client(unusedPort(), {"--tls-cert", testPki().clientCert, "x"}));
  EXPECT_EQ(noKey.exitCode, 2) << noKey.output;
  ASSERT_EQ(noKey.lines.size(), 1u) << noKey.output;
  EXPECT_NE(noKey.lines[0].find("--tls-cert needs --tls-key"), std::string::npos) << noKey.output;

  RunResult missing = runProgram(client(unusedPort(), {"--tls-ca", "/nonexistent/ca.pem", "x"}));
  EXPECT_EQ(missing.exitCode, 1) << missing.output;
  ASSERT_EQ(missing.lines.size(), 1u) << missing.output;
  EXPECT_NE(missing.lines[0].find("/nonexistent/ca.pem"), std::string::npos) << missing.output;

  RunResult help = runProgram(client(unusedPort(), {"--help"}));
  EXPECT_EQ(help.exitCode, 0);
  for (const char* option : {"--tls", "--tls-ca", "--tls-cert", "--tls-key", "--tls-server-name"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace uvframe::test
