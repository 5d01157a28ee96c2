// The real server with each --framing of SPEC "Framing options": frames sent
// coalesced in one write and one byte at a time are each logged once, in
// order; a header that can never be valid closes only that peer
// (reason=bad header) with one warning; a length above --max-frame is "frame
// too large" with the field as received; a frame larger than the read
// buffer is skimmed and what follows it is read correctly; --echo sends the
// frame back in the same framing.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "framing_bytes.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

struct FramingCase {
  std::string name;
  std::vector<std::string> args;  ///< server options
  FramingOptions options;         ///< the same, for the test's own encoder
};

std::vector<FramingCase> cases() {
  return {
      {"Length2Big",
       {"--length-bytes", "2", "--byte-order", "big"},
       lengthFraming(2, ByteOrder::kBig)},
      {"Length1", {"--length-bytes", "1"}, lengthFraming(1, ByteOrder::kLittle)},
      {"Length3Little", {"--length-bytes", "3"}, lengthFraming(3, ByteOrder::kLittle)},
      {"Length8Big",
       {"--length-bytes", "8", "--byte-order", "big"},
       lengthFraming(8, ByteOrder::kBig)},
      // A Zabbix-like header: a 5-byte magic, then an 8-byte little-endian length.
      {"MagicThenLength8",
       {"--length-offset", "5", "--length-bytes", "8"},
       lengthFraming(8, ByteOrder::kLittle, 5)},
      // A length that counts itself.
      {"LengthCountsItself",
       {"--length-adjust", "-4", "--byte-order", "big"},
       lengthFraming(4, ByteOrder::kBig, 0, -4)},
      {"OctetCounting", {"--framing", "octet-counting"}, framingOf(FramingKind::kOctetCounting)},
      {"Varint", {"--framing", "varint"}, framingOf(FramingKind::kVarint)},
  };
}

std::vector<std::string> withArgs(std::vector<std::string> framing, std::vector<std::string> more) {
  framing.insert(framing.end(), more.begin(), more.end());
  return framing;
}

void PrintTo(const FramingCase& c, std::ostream* os) {
  *os << c.name;
}

class ServerFraming : public ::testing::TestWithParam<FramingCase> {};

TEST_P(ServerFraming, CoalescedAndByteAtATimeFramesAreLoggedOnceInOrder) {
  const FramingCase& c = GetParam();
  ServerProcess server(c.args);
  TestSocket bulk = TestSocket::connect("127.0.0.1", server.port());
  TestSocket trickle = TestSocket::connect("127.0.0.1", server.port());
  std::vector<std::string> bulkSent;
  std::string bulkBytes;
  for (int i = 0; i < 200; ++i) {
    // Sizes from 1 to 250 (a 1-byte field holds 255): varints and octet
    // counts of one and several bytes.
    std::string payload = "bulk-" + std::to_string(i) + "-" + std::string(i + 1, 'b');
    payload.resize(1 + (i * 37) % 250, 'p');
    bulkSent.push_back(payload);
    bulkBytes += framedBytes(c.options, payload);
  }
  bulk.sendAll(bulkBytes);
  std::vector<std::string> trickleSent = {"first", "second frame", std::string(200, 't')};
  for (const auto& m : trickleSent) {
    for (char ch : framedBytes(c.options, m))
      trickle.sendAll(std::string_view(&ch, 1));
  }
  trickle.sendAll(framedBytes(c.options, "last"));
  trickleSent.push_back("last");
  ASSERT_TRUE(server.process().waitForText("] last")) << server.process().output();
  ASSERT_TRUE(server.process().waitForText("] " + bulkSent.back())) << server.process().output();
  EXPECT_EQ(server.messagesFrom(bulk.localHostPort()), bulkSent);
  EXPECT_EQ(server.messagesFrom(trickle.localHostPort()), trickleSent);
  EXPECT_EQ(server.process().linesContaining("[warning]").size(), 0u) << server.process().output();
}

TEST_P(ServerFraming, EchoSendsTheFrameBackInTheSameFraming) {
  const FramingCase& c = GetParam();
  ServerProcess server(withArgs(c.args, {"--echo"}));
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  for (const std::string& m : {std::string("ping"), std::string(180, 'e')}) {
    std::string frame = framedBytes(c.options, m);
    s.sendAll(frame);
    auto back = s.recvExact(frame.size());
    ASSERT_TRUE(back) << server.process().output();
    // The offset bytes come back as sent (zeros here), the rest exactly.
    EXPECT_EQ(*back, frame);
  }
}

TEST_P(ServerFraming, FrameLargerThanTheReadBufferIsSkimmedAndTheNextOneRead) {
  const FramingCase& c = GetParam();
  if (framingHeaderBytes(c.options, 70000) == 0) GTEST_SKIP() << "a field too narrow for 70000";
  ServerProcess server(withArgs(c.args, {"--max-logged-bytes", "8", "--read-buffer", "16384"}));
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendAll(framedBytes(c.options, std::string(70000, 'k')) + framedBytes(c.options, "after"));
  ASSERT_TRUE(server.process().waitForText("] after")) << server.process().output();
  auto got = server.messagesFrom(s.localHostPort());
  ASSERT_EQ(got.size(), 2u) << server.process().output();
  EXPECT_EQ(got[0], "kkkkkkkk \xE2\x80\xA6(+69992 bytes)");
  EXPECT_EQ(got[1], "after");
}

INSTANTIATE_TEST_SUITE_P(EachFraming, ServerFraming, ::testing::ValuesIn(cases()),
                         [](const auto& param) { return param.param.name; });

struct BadHeaderCase {
  std::string name;
  std::vector<std::string> args;
  std::string bytes;   ///< what the bad peer sends
  std::string reason;  ///< in the warning
};

void PrintTo(const BadHeaderCase& c, std::ostream* os) {
  *os << c.name;
}

class ServerFramingBadHeader : public ::testing::TestWithParam<BadHeaderCase> {};

TEST_P(ServerFramingBadHeader, ClosesOnlyThatPeerWithOneWarning) {
  const BadHeaderCase& c = GetParam();
  ServerProcess server(c.args);
  TestSocket good = TestSocket::connect("127.0.0.1", server.port());
  TestSocket bad = TestSocket::connect("127.0.0.1", server.port());
  bad.sendAll(c.bytes);
  EXPECT_TRUE(bad.waitClosedByPeer()) << server.process().output();
  const std::string port = "port=" + std::to_string(bad.localPort());
  auto closed = server.process().waitForText(port + " (reason=bad header, frames=0");
  ASSERT_TRUE(closed) << server.process().output();
  auto warnings = server.process().linesContaining("bad frame header");
  ASSERT_EQ(warnings.size(), 1u) << server.process().output();
  EXPECT_NE(warnings[0].find("[warning]"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(port + ", "), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(c.reason), std::string::npos) << warnings[0];
  // The good peer is still served.
  FramingOptions o;
  if (c.args[1] == "octet-counting") o.kind = FramingKind::kOctetCounting;
  if (c.args[1] == "varint") o.kind = FramingKind::kVarint;
  if (c.args[0] == "--length-adjust") o.lengthAdjust = -4;
  good.sendAll(framedBytes(o, "still here"));
  ASSERT_TRUE(server.process().waitForText("] still here")) << server.process().output();
}

INSTANTIATE_TEST_SUITE_P(EachFraming, ServerFramingBadHeader,
                         ::testing::Values(BadHeaderCase{"OctetCountNonDigit",
                                                         {"--framing", "octet-counting"},
                                                         "12a hello",
                                                         "not followed by a space"},
                                           BadHeaderCase{"OctetCountLeadingZero",
                                                         {"--framing", "octet-counting"},
                                                         "05 hello",
                                                         "begins with 0"},
                                           BadHeaderCase{"OctetCountElevenDigits",
                                                         {"--framing", "octet-counting",
                                                          "--max-frame", "4294967295"},
                                                         "12345678901 x",
                                                         "longer than 10 digits"},
                                           BadHeaderCase{"VarintTooLong",
                                                         {"--framing", "varint"},
                                                         std::string(11, '\xff'),
                                                         "varint longer than 10 bytes"},
                                           BadHeaderCase{"AdjustedBelowZero",
                                                         {"--length-adjust", "-4"},
                                                         std::string("\x02\x00\x00\x00", 4),
                                                         "adjusted length below zero"}),
                         [](const auto& param) { return param.param.name; });

TEST(ServerFramingLimits, OctetCountAboveMaxFrameIsTooLargeWithTheCountAsSent) {
  ServerProcess server({"--framing", "octet-counting", "--max-frame", "1000"});
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  s.sendAll("1000 " + std::string(1000, 'a'));  // exactly the limit: fine
  s.sendAll("99999 abc");
  EXPECT_TRUE(s.waitClosedByPeer()) << server.process().output();
  auto warn = server.process().waitForText("frame too large");
  ASSERT_TRUE(warn) << server.process().output();
  EXPECT_NE(warn->find("length=99999 (max-frame=1000"), std::string::npos) << *warn;
  EXPECT_TRUE(server.process().waitForText("(reason=frame too large, frames=1"));
}

TEST(ServerFramingLimits, ListeningLineNamesTheFraming) {
  ServerProcess server({"--framing", "octet-counting"});
  EXPECT_TRUE(server.process().waitForText("framing=octet-counting, max-frame="))
      << server.process().output();
}

TEST(ServerFramingLimits, LengthOptionsWithAnotherFramingAreRefused) {
  ChildProcess p(
      {programPath("uvframe-server"), "--port", "0", "--framing", "varint", "--length-bytes", "2"});
  auto code = p.waitExit();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(p.output().find("--length-bytes applies only to --framing length"), std::string::npos)
      << p.output();
}

}  // namespace
}  // namespace uvframe::test
