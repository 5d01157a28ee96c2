// Unit tests for common/log_rotation and the LogWriter's own rotation
// (--log-max-size, --log-max-files): where a block is cut (at the end of the
// line that fills the file), the rename chain (newest .1, oldest dropped),
// and a writer fed by several threads rotating dozens of times: every line
// whole in exactly one file, no file past the size by more than one line.
#include "log_rotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "block_sink.h"
#include "log_writer.h"

namespace uvframe {
namespace {

namespace fs = std::filesystem;

fs::path freshDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("uvframe-rotation-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::size_t cut(std::string_view data, std::uint64_t fileBytes, std::uint64_t maxBytes) {
  return rotationCut(data.data(), data.size(), fileBytes, maxBytes);
}

TEST(LogRotation, CutEndsWithTheLineThatFillsTheFile) {
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 0), 9u) << "no rotation";
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 100), 9u) << "all of it fits";
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 3), 3u) << "the first line fills it exactly";
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 4), 6u) << "the second line crosses it";
  EXPECT_EQ(cut("aa\nbb\ncc\n", 5, 7), 3u) << "two bytes left: the line that crosses";
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 9), 9u);
  EXPECT_EQ(cut("aa\nbb\ncc\n", 0, 8), 9u);
  EXPECT_EQ(cut("aaaaaaaaaa\nb\n", 0, 2), 11u) << "a line longer than the size is whole";
  EXPECT_EQ(cut("aa\nbb", 0, 4), 5u) << "the crossing line does not end here";
  EXPECT_EQ(cut("x\nyy\n", 50, 10), 2u) << "already full: the rest of the current line";
}

TEST(LogRotation, RenameChainKeepsTheNewestAndDropsTheOldest) {
  fs::path dir = freshDir("chain");
  std::string log = (dir / "server.log").string();
  writeFile(log, "current\n");
  writeFile(log + ".1", "one\n");
  writeFile(log + ".2", "two\n");
  writeFile(log + ".3", "three\n");
  EXPECT_EQ(rotateLogFiles(log, 3), "");
  EXPECT_FALSE(fs::exists(log));
  EXPECT_EQ(readAll(log + ".1"), "current\n");
  EXPECT_EQ(readAll(log + ".2"), "one\n");
  EXPECT_EQ(readAll(log + ".3"), "two\n");
  EXPECT_FALSE(fs::exists(log + ".4")) << "three was the oldest: dropped";
  // Gaps are skipped.
  writeFile(log, "new\n");
  fs::remove(log + ".2");
  EXPECT_EQ(rotateLogFiles(log, 3), "");
  EXPECT_EQ(readAll(log + ".1"), "new\n");
  EXPECT_EQ(readAll(log + ".2"), "current\n");
  EXPECT_FALSE(fs::exists(log + ".3"));
  // One file kept.
  writeFile(log, "only\n");
  EXPECT_EQ(rotateLogFiles(log, 1), "");
  EXPECT_EQ(readAll(log + ".1"), "only\n");
  EXPECT_EQ(readAll(log + ".2"), "current\n") << "beyond N: left alone";
  fs::remove_all(dir);
}

TEST(LogRotation, RenameFailureIsReported) {
  fs::path dir = freshDir("fail");
  std::string log = (dir / "server.log").string();
  writeFile(log, "x\n");
  fs::create_directories(log + ".2/full");  // a non-empty directory cannot be removed
  EXPECT_NE(rotateLogFiles(log, 2), "");
  EXPECT_TRUE(fs::exists(log)) << "nothing lost";
  fs::remove_all(dir);
}

TEST(LogRotation, WriterRotatesAtLineEndsAndLosesNothing) {
  fs::path dir = freshDir("writer");
  std::string log = (dir / "server.log").string();
  constexpr std::uint64_t kMaxBytes = 4096;
  constexpr int kThreads = 4;
  constexpr int kLines = 5000;
  std::size_t longestLine = 0;
  {
    LogWriter::Options o;
    o.console = false;
    o.filePath = log;
    o.blockBytes = 16 * 1024;  // blocks several times the file size
    o.maxFileBytes = kMaxBytes;
    o.maxFiles = 1000;
    LogWriter writer(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&writer, t] {
        auto logger = makeBlockLogger("t" + std::to_string(t), writer, spdlog::level::info);
        for (int i = 0; i < kLines; ++i) {
          // Lengths vary so line ends fall everywhere against the size.
          logger->info("t={} seq={} {}", t, i, std::string(static_cast<std::size_t>(i % 97), 'x'));
          if (i % 500 == 0) logger->flush();
        }
        logger->flush();
      });
    }
    for (auto& th : threads)
      th.join();
    writer.stop();
    longestLine = 33 + std::string("t=0 seq=4999 ").size() + 96 + 1;
  }
  std::map<int, std::set<int>> seen;
  int files = 0;
  for (int k = 0;; ++k) {
    fs::path p = k == 0 ? fs::path(log) : fs::path(log + "." + std::to_string(k));
    if (!fs::exists(p)) {
      if (k == 0) continue;
      break;
    }
    ++files;
    std::string text = readAll(p);
    // The writer rotates as soon as a file is full: the current one may be
    // new and empty.
    if (k == 0 && text.empty()) continue;
    ASSERT_FALSE(text.empty()) << p;
    EXPECT_EQ(text.back(), '\n') << p << ": ends mid-line";
    EXPECT_LE(text.size(), kMaxBytes + longestLine) << p;
    if (k > 0) {
      EXPECT_GE(text.size(), kMaxBytes) << p << ": rotated early";
    }
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      int t = -1;
      int seq = -1;
      auto at = line.find("] t=");
      ASSERT_NE(at, std::string::npos) << "split or glued line: " << line;
      ASSERT_EQ(std::sscanf(line.c_str() + at + 2, "t=%d seq=%d", &t, &seq), 2) << line;
      std::size_t xs = line.size() - line.find_last_not_of('x') - 1;
      EXPECT_EQ(xs, static_cast<std::size_t>(seq % 97)) << "cut line: " << line;
      EXPECT_TRUE(seen[t].insert(seq).second) << "twice: " << line;
    }
  }
  EXPECT_GT(files, 30) << "the file should have rotated dozens of times";
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(seen[t].size(), static_cast<std::size_t>(kLines)) << "thread " << t;
  fs::remove_all(dir);
}

TEST(LogRotation, ExistingFullFileIsRotatedBeforeTheFirstLine) {
  fs::path dir = freshDir("existing");
  std::string log = (dir / "server.log").string();
  writeFile(log, std::string(100, 'o') + "\n");
  {
    LogWriter::Options o;
    o.console = false;
    o.filePath = log;
    o.maxFileBytes = 50;
    o.maxFiles = 2;
    LogWriter writer(o);
    auto logger = makeBlockLogger("x", writer, spdlog::level::info);
    logger->info("first");
    logger->flush();
    writer.stop();
  }
  EXPECT_EQ(readAll(log + ".1"), std::string(100, 'o') + "\n");
  std::string current = readAll(log);
  EXPECT_NE(current.find("first"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace uvframe
