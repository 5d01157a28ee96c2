// uvframe-client and uvframe-loadgen against the real server, all three run
// with the same --framing options, in every framing: the client's frames
// logged as sent and echoed back (its "sent H+N" and "echo H+N" lines with
// the framing's header size), and an echoing load run whose every frame is
// logged exactly once and in order (scripts/check-log.py) and echoed back
// byte for byte (the load generator's EchoChecker compares each one).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "child_process.h"
#include "framing_bytes.h"
#include "server_process.h"

namespace uvframe::test {
namespace {

std::string localAddressOf(const std::string& output) {
  static const std::regex kConnected(R"(\[tcp client\] connected to \S+ from (\S+))");
  std::smatch m;
  return std::regex_search(output, m, kConnected) ? m[1].str() : std::string();
}

struct EndToEndCase {
  std::string name;
  std::vector<std::string> args;  ///< given to the server, the client and the load generator
  FramingOptions framing;         ///< what args select (for the expected header sizes)
};

std::vector<EndToEndCase> cases() {
  std::vector<EndToEndCase> all;
  for (int bytes : {1, 2, 3, 4, 8}) {
    for (ByteOrder order : {ByteOrder::kLittle, ByteOrder::kBig}) {
      std::string orderName(toString(order));
      all.push_back({"length_" + std::to_string(bytes) + "_" + orderName,
                     {"--framing", "length", "--length-bytes", std::to_string(bytes),
                      "--byte-order", orderName},
                     lengthFraming(static_cast<std::uint8_t>(bytes), order)});
    }
  }
  all.push_back(
      {"length_4_offset_3", {"--length-offset", "3"}, lengthFraming(4, ByteOrder::kLittle, 3)});
  all.push_back({"length_4_adjust_minus_4",
                 {"--length-adjust", "-4"},
                 lengthFraming(4, ByteOrder::kLittle, 0, -4)});
  all.push_back({"length_2_big_offset_2_adjust_plus_2",
                 {"--length-bytes", "2", "--byte-order", "big", "--length-offset", "2",
                  "--length-adjust", "2"},
                 lengthFraming(2, ByteOrder::kBig, 2, 2)});
  all.push_back(
      {"octet_counting", {"--framing", "octet-counting"}, framingOf(FramingKind::kOctetCounting)});
  all.push_back({"varint", {"--framing", "varint"}, framingOf(FramingKind::kVarint)});
  return all;
}

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& args,
                              const std::vector<std::string>& tail) {
  head.insert(head.end(), args.begin(), args.end());
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

class FramingEndToEnd : public ::testing::TestWithParam<EndToEndCase> {};

TEST_P(FramingEndToEnd, ClientAndLoadgenFramesAreLoggedOnceInOrderAndEchoed) {
  const EndToEndCase& c = GetParam();
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string json = dir.file("run.json");
  ServerProcess server(with({}, c.args, {"--echo", "--log-file", log, "--workers", "2"}));
  const std::string port = std::to_string(server.port());

  // The client: one frame per message, each echoed back.
  const std::vector<std::string> messages = {"hello", "안녕하세요"};
  Finished client = runToExit(with({programPath("uvframe-client"), "--port", port}, c.args,
                                   {"--echo", "hello", "안녕하세요"}));
  ASSERT_EQ(client.exitCode, 0) << client.output;
  for (const std::string& m : messages) {
    std::string sizes = std::to_string(framingHeaderBytes(c.framing, m.size())) + "+" +
                        std::to_string(m.size()) + " bytes";
    EXPECT_NE(client.output.find("[tcp client] sent " + sizes), std::string::npos) << sizes << "\n"
                                                                                   << client.output;
    EXPECT_NE(client.output.find("[tcp client] echo " + sizes + ": " + m), std::string::npos)
        << client.output;
  }
  std::string clientAddress = localAddressOf(client.output);
  ASSERT_FALSE(clientAddress.empty()) << client.output;

  // The load generator: frames of drawn sizes, every one echoed and checked.
  std::string sizes = framingHeaderBytes(c.framing, 300) != 0 ? "20-300" : "20-200";
  Finished load = runToExit(
      with({programPath("uvframe-loadgen"), "--port", port}, c.args,
           {"--connections", "20", "--frames-per-connection", "100", "--echo", "--pipeline", "8",
            "--size", sizes, "--threads", "2", "--progress-interval", "0", "--json", json}));
  ASSERT_EQ(load.exitCode, 0) << load.output;
  EXPECT_NE(load.output.find("opened 20, failed 0"), std::string::npos) << load.output;
  EXPECT_NE(load.output.find("errors          none"), std::string::npos) << load.output;

  ASSERT_EQ(server.stop(), 0);
  EXPECT_EQ(server.messagesFrom(clientAddress), messages);
  auto script =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "scripts" / "check-log.py";
  Finished checked = runToExit({"/usr/bin/env", "python3", script.string(), log, "--json", json});
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  EXPECT_NE(checked.output.find("load connections 20, loadgen frames 2000, other messages 2"),
            std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("gaps 0, duplicates 0, out of order 0"), std::string::npos)
      << checked.output;
}

std::string caseName(const ::testing::TestParamInfo<EndToEndCase>& param) {
  return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(Framings, FramingEndToEnd, ::testing::ValuesIn(cases()), caseName);

}  // namespace
}  // namespace uvframe::test
