// uvframe-loadgen --tls against the real TLS server: handshake failures are
// connect failures with OpenSSL's reason, the PROXY header goes first in
// plaintext and the TLS handshake after it, and the connect figures of the
// JSON include the handshake. (1,000 TLS connections checked frame by frame
// are in tests/integration/loadgen_tls_test.cpp.)
#include <gtest/gtest.h>

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

std::vector<std::string> loadgen(std::uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(), {programPath("uvframe-loadgen"), "--port", std::to_string(port),
                             "--progress-interval", "0"});
  return args;
}

TEST(LoadgenTls, HandshakeFailuresAreConnectFailuresWithOpenSslsReason) {
  TempDir dir;
  std::string json = dir.file("run.json");
  ServerProcess server(tlsServerArgs());
  // No --tls-ca: the system's trust store does not know the test CA. One
  // loop: OpenSSL reads the store's directory with opendir() inside the
  // uninstrumented libcrypto, and TSan takes the descriptor number reused
  // from another loop's closed socket for a race (a false positive).
  RunResult r =
      runProgram(loadgen(server.port(), {"--tls", "--connections", "10", "--frames-per-connection",
                                         "2", "--threads", "1", "--json", json}));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("tls_handshake=10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tls failure     10 x certificate verify failed"), std::string::npos)
      << r.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["connections"]["opened"], 0);
  EXPECT_EQ(j["connections"]["failed"], 10);
  EXPECT_EQ(j["errors"]["tls_handshake"], 10);
  ASSERT_TRUE(j.contains("tls_failures")) << j.dump(2);
  ASSERT_EQ(j["tls_failures"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["tls_failures"].begin().key().rfind("certificate verify failed", 0), 0u) << j.dump(2);
  EXPECT_EQ(j["options"]["tls"], true);
}

TEST(LoadgenTls, ProxyHeaderInPlaintextThenTheHandshake) {
  TempDir dir;
  std::string json = dir.file("run.json");
  const TestPki& pki = testPki();
  ServerProcess server(tlsServerArgs({"--proxy-protocol", "v1", "--tls-client-ca", pki.caCert}));
  RunResult r = runProgram(
      loadgen(server.port(), {"--tls-ca", pki.caCert, "--tls-cert", pki.clientCert, "--tls-key",
                              pki.clientKey, "--proxy-protocol", "v1", "--connections", "5",
                              "--frames-per-connection", "3", "--threads", "2", "--json", json}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find(", TLS"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(TLS handshakes included)"), std::string::npos) << r.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["connections"]["opened"], 5);
  EXPECT_EQ(j["frames"]["sent"], 15);
  EXPECT_EQ(j["errors_total"], 0);
  ASSERT_TRUE(j.contains("connect")) << j.dump(2);
  EXPECT_GT(j["connect"]["per_s"].get<double>(), 0.0);
  EXPECT_GT(j["connect"]["mean_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["connect"]["includes_tls_handshake"], true);
  // Each connection is logged as the made-up client its header names, over
  // TLS with the client certificate.
  ASSERT_TRUE(server.process().waitUntil([](const std::vector<std::string>& lines) {
    std::size_t n = 0;
    for (const auto& l : lines)
      n += l.find("] conn=") != std::string::npos;
    return n >= 15;
  })) << server.process().output();
  auto connected = server.process().linesContaining("client connected: ip=198.18.0.");
  ASSERT_EQ(connected.size(), 5u) << server.process().output();
  for (const auto& line : connected)
    EXPECT_NE(line.find("tls=TLSv1.3, subject=CN=client-7)"), std::string::npos) << line;
}

TEST(LoadgenTls, BadTlsOptionsExitTwo) {
  RunResult r =
      runProgram(loadgen(unusedPort(), {"--connections", "1", "--tls-key", testPki().clientKey}));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_NE(r.output.find("--tls-key needs --tls-cert"), std::string::npos) << r.output;
  RunResult help = runProgram(loadgen(unusedPort(), {"--help"}));
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.output.find("--tls-server-name"), std::string::npos);
}

}  // namespace
}  // namespace uvframe::test
