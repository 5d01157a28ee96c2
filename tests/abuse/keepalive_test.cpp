// TCP keepalive on every accepted connection (SPEC "What the server promises
// under faults and abuse": dead peers are found; --tcp-keepalive SECONDS,
// default 60, 0 = off). A peer that vanishes without a FIN or RST (power
// loss, a NAT that forgot the flow) would otherwise hold its connection, its
// descriptor and any partial frame forever when no --idle-timeout is set.
//
// Checked from outside, as an operator would: the kernel's own view of the
// server's end of the connection in /proc/net/tcp, whose "tr:tm->when" field
// says which timer runs on the socket (2: keepalive, for an established
// socket) and when it fires, in clock ticks. Right after the accept the
// keepalive timer fires one idle time after it was armed, so its remaining
// time tells the idle time the server chose.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

/// The timer fields of one socket's line in /proc/net/tcp.
struct SocketTimer {
  int active = 0;         ///< 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe
  double remainingS = 0;  ///< until it fires
};

// The timer of the established socket localPort -> remotePort on 127.0.0.1,
// or nullopt when /proc/net/tcp has no such socket.
std::optional<SocketTimer> timerOf(std::uint16_t localPort, std::uint16_t remotePort) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  auto hexPort = [](const std::string& address) {
    return static_cast<std::uint16_t>(
        std::stoul(address.substr(address.find(':') + 1), nullptr, 16));
  };
  while (std::getline(tcp, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer;
    f >> slot >> local >> remote >> state >> queues >> timer;
    // State 01 is ESTABLISHED.
    if (state != "01" || hexPort(local) != localPort || hexPort(remote) != remotePort) continue;
    SocketTimer t;
    t.active = std::stoi(timer.substr(0, timer.find(':')));
    auto ticks = std::stoul(timer.substr(timer.find(':') + 1), nullptr, 16);
    t.remainingS = static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
    return t;
  }
  return std::nullopt;
}

/// What the test saw for one connection: its keepalive timer and how long
/// after the connect it was read.
struct Observed {
  SocketTimer timer;
  double sinceConnectS = 0;
};

// Connects `count` clients to the server, waits until the server has
// accepted each (its connected line), then reads the timer of the server's
// end of every connection.
std::vector<Observed> observeConnections(ServerProcess& server, int count) {
  std::vector<TestSocket> clients;
  std::vector<Clock::time_point> connectedAt;
  for (int i = 0; i < count; ++i) {
    connectedAt.push_back(Clock::now());
    clients.push_back(TestSocket::connect("127.0.0.1", server.port()));
  }
  std::vector<Observed> out;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    std::string connected =
        "client connected: ip=127.0.0.1, port=" + std::to_string(clients[i].localPort());
    EXPECT_TRUE(server.process().waitForText(connected, 20s)) << server.process().output();
    auto timer = timerOf(server.port(), clients[i].localPort());
    EXPECT_TRUE(timer) << "no established socket for port " << clients[i].localPort();
    if (!timer) continue;
    out.push_back({*timer, std::chrono::duration<double>(Clock::now() - connectedAt[i]).count()});
  }
  return out;
}

// Every connection runs a keepalive timer whose remaining time fits an idle
// time of idleS set at the accept: not more than idleS (plus a tick), not
// less than idleS minus the time since the connect (minus a little slack).
void expectKeepalive(const std::vector<Observed>& seen, double idleS) {
  for (const auto& o : seen) {
    EXPECT_EQ(o.timer.active, 2) << "no keepalive timer on the server's end of a connection";
    EXPECT_LE(o.timer.remainingS, idleS + 0.05);
    EXPECT_GE(o.timer.remainingS, idleS - o.sinceConnectS - 0.5)
        << "read " << o.sinceConnectS << " s after the connect";
  }
}

TEST(AbuseKeepalive, EveryConnectionHasTcpKeepalive) {
  ServerProcess server({"--tcp-keepalive", "7", "--workers", "2"});
  auto seen = observeConnections(server, 8);
  ASSERT_EQ(seen.size(), 8u);
  expectKeepalive(seen, 7.0);
  std::cout << "[ measured ] --tcp-keepalive 7: keepalive timer " << seen.front().timer.remainingS
            << " s after the accept\n";
}

TEST(AbuseKeepalive, KeepaliveDefaultsToSixtySeconds) {
  ServerProcess server({"--workers", "1"});
  auto seen = observeConnections(server, 2);
  ASSERT_EQ(seen.size(), 2u);
  expectKeepalive(seen, 60.0);
}

TEST(AbuseKeepalive, ZeroTurnsKeepaliveOff) {
  ServerProcess server({"--tcp-keepalive", "0", "--workers", "1"});
  auto seen = observeConnections(server, 2);
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& o : seen)
    EXPECT_NE(o.timer.active, 2) << "keepalive timer running although --tcp-keepalive 0";
}

}  // namespace
}  // namespace uvframe::test
