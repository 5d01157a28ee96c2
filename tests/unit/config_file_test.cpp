// ConfigFileScan: the key -> line map of a --config file that lets the
// server's errors name the file line.
#include "../../server/config_file.h"

#include <gtest/gtest.h>

namespace uvframe {
namespace {

TEST(ConfigFileScan, KeysWithTheirLines) {
  auto scan = scanConfigText(
      "# comment\n"
      "port = 9000\n"
      "\n"
      "  ; ini comment\n"
      "byte-order = \"big\"   # trailing comment\n"
      "\"max-frame\" = \"64KiB\"\r\n"
      "echo=true");
  ASSERT_EQ(scan.keys.size(), 4u);
  EXPECT_EQ(scan.lineOf("port"), 2);
  EXPECT_EQ(scan.lineOf("byte-order"), 5);
  EXPECT_EQ(scan.lineOf("max-frame"), 6);
  EXPECT_EQ(scan.lineOf("echo"), 7);
  EXPECT_EQ(scan.lineOf("workers"), 0);
  EXPECT_EQ(scan.badLine, 0);
}

TEST(ConfigFileScan, SectionsPrefixTheirKeys) {
  auto scan = scanConfigText("a = 1\n[server]\nport = 1\n[default]\nb = 2\n");
  EXPECT_EQ(scan.lineOf("a"), 1);
  EXPECT_EQ(scan.lineOf("server.port"), 3);
  EXPECT_EQ(scan.lineOf("port"), 0);
  EXPECT_EQ(scan.lineOf("b"), 5);
}

TEST(ConfigFileScan, DuplicatesAndBadLines) {
  auto scan = scanConfigText("port = 1\nnot a setting\nport = 2\n= 3\n");
  EXPECT_EQ(scan.lineOf("port"), 1);
  EXPECT_EQ(scan.duplicateLineOf("port"), 3);
  EXPECT_EQ(scan.duplicateLineOf("workers"), 0);
  EXPECT_EQ(scan.badLine, 2);
  EXPECT_EQ(scan.badText, "not a setting");
}

TEST(ConfigFileScan, MissingFileIsNullopt) {
  EXPECT_FALSE(scanConfigFile("/nonexistent/uvframe/server.toml").has_value());
}

}  // namespace
}  // namespace uvframe
