// Unit tests for common/cli_support: the exit-code contract of the three
// programs (-1 go on, 0 after --help/--version, 2 on a bad argument) and the
// shared --byte-order option.
#include "cli_support.h"

#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace uvframe {
namespace {

// Runs parseCommandLine on a fresh app with --byte-order and --port.
struct Parsed {
  int rc;
  ByteOrder order;
};

Parsed parse(std::vector<std::string> args) {
  CLI::App app("test program", "uvframe-test");
  app.set_version_flag("--version", kVersion);
  ByteOrder order = ByteOrder::kLittle;
  int port = 9000;
  addByteOrderOption(app, order);
  app.add_option("--port", port);
  args.insert(args.begin(), "uvframe-test");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  int rc = parseCommandLine(app, static_cast<int>(argv.size()), argv.data());
  return {rc, order};
}

TEST(CliSupport, NoArgumentsGoOnWithDefaults) {
  Parsed p = parse({});
  EXPECT_EQ(p.rc, -1);
  EXPECT_EQ(p.order, ByteOrder::kLittle);
}

TEST(CliSupport, ByteOrderBigAndAliases) {
  EXPECT_EQ(parse({"--byte-order", "big"}).order, ByteOrder::kBig);
  EXPECT_EQ(parse({"--byte-order=network"}).order, ByteOrder::kBig);
  EXPECT_EQ(parse({"--byte-order", "le"}).order, ByteOrder::kLittle);
}

TEST(CliSupport, BadArgumentsExitTwoWithOneLine) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"--byte-order", "middle"}).rc, 2);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
  EXPECT_NE(err.find("uvframe-test: error:"), std::string::npos) << err;

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(parse({"--no-such-option"}).rc, 2);
  EXPECT_EQ(parse({"--port", "many"}).rc, 2);
  ::testing::internal::GetCapturedStderr();
}

TEST(CliSupport, HelpAndVersionExitZero) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(parse({"--help"}).rc, 0);
  EXPECT_EQ(parse({"--version"}).rc, 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("--byte-order"), std::string::npos) << out;
  EXPECT_NE(out.find(kVersion), std::string::npos) << out;
}

}  // namespace
}  // namespace uvframe
