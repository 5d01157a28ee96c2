// A real sender of octet-counted frames: Debian's rsyslogd, run as this
// test's own child (its own config, work directory and free loopback ports),
// takes syslog lines on its TCP input and forwards them with omfwd and
// TCP_Framing="octet-counted" to uvframe-server --framing octet-counting.
// Every message is logged exactly once, its text intact. Skips, saying why,
// when rsyslogd is not installed (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "log_lines.h"
#include "rsyslog_process.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

class RsyslogForwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = rsyslogdBinary();
    if (!binary_) GTEST_SKIP() << "rsyslogd is not installed (scripts/setup.sh installs it)";
  }

  /// Starts rsyslog forwarding to the server's port; returns its input port.
  std::uint16_t startForwarder(const ServerProcess& server) {
    std::uint16_t inputPort = unusedLoopbackPort();
    rsyslog_ = std::make_unique<RsyslogProcess>(
        *binary_, octetCountedForwarderRules(inputPort, server.port()), inputPort);
    return inputPort;
  }

  /// The message lines logged so far (payload texts of every peer, in order).
  static std::vector<std::string> messages(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (auto& [peer, texts] : messagesByPeer(lines))
      out.insert(out.end(), texts.begin(), texts.end());
    return out;
  }

  std::optional<std::string> binary_;
  std::unique_ptr<RsyslogProcess> rsyslog_;
};

TEST_F(RsyslogForwarding, EveryMessageIsLoggedOnceWithItsText) {
  ServerProcess server({"--framing", "octet-counting"});
  std::uint16_t inputPort = startForwarder(server);
  constexpr int kSenders = 4;
  constexpr int kPerSender = 500;
  std::map<std::string, int> expected;
  for (int s = 0; s < kSenders; ++s) {
    TestSocket sender = TestSocket::connect("127.0.0.1", inputPort);
    std::string batch;
    for (int i = 0; i < kPerSender; ++i) {
      // Korean UTF-8 in every tenth message: forwarded and logged as sent.
      std::string text = "sender=" + std::to_string(s) + " seq=" + std::to_string(i) +
                         (i % 10 == 0 ? " 안녕하세요" : " hello");
      ++expected[text];
      batch += "<13>Nov 30 12:00:00 testhost app: " + text + "\n";
    }
    sender.sendAll(batch);
  }
  const std::size_t total = kSenders * kPerSender;
  bool all = server.process().waitUntil(
      [&](const std::vector<std::string>& lines) { return messages(lines).size() >= total; },
      std::chrono::seconds(60));
  ASSERT_TRUE(all) << "logged " << messages(server.process().lines()).size() << " of " << total
                   << "\nrsyslog:\n"
                   << rsyslog_->process().output();
  std::map<std::string, int> logged;
  for (const std::string& m : messages(server.process().lines()))
    ++logged[m];
  EXPECT_EQ(logged, expected);
  EXPECT_TRUE(server.process().linesContaining("[warning]").empty()) << server.process().output();
  // rsyslog's connection announced itself like any client.
  EXPECT_FALSE(server.process().linesContaining("client connected: ip=127.0.0.1").empty());
}

// rsyslog forwards an empty message as "0 " (RFC 6587 has no such header):
// an empty frame, not a reason to drop the forwarder and what it sends next.
TEST_F(RsyslogForwarding, LongAndEmptyMessagesArriveWhole) {
  ServerProcess server({"--framing", "octet-counting", "--max-logged-bytes", "65536"});
  std::uint16_t inputPort = startForwarder(server);
  const std::string text = "long " + std::string(20000, 'z');
  TestSocket sender = TestSocket::connect("127.0.0.1", inputPort);
  sender.sendAll("<13>Nov 30 12:00:00 testhost app: " + text +
                 "\n<13>Nov 30 12:00:00 testhost app:\n<13>Nov 30 12:00:00 testhost app: after\n");
  bool all = server.process().waitUntil(
      [](const std::vector<std::string>& lines) { return messages(lines).size() >= 3; },
      std::chrono::seconds(30));
  ASSERT_TRUE(all) << server.process().output().substr(0, 4000) << "\nrsyslog:\n"
                   << rsyslog_->process().output();
  auto got = messages(server.process().lines());
  EXPECT_EQ(got, (std::vector<std::string>{text, "", "after"}));
  EXPECT_TRUE(server.process().linesContaining("[warning]").empty()) << server.process().output();
}

}  // namespace
}  // namespace uvframe::test
