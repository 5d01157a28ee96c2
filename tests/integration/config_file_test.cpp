// uvframe-server --config: the example file etc/uvframe/server.toml parses as
// it ships and names every option of --help; a file's settings apply, the
// command line wins over them, and a bad file stops the server with one line
// naming the file line.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "server_process.h"

namespace uvframe::test {
namespace {

std::string exampleConfig() {
  return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "etc" / "uvframe" /
          "server.toml")
      .lexically_normal()
      .string();
}

std::string writeFile(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

std::string listeningLine(ServerProcess& server) {
  auto lines = server.process().linesContaining("[tcp server] listening on");
  return lines.empty() ? std::string() : lines.front();
}

/// Runs the server on a config file expected to be refused: exit status 2
/// and exactly one line of output, which is returned. Unless the file is
/// about the port, --port 0 keeps a server that wrongly starts off port 9000.
std::string refusal(const std::vector<std::string>& extraArgs, bool portZero = true) {
  std::vector<std::string> argv{programPath("uvframe-server"), "--host", "127.0.0.1"};
  if (portZero) argv.insert(argv.end(), {"--port", "0"});
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  ChildProcess p(argv);
  auto rc = p.waitExit();
  EXPECT_EQ(rc, 2) << p.output();
  auto lines = p.lines();
  EXPECT_EQ(lines.size(), 1u) << p.output();
  return lines.empty() ? std::string() : lines.front();
}

TEST(ConfigFile, ExampleFileParsesAsItShips) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--config", exampleConfig(), "--log-file", log});
  std::string line = listeningLine(server);
  // The example's values (the defaults), and the command line's log file.
  for (const char* shown :
       {"byte-order=little", "max-frame=1048576", "echo=off", "payload-encoding=auto",
        "proxy-protocol=off", "max-connections=unlimited"}) {
    EXPECT_NE(line.find(shown), std::string::npos) << shown << " in " << line;
  }
  EXPECT_NE(line.find("log-file=" + log), std::string::npos) << line;
  EXPECT_EQ(server.stop(), 0);
}

TEST(ConfigFile, FileSettingsApply) {
  TempDir dir;
  std::string config = writeFile(dir, "server.toml",
                                 "# settings\n"
                                 "workers = 3\n"
                                 "byte-order = \"big\"\n"
                                 "echo = true\n"
                                 "max-frame = \"64KiB\"\n"
                                 "max-input-memory = \"256MiB\"\n"
                                 "proxy-protocol = \"v2\"\n"
                                 "trusted-proxies = \"127.0.0.0/8,::1/128\"\n"
                                 "max-connections = 77\n");
  ServerProcess server({"--config", config});
  std::string line = listeningLine(server);
  for (const char* shown : {"workers=3", "byte-order=big", "echo=on", "max-frame=65536",
                            "proxy-protocol=v2 from 127.0.0.0/8,::1/128", "max-connections=77"}) {
    EXPECT_NE(line.find(shown), std::string::npos) << shown << " in " << line;
  }
  EXPECT_EQ(server.stop(), 0);
}

TEST(ConfigFile, FlagsFromTheFileWork) {
  TempDir dir;
  std::string log = dir.file("server.log");
  std::string config = writeFile(dir, "server.toml",
                                 "no-console = true\n"
                                 "log-file = \"" +
                                     log + "\"\n");
  ChildProcess p(
      {programPath("uvframe-server"), "--config", config, "--port", "0", "--host", "127.0.0.1"});
  bool listening = false;
  for (int i = 0; i < 1000 && !listening; ++i) {
    std::ifstream in(log);
    for (std::string l; std::getline(in, l);) {
      if (l.find("[tcp server] listening on") != std::string::npos) listening = true;
    }
    if (!listening && p.waitExit(20ms)) break;
  }
  ASSERT_TRUE(listening) << p.output();
  p.sendSignal(SIGTERM);
  EXPECT_EQ(p.waitExit(), 0) << p.output();
  // no-console: nothing of the log on standard output.
  EXPECT_TRUE(p.linesContaining("listening on").empty()) << p.output();
}

TEST(ConfigFile, CommandLineWinsOverTheFile) {
  TempDir dir;
  std::string config = writeFile(dir, "server.toml",
                                 "port = 1\n"
                                 "workers = 3\n"
                                 "byte-order = \"big\"\n"
                                 "echo = true\n"
                                 "payload-encoding = \"cp949\"\n");
  ServerProcess server({"--config", config, "--workers", "2", "--byte-order", "little"});
  std::string line = listeningLine(server);
  EXPECT_NE(server.port(), 1);  // ServerProcess passes --port 0
  for (const char* shown :
       {"workers=2", "byte-order=little", "echo=on", "payload-encoding=cp949"}) {
    EXPECT_NE(line.find(shown), std::string::npos) << shown << " in " << line;
  }
  EXPECT_EQ(server.stop(), 0);
}

TEST(ConfigFile, UnknownKeyNamesKeyAndLine) {
  TempDir dir;
  std::string config = writeFile(dir, "server.toml",
                                 "# comment\n"
                                 "port = 9000\n"
                                 "\n"
                                 "max-framez = 100\n");
  std::string line = refusal({"--config", config});
  EXPECT_NE(line.find("error"), std::string::npos) << line;
  EXPECT_NE(line.find(config + ":4:"), std::string::npos) << line;
  EXPECT_NE(line.find("unknown option \"max-framez\""), std::string::npos) << line;

  // A [section] prefixes its keys, which are then unknown too.
  config = writeFile(dir, "section.toml", "[server]\nport = 9000\n");
  line = refusal({"--config", config});
  EXPECT_NE(line.find(config + ":2: unknown option \"server.port\""), std::string::npos) << line;

  // --help still works beside a broken file.
  ChildProcess help({programPath("uvframe-server"), "--config", config, "--help"});
  EXPECT_EQ(help.waitExit(), 0);
  EXPECT_NE(help.output().find("--config"), std::string::npos);
}

TEST(ConfigFile, BadValueNamesOptionAndLine) {
  TempDir dir;
  struct Case {
    std::string setting;
    std::string option;
  };
  for (const Case& c : std::vector<Case>{{"port = 70000", "--port"},
                                         {"workers = 5000", "--workers"},
                                         {"byte-order = \"middle\"", "--byte-order"},
                                         {"echo = maybe", "--echo"},
                                         {"max-frame = \"lots\"", "--max-frame"},
                                         {"idle-timeout = -1", "--idle-timeout"},
                                         {"proxy-protocol = \"v3\"", "--proxy-protocol"},
                                         {"log-level = \"loud\"", "--log-level"},
                                         {"payload-encoding = \"klingon\"", "--payload-encoding"},
                                         {"trusted-proxies = \"10.0.0.0/33\"", "--trusted-proxies"},
                                         {"allow = \"not-an-address\"", "--allow"},
                                         {"metrics = \"9100\"", "--metrics"}}) {
    std::string config =
        writeFile(dir, "server.toml", "# line 1\nframe-timeout = 30\n\n" + c.setting + "\n");
    std::string line = refusal({"--config", config}, c.option != "--port");
    EXPECT_NE(line.find(config + ":4: "), std::string::npos) << c.setting << ": " << line;
    EXPECT_NE(line.find(c.option), std::string::npos) << c.setting << ": " << line;
  }
  // The same key twice: the second line.
  std::string config = writeFile(dir, "twice.toml", "workers = 1\necho = true\nworkers = 2\n");
  std::string line = refusal({"--config", config});
  EXPECT_NE(line.find(config + ":3: --workers"), std::string::npos) << line;
  // A line that is not `option = value`.
  config = writeFile(dir, "garbage.toml", "port = 1\nthis is not toml\n");
  line = refusal({"--config", config});
  EXPECT_NE(line.find(config + ":2:"), std::string::npos) << line;
  // The same bad value on the command line has no file line.
  config = writeFile(dir, "fine.toml", "workers = 1\n");
  line = refusal({"--config", config, "--byte-order", "middle"});
  EXPECT_EQ(line.find(config), std::string::npos) << line;
  EXPECT_NE(line.find("--byte-order"), std::string::npos) << line;
}

TEST(ConfigFile, MissingFileExitsTwoNamingIt) {
  TempDir dir;
  std::string missing = dir.file("nope.toml");
  std::string line = refusal({"--config", missing});
  EXPECT_NE(line.find("error"), std::string::npos) << line;
  EXPECT_NE(line.find(missing), std::string::npos) << line;
}

TEST(ConfigFile, ExampleNamesEveryOptionOfHelp) {
  ChildProcess p({programPath("uvframe-server"), "--help"});
  ASSERT_EQ(p.waitExit(), 0);
  EXPECT_NE(p.output().find("--config"), std::string::npos);
  EXPECT_NE(p.output().find("etc/uvframe/server.toml"), std::string::npos);

  std::ifstream in(exampleConfig());
  ASSERT_TRUE(in) << exampleConfig();
  std::set<std::string> keys;
  static const std::regex kKey(R"(^#?\s*([a-z][a-z0-9-]*)\s*=)");
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, kKey)) keys.insert(m[1].str());
  }
  static const std::regex kOption(R"(^\s+(?:-\w,)?--([a-z][a-z0-9-]*))");
  std::size_t options = 0;
  for (const auto& l : p.lines()) {
    std::smatch m;
    if (!std::regex_search(l, m, kOption)) continue;
    std::string name = m[1].str();
    if (name == "help" || name == "version" || name == "config") continue;
    ++options;
    EXPECT_TRUE(keys.count(name)) << "--" << name << " is missing from " << exampleConfig();
  }
  EXPECT_GE(options, 30u) << p.output();
}

}  // namespace
}  // namespace uvframe::test
