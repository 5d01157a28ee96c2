// uvframe-client and uvframe-loadgen with --framing and its options, in every
// framing of framing_cases.h: the bytes each puts on the wire (recorded by a
// raw listener) decoded by FramingDecoder back into the payloads sent, the
// client's "sent H+N" lines with each frame's real header size, --echo read
// back in the same framing (from uvframe-test-echo-peer, which returns every
// byte), and the refusals: bad combinations (exit 2) and payloads a framing
// cannot announce.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client_test_helpers.h"
#include "framing_bytes.h"
#include "framing_cases.h"
#include "payload_pattern.h"

namespace uvframe::test {
namespace {

std::vector<std::string> program(const std::string& name, std::uint16_t port,
                                 const std::vector<std::string>& framingArgs,
                                 std::vector<std::string> args) {
  args.insert(args.begin(), framingArgs.begin(), framingArgs.end());
  args.insert(args.begin(), {programPath(name), "--port", std::to_string(port)});
  return args;
}

struct EchoPeer {
  ChildProcess process{{programPath("uvframe-test-echo-peer")}};
  std::uint16_t port = 0;

  EchoPeer() {
    auto line = process.waitForText("echo peer listening on 127.0.0.1:");
    if (line) port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  }
};

class FramingCli : public ::testing::TestWithParam<FramingCase> {
 protected:
  const std::vector<std::string>& args() const { return GetParam().args; }
  FramingOptions framing() const { return framingOptionsOf(GetParam().args); }

  /// The client's messages: every one this framing can announce.
  std::vector<std::string> messages() const {
    std::vector<std::string> m;
    for (std::string text : {std::string("hello"), std::string("안녕하세요"), std::string(),
                             std::string(300, 'x'), std::string(70000, 'y')}) {
      if (announces(framing(), text.size())) m.push_back(text);
    }
    return m;
  }
  /// The load generator's --size: a range the framing announces whole.
  std::string sizeRange() const { return announces(framing(), 300) ? "20-300" : "20-200"; }
};

TEST_P(FramingCli, ClientWritesFramesThatDecodeIntoTheMessages) {
  RawListener listener;
  std::vector<std::string> sent = messages();
  ChildProcess child(program("uvframe-client", listener.port(), args(), sent));
  auto bytes = listener.acceptAndReadAll();
  RunResult r = finishProgram(child);
  ASSERT_TRUE(bytes) << r.output;
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(decodeAll(framing(), *bytes), sent);
  std::size_t at = 0;
  for (const std::string& m : sent) {
    std::string line = "[tcp client] sent " +
                       std::to_string(framingHeaderBytes(framing(), m.size())) + "+" +
                       std::to_string(m.size()) + " bytes";
    at = r.output.find(line, at);
    ASSERT_NE(at, std::string::npos) << line << " in\n" << r.output;
  }
}

TEST_P(FramingCli, ClientEchoIsReadInTheSameFraming) {
  EchoPeer peer;
  ASSERT_NE(peer.port, 0) << peer.process.output();
  RunResult r =
      runProgram(program("uvframe-client", peer.port, args(), {"--echo", "ping", "안녕"}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto h = [&](std::size_t n) { return std::to_string(framingHeaderBytes(framing(), n)); };
  EXPECT_NE(r.output.find("[tcp client] echo " + h(4) + "+4 bytes: ping"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo " + h(6) + "+6 bytes: 안녕"), std::string::npos)
      << r.output;
}

TEST_P(FramingCli, LoadgenWritesFramesThatDecodeIntoItsPayloads) {
  constexpr std::size_t kConnections = 3;
  constexpr std::uint64_t kFrames = 40;
  PayloadPattern pattern(1000);
  // One size (runs copied and patched) and drawn sizes (frame by frame).
  for (std::string size : {std::string("64"), sizeRange()}) {
    SCOPED_TRACE("--size " + size);
    RawListener listener;
    ChildProcess run(program(
        "uvframe-loadgen", listener.port(), args(),
        {"--connections", std::to_string(kConnections), "--frames-per-connection",
         std::to_string(kFrames), "--size", size, "--threads", "2", "--progress-interval", "0"}));
    auto streams = listener.acceptManyAndReadAll(kConnections, 30s);
    RunResult r = finishProgram(run);
    ASSERT_TRUE(streams) << r.output;
    ASSERT_EQ(r.exitCode, 0) << r.output;
    for (const std::string& bytes : *streams) {
      std::vector<std::string> payloads = decodeAll(framing(), bytes);
      ASSERT_EQ(payloads.size(), kFrames);
      // "conn=<id> seq=<n> ...": the connection's id, then every frame in
      // order, each exactly PayloadPattern's payload of its size.
      std::uint64_t conn = std::stoull(payloads[0].substr(5));
      for (std::uint64_t seq = 0; seq < kFrames; ++seq) {
        const std::string& p = payloads[seq];
        ASSERT_TRUE(pattern.matches(std::as_bytes(std::span(p.data(), p.size())), conn, seq,
                                    static_cast<std::uint32_t>(p.size())))
            << "conn " << conn << " frame " << seq << ": " << p.substr(0, 40);
      }
    }
  }
}

TEST_P(FramingCli, LoadgenEchoIsCheckedInTheSameFraming) {
  EchoPeer peer;
  ASSERT_NE(peer.port, 0) << peer.process.output();
  TempDir dir;
  std::string json = dir.file("run.json");
  RunResult r = runProgram(
      program("uvframe-loadgen", peer.port, args(),
              {"--connections", "3", "--frames-per-connection", "60", "--echo", "--pipeline", "4",
               "--size", sizeRange(), "--json", json, "--progress-interval", "0"}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  nlohmann::json j = readJson(json);
  EXPECT_EQ(j["frames"]["sent"], 180);
  EXPECT_EQ(j["frames"]["echoed"], 180);
  EXPECT_EQ(j["bytes"]["sent"], j["bytes"]["echoed"]);
  EXPECT_EQ(j["errors_total"], 0) << j["errors"].dump();
  EXPECT_EQ(j["options"]["framing"], std::string(toString(framing().kind)));
}

std::string caseName(const ::testing::TestParamInfo<FramingCase>& info) {
  std::string name = info.param.name;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Framings, FramingCli, ::testing::ValuesIn(framingCases()), caseName);

TEST(FramingCliErrors, BadCombinationsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"--framing", "netstring"},
      {"--length-bytes", "5"},
      {"--framing", "varint", "--length-bytes", "2"},
      {"--framing", "octet-counting", "--length-offset", "4"},
      {"--length-bytes", "1", "--length-adjust", "-300"},
  };
  for (const std::string name : {"uvframe-client", "uvframe-loadgen"}) {
    for (const auto& args : bad) {
      std::vector<std::string> more;
      if (name == "uvframe-loadgen") more = {"--connections", "1", "--duration", "1"};
      RunResult r = runProgram(program(name, unusedPort(), args, more));
      EXPECT_EQ(r.exitCode, 2) << name << " " << args[1] << ": " << r.output;
      ASSERT_EQ(r.lines.size(), 1u) << r.output;
      EXPECT_EQ(r.lines[0].rfind(name + ": error: ", 0), 0u) << r.lines[0];
    }
  }
}

TEST(FramingCliErrors, LoadgenRefusesSizesTheFramingCannotAnnounce) {
  for (const auto& [args, size] :
       {std::pair<std::vector<std::string>, std::string>{{"--framing", "octet-counting"}, "0-64"},
        {{"--length-bytes", "1"}, "300"},
        {{"--length-bytes", "1", "--length-adjust", "-4"}, "252"}}) {
    RunResult r = runProgram(program("uvframe-loadgen", unusedPort(), args,
                                     {"--connections", "1", "--duration", "1", "--size", size}));
    EXPECT_EQ(r.exitCode, 2) << r.output;
    ASSERT_EQ(r.lines.size(), 1u) << r.output;
    EXPECT_NE(r.lines[0].find("--size: a payload of"), std::string::npos) << r.lines[0];
  }
}

TEST(FramingCliErrors, ClientRefusesMessagesTheFramingCannotAnnounceBeforeSending) {
  RawListener listener;
  RunResult octet = runProgram(
      program("uvframe-client", listener.port(), {"--framing", "octet-counting"}, {"ok", ""}));
  EXPECT_EQ(octet.exitCode, 1) << octet.output;
  EXPECT_NE(octet.output.find("message 2 (0 bytes) cannot be sent: --framing octet-counting"),
            std::string::npos)
      << octet.output;
  RunResult narrow = runProgram(
      program("uvframe-client", listener.port(), {"--length-bytes", "1"}, {std::string(256, 'x')}));
  EXPECT_EQ(narrow.exitCode, 1) << narrow.output;
  EXPECT_NE(narrow.output.find("message 1 (256 bytes) cannot be sent: a 1-byte length field"),
            std::string::npos)
      << narrow.output;
  EXPECT_FALSE(listener.acceptAndReadAll(100ms)) << "nothing may reach the server";
}

TEST(FramingCliErrors, ClientStdinLineTheFramingCannotAnnounceStopsThere) {
  RawListener listener;
  ChildProcess child(program("uvframe-client", listener.port(), {"--framing", "octet"}, {}),
                     ChildProcess::Options{.maxOpenFiles = 0, .pipeStdin = true});
  child.writeStdin("first\n\nthird\n");
  child.closeStdin();
  auto bytes = listener.acceptAndReadAll();
  RunResult r = finishProgram(child);
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("message 2 (0 bytes) cannot be sent"), std::string::npos) << r.output;
  ASSERT_TRUE(bytes) << r.output;
  EXPECT_EQ(*bytes, "5 first") << "the lines before it were sent";
}

TEST(FramingCliErrors, HelpExplainsTheFramingOptions) {
  for (const std::string name : {"uvframe-client", "uvframe-loadgen"}) {
    RunResult help = runProgram({programPath(name), "--help"});
    EXPECT_EQ(help.exitCode, 0);
    for (const char* option : {"--framing", "--length-bytes", "--length-offset", "--length-adjust",
                               "octet-counting", "varint"}) {
      EXPECT_NE(help.output.find(option), std::string::npos) << name << ": " << option;
    }
  }
}

}  // namespace
}  // namespace uvframe::test
