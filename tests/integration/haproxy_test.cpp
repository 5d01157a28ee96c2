// PROXY protocol (SPEC "Behind a load balancer"): a real HAProxy in `mode tcp`
// balancing clients from distinct loopback addresses over two uvframe-servers
// (send-proxy, send-proxy-v2, both under --proxy-protocol any, an IPv6
// frontend), and raw sockets writing headers by hand straight to a server
// (header and frames in one write, TLVs, LOCAL/UNKNOWN, proxy timeout, garbage,
// an untrusted proxy). The HAProxy tests skip when haproxy is not installed
// (scripts/setup.sh installs it).
#include <arpa/inet.h>

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <stdexcept>

#include "haproxy_process.h"
#include "log_lines.h"
#include "peer_address.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

// ---- PROXY headers written by hand, after HAProxy's proxy-protocol.txt.

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string bigEndian16(std::size_t v) {
  return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

std::string rawAddress(const std::string& ip) {
  unsigned char buf[16];
  bool v6 = ip.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), buf) != 1) throw std::runtime_error(ip);
  return std::string(reinterpret_cast<const char*>(buf), v6 ? 16 : 4);
}

/// A v2 PROXY (command 0x21) header for TCP over IPv4 or IPv6, then tlvs.
std::string v2Header(const std::string& srcIp, std::uint16_t srcPort, const std::string& dstIp,
                     std::uint16_t dstPort, const std::string& tlvs = "") {
  bool v6 = srcIp.find(':') != std::string::npos;
  std::string body =
      rawAddress(srcIp) + rawAddress(dstIp) + bigEndian16(srcPort) + bigEndian16(dstPort) + tlvs;
  return kV2Signature + "\x21" + (v6 ? "\x21" : "\x11") + bigEndian16(body.size()) + body;
}

/// LOCAL command, UNSPEC family, no address: a balancer's health check.
std::string v2Local() {
  return kV2Signature + std::string("\x20\x00\x00\x00", 4);
}

std::string tlv(unsigned char type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + bigEndian16(value.size()) + value;
}

// ---- Log helpers.

std::vector<std::string> bodies(ServerProcess& server) {
  std::vector<std::string> out;
  for (const auto& l : server.process().lines())
    out.push_back(withoutPrefix(l));
  return out;
}

std::size_t countStartingWith(const std::vector<std::string>& lines, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& l : lines)
    n += l.rfind(prefix, 0) == 0;
  return n;
}

std::string connectedPrefix(const PeerAddress& p) {
  return "[tcp server] client connected: ip=" + p.ip + ", port=" + std::to_string(p.port);
}

std::string disconnectedPrefix(const PeerAddress& p) {
  return "[tcp server] client disconnected: ip=" + p.ip + ", port=" + std::to_string(p.port) + " (";
}

/// Waits until one of the servers has logged a line containing text.
bool waitForTextInAny(const std::vector<ServerProcess*>& servers, const std::string& text,
                      std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (auto* s : servers) {
      if (!s->process().linesContaining(text).empty()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Blocks until the first server logs something (or 50 ms): a wait on an
    // event with a deadline, not a sleep.
    servers.front()->process().waitForText(text, 50ms);
  }
}

/// The warning for a connection refused before it became a client: level
/// warning, reason=<reason>, naming the ip and port.
std::optional<std::string> waitForRefusal(ServerProcess& server, const std::string& reason,
                                          const std::string& ip, std::uint16_t port) {
  std::string p = std::to_string(port);
  return server.process().waitForLine([&](const std::string& l) {
    std::string level;
    std::string body = withoutPrefix(l, &level);
    return level == "warning" && body.find("reason=" + reason) != std::string::npos &&
           body.find(ip) != std::string::npos &&
           (body.find("port=" + p) != std::string::npos || body.find(":" + p) != std::string::npos);
  });
}

// ---- A real HAProxy in front of two servers.

struct BalancerCase {
  const char* name;
  const char* serverMode;  // --proxy-protocol of both servers
  const char* s1Keyword;   // HAProxy server keyword: send-proxy or send-proxy-v2
  const char* s2Keyword;
  const char* frontendHost;  // where HAProxy listens and the clients come from
  std::vector<std::string> clientSources;
};

void PrintTo(const BalancerCase& c, std::ostream* os) {
  *os << c.name;
}

class HaproxyBalancer : public ::testing::TestWithParam<BalancerCase> {
 protected:
  void SetUp() override {
    binary_ = haproxyBinary();
    if (!binary_) GTEST_SKIP() << "haproxy is not installed (scripts/setup.sh installs it)";
    if (std::string(GetParam().frontendHost) == "::1" && !hasIpv6Loopback()) {
      GTEST_SKIP() << "no IPv6 loopback (::1) on this machine: IPv6 frontend not tested";
    }
  }
  std::optional<std::string> binary_;
};

TEST_P(HaproxyBalancer, EveryFrameIsLoggedOnceUnderTheClientsOwnAddress) {
  const BalancerCase& c = GetParam();
  constexpr int kFrames = 25;
  ServerProcess s1({"--proxy-protocol", c.serverMode});
  ServerProcess s2({"--proxy-protocol", c.serverMode});
  std::vector<ServerProcess*> servers{&s1, &s2};

  std::string host = c.frontendHost;
  std::uint16_t port = unusedLoopbackPort(host);
  std::string bind =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  std::string checks = " check check-send-proxy inter 200ms";
  std::string config = tcpBalancerConfig(
      bind, {"s1 127.0.0.1:" + std::to_string(s1.port()) + " " + c.s1Keyword + checks,
             "s2 127.0.0.1:" + std::to_string(s2.port()) + " " + c.s2Keyword + checks});
  HaproxyProcess haproxy(*binary_, config, port);

  std::vector<TestSocket> clients;
  for (const auto& source : c.clientSources)
    clients.push_back(TestSocket::connectFrom(source, host, port));
  for (int k = 0; k < kFrames; ++k) {
    for (std::size_t i = 0; i < clients.size(); ++i)
      clients[i].sendAll(frameBytes("client " + std::to_string(i) + " frame " + std::to_string(k)));
  }
  std::vector<PeerAddress> locals;
  for (auto& client : clients) {
    locals.push_back(client.local());
    client.close();
  }
  for (const PeerAddress& local : locals) {
    ASSERT_TRUE(waitForTextInAny(servers, disconnectedPrefix(local)))
        << "no disconnected line for " << local.hostPort() << "\nserver 1:\n"
        << s1.process().output() << "\nserver 2:\n"
        << s2.process().output() << "\nhaproxy:\n"
        << haproxy.process().output();
  }

  std::set<std::string> clientPeers;
  std::vector<int> clientsPerServer(servers.size(), 0);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const PeerAddress& me = locals[i];
    clientPeers.insert(me.hostPort());
    std::vector<std::string> expected;
    for (int k = 0; k < kFrames; ++k)
      expected.push_back("client " + std::to_string(i) + " frame " + std::to_string(k));
    std::regex connected(
        std::regex_replace(connectedPrefix(me), std::regex(R"([.\[\]])"), R"(\$&)") +
        R"( \(via=127\.0\.0\.1:\d+\)$)");
    int holders = 0;
    for (std::size_t s = 0; s < servers.size(); ++s) {
      auto lines = bodies(*servers[s]);
      auto messages = messagesByPeer(servers[s]->process().lines())[me.hostPort()];
      if (countStartingWith(lines, connectedPrefix(me)) == 0) {
        EXPECT_TRUE(messages.empty()) << me.hostPort() << " logged on a server it never reached";
        continue;
      }
      ++holders;
      ++clientsPerServer[s];
      EXPECT_EQ(countStartingWith(lines, connectedPrefix(me)), 1u)
          << servers[s]->process().output();
      for (const auto& l : lines) {
        if (l.rfind(connectedPrefix(me), 0) == 0) {
          EXPECT_TRUE(std::regex_search(l, connected)) << l;
        }
        if (l.rfind(disconnectedPrefix(me), 0) == 0) {
          EXPECT_NE(l.find("(reason=peer closed, frames=" + std::to_string(kFrames) + ", "),
                    std::string::npos)
              << l;
        }
      }
      EXPECT_EQ(messages, expected) << "frames of " << me.hostPort() << " on server " << s + 1;
    }
    EXPECT_EQ(holders, 1) << me.hostPort() << " connected on " << holders << " servers";
  }

  // Health checks (and nothing else) may connect with HAProxy's own address,
  // but they send no frames: every message line belongs to a client.
  for (auto* s : servers) {
    for (const auto& [peer, messages] : messagesByPeer(s->process().lines()))
      EXPECT_TRUE(clientPeers.count(peer)) << "messages from unexpected peer " << peer;
    EXPECT_TRUE(s->process().linesContaining("reason=bad proxy header").empty())
        << "HAProxy's header (or health check) refused:\n"
        << s->process().output();
  }
  EXPECT_TRUE(haproxy.process().linesContaining(" is DOWN").empty()) << haproxy.process().output();
  EXPECT_GT(clientsPerServer[0], 0) << "roundrobin sent no client to server 1";
  EXPECT_GT(clientsPerServer[1], 0) << "roundrobin sent no client to server 2";
}

const std::vector<std::string> kIpv4Sources = {"127.0.0.2", "127.0.0.3", "127.0.0.4",
                                               "127.0.0.5", "127.0.0.6", "127.0.0.7"};

INSTANTIATE_TEST_SUITE_P(Haproxy, HaproxyBalancer,
                         ::testing::Values(BalancerCase{"SendProxyV2", "v2", "send-proxy-v2",
                                                        "send-proxy-v2", "127.0.0.1", kIpv4Sources},
                                           BalancerCase{"SendProxyV1", "v1", "send-proxy",
                                                        "send-proxy", "127.0.0.1", kIpv4Sources},
                                           BalancerCase{"AnyModeMixedV1AndV2", "any", "send-proxy",
                                                        "send-proxy-v2", "127.0.0.1", kIpv4Sources},
                                           BalancerCase{"Ipv6FrontendSendProxyV2",
                                                        "v2",
                                                        "send-proxy-v2",
                                                        "send-proxy-v2",
                                                        "::1",
                                                        {"::1", "::1", "::1", "::1"}},
                                           BalancerCase{"Ipv6FrontendSendProxyV1",
                                                        "v1",
                                                        "send-proxy",
                                                        "send-proxy",
                                                        "::1",
                                                        {"::1", "::1", "::1", "::1"}}),
                         [](const ::testing::TestParamInfo<BalancerCase>& p) {
                           return p.param.name;
                         });

// ---- Headers by hand, straight to a server.

struct HeaderCase {
  const char* name;
  const char* serverMode;
  std::string header;
  const char* ip;  // the address the header carries; nullptr: the socket's own
  std::uint16_t port;
  bool byteAtATime = false;
};

void PrintTo(const HeaderCase& c, std::ostream* os) {
  *os << c.name;
}

class ProxyHeaderThenFrames : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(ProxyHeaderThenFrames, FramesAreLoggedUnderTheHeadersAddress) {
  const HeaderCase& c = GetParam();
  ServerProcess server({"--proxy-protocol", c.serverMode});
  const std::vector<std::string> frames = {"first", "second", "안녕하세요"};
  std::string batch;
  for (const auto& f : frames)
    batch += frameBytes(f);
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  PeerAddress socketPeer{"127.0.0.1", s.localPort(), false};
  if (c.byteAtATime) {
    for (char ch : c.header)
      s.sendAll(std::string(1, ch));
    s.sendAll(batch);
  } else {
    s.sendAll(c.header + batch);  // header and frames in one write
  }
  s.close();

  PeerAddress peer =
      c.ip ? PeerAddress{c.ip, c.port, std::string(c.ip).find(':') != std::string::npos}
           : socketPeer;
  ASSERT_TRUE(server.process().waitForText(disconnectedPrefix(peer))) << server.process().output();
  auto lines = bodies(server);
  ASSERT_EQ(countStartingWith(lines, connectedPrefix(peer)), 1u) << server.process().output();
  if (c.ip) {
    EXPECT_EQ(countStartingWith(lines, connectedPrefix(peer) + " (via=127.0.0.1:" +
                                           std::to_string(socketPeer.port) + ")"),
              1u)
        << server.process().output();
  }
  EXPECT_EQ(messagesByPeer(server.process().lines())[peer.hostPort()], frames)
      << server.process().output();
  for (const auto& l : lines) {
    if (l.rfind(disconnectedPrefix(peer), 0) == 0) {
      EXPECT_NE(l.find("(reason=peer closed, frames=3, "), std::string::npos) << l;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Direct, ProxyHeaderThenFrames,
    ::testing::Values(
        HeaderCase{"V1Tcp4", "v1", "PROXY TCP4 203.0.113.7 127.0.0.1 41000 9000\r\n", "203.0.113.7",
                   41000},
        HeaderCase{"V1Tcp6", "v1", "PROXY TCP6 2001:db8::7 ::1 41001 9000\r\n", "2001:db8::7",
                   41001},
        HeaderCase{"V1Unknown", "v1", "PROXY UNKNOWN\r\n", nullptr, 0},
        HeaderCase{"V1ByteAtATime", "v1", "PROXY TCP4 203.0.113.8 127.0.0.1 41002 9000\r\n",
                   "203.0.113.8", 41002, true},
        HeaderCase{"V2Tcp4", "v2", v2Header("198.51.100.9", 42000, "127.0.0.1", 9000),
                   "198.51.100.9", 42000},
        HeaderCase{"V2Tcp6", "v2", v2Header("2001:db8::9", 42001, "::1", 9000), "2001:db8::9",
                   42001},
        HeaderCase{"V2WithTlvsOfAnyLegalLength", "v2",
                   v2Header("198.51.100.10", 42002, "127.0.0.1", 9000,
                            tlv(0x01, "h2") + tlv(0x04, std::string(3000, '\0'))),
                   "198.51.100.10", 42002},
        HeaderCase{"V2Local", "v2", v2Local(), nullptr, 0},
        HeaderCase{"V2ByteAtATime", "v2", v2Header("198.51.100.11", 42003, "127.0.0.1", 9000),
                   "198.51.100.11", 42003, true},
        HeaderCase{"AnyModeV1", "any", "PROXY TCP4 203.0.113.9 127.0.0.1 41003 9000\r\n",
                   "203.0.113.9", 41003},
        HeaderCase{"AnyModeV2", "any", v2Header("198.51.100.12", 42004, "127.0.0.1", 9000),
                   "198.51.100.12", 42004}),
    [](const ::testing::TestParamInfo<HeaderCase>& p) { return p.param.name; });

// ---- Refusals: no connected or disconnected line, one warning with the reason.

void expectNoClientLines(ServerProcess& server, std::uint16_t port) {
  std::string p = "port=" + std::to_string(port);
  for (const auto& l : bodies(server)) {
    if (l.find(p) == std::string::npos) continue;
    EXPECT_EQ(l.find("client connected"), std::string::npos) << l;
    EXPECT_EQ(l.find("client disconnected"), std::string::npos) << l;
  }
  EXPECT_TRUE(messagesByPeer(server.process().lines()).empty()) << server.process().output();
}

TEST(ProxyProtocolRefusal, NoHeaderIsClosedAfterTheProxyTimeout) {
  ServerProcess server({"--proxy-protocol", "v2", "--proxy-timeout", "1"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.waitClosedByPeer(10s)) << server.process().output();
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 900ms);
  EXPECT_LE(waited, 5s);
  auto warning = waitForRefusal(server, "proxy timeout", "127.0.0.1", s.localPort());
  EXPECT_TRUE(warning) << server.process().output();
  expectNoClientLines(server, s.localPort());
  ASSERT_EQ(server.stop(), 0);
  EXPECT_EQ(server.process().linesContaining("refused=1,").size(), 1u) << server.process().output();
}

class ProxyGarbage : public ::testing::TestWithParam<const char*> {};

TEST_P(ProxyGarbage, HttpRequestIsABadProxyHeaderClosedAtOnce) {
  ServerProcess server({"--proxy-protocol", GetParam(), "--proxy-timeout", "30"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendAll("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(s.waitClosedByPeer(5s)) << "not closed at once; output:\n"
                                      << server.process().output();
  EXPECT_TRUE(waitForRefusal(server, "bad proxy header", "127.0.0.1", s.localPort()))
      << server.process().output();
  expectNoClientLines(server, s.localPort());
}

INSTANTIATE_TEST_SUITE_P(Modes, ProxyGarbage, ::testing::Values("v1", "v2", "any"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.param);
                         });

TEST(ProxyProtocolRefusal, AHeaderOfTheOtherVersionIsABadProxyHeader) {
  ServerProcess v1Server({"--proxy-protocol", "v1", "--proxy-timeout", "30"});
  ServerProcess v2Server({"--proxy-protocol", "v2", "--proxy-timeout", "30"});
  TestSocket a = TestSocket::connect("127.0.0.1", v1Server.port());
  a.sendAll(v2Header("198.51.100.1", 40000, "127.0.0.1", 9000) + frameBytes("never"));
  TestSocket b = TestSocket::connect("127.0.0.1", v2Server.port());
  b.sendAll("PROXY TCP4 203.0.113.1 127.0.0.1 40000 9000\r\n" + frameBytes("never"));
  EXPECT_TRUE(a.waitClosedByPeer(5s));
  EXPECT_TRUE(b.waitClosedByPeer(5s));
  EXPECT_TRUE(waitForRefusal(v1Server, "bad proxy header", "127.0.0.1", a.localPort()))
      << v1Server.process().output();
  EXPECT_TRUE(waitForRefusal(v2Server, "bad proxy header", "127.0.0.1", b.localPort()))
      << v2Server.process().output();
  expectNoClientLines(v1Server, a.localPort());
  expectNoClientLines(v2Server, b.localPort());
}

TEST(ProxyProtocolRefusal, AConnectionFromOutsideTheTrustedProxiesIsRefused) {
  ServerProcess server({"--proxy-protocol", "v2", "--trusted-proxies", "10.0.0.0/8"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  try {
    s.sendAll(v2Header("198.51.100.2", 40000, "127.0.0.1", 9000) + frameBytes("never"));
  } catch (const std::runtime_error&) {
    // Already closed by the server: that is the point.
  }
  ASSERT_TRUE(s.waitClosedByPeer(5s)) << server.process().output();
  EXPECT_TRUE(waitForRefusal(server, "untrusted proxy", "127.0.0.1", s.localPort()))
      << server.process().output();
  expectNoClientLines(server, s.localPort());
  EXPECT_TRUE(server.process().linesContaining("198.51.100.2").empty())
      << server.process().output();
}

TEST(ProxyProtocolRefusal, TrustedProxiesAreMatchedByCidr) {
  ServerProcess server({"--proxy-protocol", "v1", "--trusted-proxies", "10.0.0.0/8,127.0.0.2/32"});
  TestSocket trusted = TestSocket::connectFrom("127.0.0.2", "127.0.0.1", server.port());
  TestSocket untrusted = TestSocket::connectFrom("127.0.0.3", "127.0.0.1", server.port());
  std::string bytes = "PROXY TCP4 203.0.113.5 127.0.0.1 40005 9000\r\n" + frameBytes("trusted");
  trusted.sendAll(bytes);
  try {
    untrusted.sendAll(bytes);
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(untrusted.waitClosedByPeer(5s));
  EXPECT_TRUE(waitForRefusal(server, "untrusted proxy", "127.0.0.3", untrusted.local().port))
      << server.process().output();
  EXPECT_TRUE(server.process().waitForText("[tcp/203.0.113.5:40005] trusted"))
      << server.process().output();
  EXPECT_EQ(server.process().linesContaining("] trusted").size(), 1u) << server.process().output();
}

}  // namespace
}  // namespace uvframe::test
