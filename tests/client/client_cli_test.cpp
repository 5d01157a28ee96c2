// uvframe-client end to end: the bytes it puts on the wire (CP949, byte
// order, header and body), frames logged by the real server, echo, and its
// errors (server down, unresolvable name, message too large, bad arguments).
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "client_test_helpers.h"
#include "server_process.h"

namespace uvframe::test {
namespace {

std::vector<std::string> client(std::vector<std::string> args) {
  args.insert(args.begin(), programPath("uvframe-client"));
  return args;
}

std::string localAddressOf(const std::vector<std::string>& lines) {
  static const std::regex kConnected(R"(\[tcp client\] connected to \S+ from (\S+))");
  std::smatch m;
  for (const auto& l : lines) {
    if (std::regex_search(l, m, kConnected)) return m[1].str();
  }
  return {};
}

TEST(ClientCli, Cp949EncodingSendsTheBytesOfTheWindowsClient) {
  RawListener listener;
  ChildProcess child(
      client({"--port", std::to_string(listener.port()), "--encoding", "cp949", "안녕하세요"}));
  auto bytes = listener.acceptAndReadAll();
  RunResult r = finishProgram(child);
  ASSERT_TRUE(bytes) << r.output;
  EXPECT_EQ(*bytes,
            std::string("\x0A\x00\x00\x00", 4) + "\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("[tcp client] sent 4+10 bytes"), std::string::npos) << r.output;
}

TEST(ClientCli, BigEndianHeaderAndEmptyMessage) {
  RawListener listener;
  ChildProcess child(
      client({"--port", std::to_string(listener.port()), "--byte-order", "big", "hello", ""}));
  auto bytes = listener.acceptAndReadAll();
  RunResult r = finishProgram(child);
  ASSERT_TRUE(bytes) << r.output;
  EXPECT_EQ(*bytes, std::string("\x00\x00\x00\x05hello\x00\x00\x00\x00", 13));
  EXPECT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("sent 4+0 bytes"), std::string::npos) << r.output;
}

TEST(ClientCli, EachStdinLineIsOneFrameInTheServerLog) {
  ServerProcess server({"--payload-encoding", "cp949"});
  ChildProcess child(client({"--port", std::to_string(server.port()), "--encoding", "cp949"}),
                     ChildProcess::Options{.maxOpenFiles = 0, .pipeStdin = true});
  child.writeStdin("first line\r\n안녕하세요\nthird\n");
  child.closeStdin();
  RunResult r = finishProgram(child);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::string peer = localAddressOf(r.lines);
  ASSERT_FALSE(peer.empty()) << r.output;
  // The predicate sees the lines under the child's lock: count them here
  // rather than calling back into the ServerProcess.
  std::string tag = "[tcp/" + peer + "] ";
  ASSERT_TRUE(server.process().waitUntil([&](const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
             return l.find(tag) != std::string::npos;
           }) >= 3;
  })) << server.process().output();
  EXPECT_EQ(server.messagesFrom(peer),
            (std::vector<std::string>{"first line", "안녕하세요", "third"}));
}

TEST(ClientCli, EchoPrintsEachEchoedFrame) {
  ServerProcess server({"--echo"});
  RunResult r =
      runProgram(client({"--port", std::to_string(server.port()), "--echo", "ping", "안녕"}));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo 4+4 bytes: ping"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[tcp client] echo 4+6 bytes: 안녕"), std::string::npos) << r.output;
}

TEST(ClientCli, ServerDownIsAClearError) {
  RunResult r = runProgram(client({"--port", std::to_string(unusedPort()), "hi"}));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("connection refused"), std::string::npos) << r.output;
}

TEST(ClientCli, UnresolvableNameIsAClearError) {
  // A 64-character label is rejected inside the resolver library, so the
  // test sends no DNS query off the machine.
  std::string host = std::string(64, 'a') + ".invalid";
  RunResult r = runProgram(client({"--host", host, "hi"}));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("cannot resolve"), std::string::npos) << r.output;
}

TEST(ClientCli, MessageAboveFrameLimitIsRejectedBeforeAnythingIsSent) {
  RawListener listener;
  RunResult r = runProgram(
      client({"--port", std::to_string(listener.port()), "--max-frame", "4", "ok", "too long"}));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.output.find("message 2 is 8 bytes, above the frame limit"), std::string::npos)
      << r.output;
  EXPECT_FALSE(listener.acceptAndReadAll(100ms)) << "nothing may reach the server";
}

TEST(ClientCli, BadArgumentsExitTwoWithOneLine) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--port", "abc"},
                                        {"--port", "70000"},
                                        {"--encoding", "no-such-charset", "x"},
                                        {"--byte-order", "middle"},
                                        {"--timeout", "-1"},
                                        {"--no-such-option"}}) {
    RunResult r = runProgram(client(args));
    EXPECT_EQ(r.exitCode, 2) << args[0] << ": " << r.output;
    ASSERT_EQ(r.lines.size(), 1u) << r.output;
    EXPECT_EQ(r.lines[0].rfind("uvframe-client: error: ", 0), 0u) << r.lines[0];
  }
}

TEST(ClientCli, HelpAndVersionExitZero) {
  RunResult help = runProgram(client({"--help"}));
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.output.find("--encoding"), std::string::npos);
  RunResult version = runProgram(client({"--version"}));
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_NE(version.output.find("uvframe-client "), std::string::npos) << version.output;
}

}  // namespace
}  // namespace uvframe::test
