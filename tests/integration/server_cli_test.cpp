// uvframe-server's command line: --help, --version, bad arguments, and a
// port that is already taken.
#include <gtest/gtest.h>

#include "child_process.h"
#include "server_process.h"

namespace uvframe::test {
namespace {

TEST(ServerCli, HelpExplainsEveryOptionAndExitsZero) {
  ChildProcess p({programPath("uvframe-server"), "--help"});
  ASSERT_EQ(p.waitExit(), 0);
  std::string out = p.output();
  for (const char* option : {"--host",
                             "--port",
                             "--workers",
                             "--byte-order",
                             "--max-frame",
                             "--echo",
                             "--idle-timeout",
                             "--frame-timeout",
                             "--max-connections",
                             "--log-file",
                             "--log-level",
                             "--no-console",
                             "--payload-encoding",
                             "--max-logged-bytes",
                             "--stats-interval",
                             "--max-input-memory",
                             "--proxy-protocol",
                             "--trusted-proxies",
                             "--proxy-timeout",
                             "--max-connection-age",
                             "--metrics",
                             "--allow",
                             "--deny",
                             "--max-connections-per-ip",
                             "--max-frame-rate",
                             "--max-byte-rate"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
  // The whole text, to its last paragraph (a NUL in a default once cut it short).
  EXPECT_NE(out.find("Signals: SIGINT/SIGTERM"), std::string::npos) << out;
  EXPECT_EQ(out.find('\0'), std::string::npos);
}

TEST(ServerCli, VersionPrintsNameAndVersion) {
  ChildProcess p({programPath("uvframe-server"), "--version"});
  ASSERT_EQ(p.waitExit(), 0);
  EXPECT_NE(p.output().find("uvframe-server 0."), std::string::npos) << p.output();
}

TEST(ServerCli, BadArgumentsExitTwoWithOneLine) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"--byte-order", "middle"},
                                             {"--port", "70000"},
                                             {"--payload-encoding", "klingon"},
                                             {"--idle-timeout", "-1"},
                                             {"--proxy-protocol", "v3"},
                                             {"--trusted-proxies", "10.0.0.0/33"},
                                             {"--allow", "not-an-address"},
                                             {"--deny", "::1/129"},
                                             {"--metrics", "9100"}}) {
    args.insert(args.begin(), programPath("uvframe-server"));
    ChildProcess p(args);
    EXPECT_EQ(p.waitExit(), 2) << args[1];
    auto lines = p.lines();
    ASSERT_EQ(lines.size(), 1u) << p.output();
    EXPECT_NE(lines[0].find("error"), std::string::npos) << lines[0];
  }
}

TEST(ServerCli, PortInUseExitsNonZeroNamingTheAddress) {
  ServerProcess first;
  ChildProcess second({programPath("uvframe-server"), "--host", "127.0.0.1", "--port",
                       std::to_string(first.port()), "--no-console"});
  auto rc = second.waitExit();
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 1);
  EXPECT_NE(second.output().find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << second.output();
  EXPECT_NE(second.output().find("EADDRINUSE"), std::string::npos) << second.output();
}

TEST(ServerCli, UnopenableLogFileExitsNonZeroWithReason) {
  ChildProcess p(
      {programPath("uvframe-server"), "--port", "0", "--log-file", "/nonexistent-dir/uvframe.log"});
  EXPECT_EQ(p.waitExit(), 1);
  EXPECT_NE(p.output().find("cannot open log file"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace uvframe::test
