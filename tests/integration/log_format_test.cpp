// The real server with --log-format json and with its own log rotation:
// - json: every line of the log file parses (nlohmann::json) and the story
//   is all there: listening, connected, each message with the sent text
//   exactly (or "escaped":true), disconnected with numeric fields, and the
//   final stats line last;
// - --log-max-size / --log-max-files: 50 connections x 2000 frames while the
//   file rotates dozens of times (and a SIGHUP reopens it meanwhile): every
//   frame is in exactly one retained file, in order per connection, no line
//   is split and no file passes the size by more than one line.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "log_lines.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

TEST(LogFormat, JsonLogFileParsesLineByLineAndTellsTheWholeStory) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-format", "json", "--log-file", log, "--no-console", "--workers", "2",
                        "--max-logged-bytes", "64"});
  const std::vector<std::string> payloads = {
      "plain",
      "quote \" backslash \\ slash /",
      std::string("nul \0 and controls \x01\x1b[31m\x7f\r\n\t", 28),
      "bidi \xE2\x80\xAE evil \xE2\x81\xA6 \xE2\x80\xA8 sep \xEF\xBB\xBF bom",
      "안녕하세요",
      "\"},{\"event\":\"connected\",\"ip\":\"6.6.6.6\",\"port\":1}",
      "bad \xff\xfe utf-8 \\",
      "overlong \xC0\xAF surrogate \xED\xA0\x80",
      std::string(200, 'L'),
      ""};
  std::map<std::string, std::string> peers;  // "ip:port" -> how many frames
  std::uint64_t wireBytes = 0;
  std::string hostPort;
  std::uint16_t localPort = 0;
  {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    hostPort = s.localHostPort();
    localPort = s.localPort();
    for (const auto& p : payloads) {
      s.sendFrame(p);
      wireBytes += 4 + p.size();
    }
  }
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(server.stop(), 0);

  const std::string text = readAll(log);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::vector<json> events;
  for (const auto& line : splitLines(text)) {
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line;
    ASSERT_TRUE(j.is_object()) << line;
    ASSERT_TRUE(j["ts"].is_string()) << line;
    ASSERT_TRUE(j["level"].is_string()) << line;
    ASSERT_TRUE(j["event"].is_string()) << line;
    events.push_back(j);
  }
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front()["event"], "listening");
  EXPECT_EQ(events.front()["port"], server.port());
  EXPECT_EQ(events.back()["event"], "stats");
  EXPECT_EQ(events.back()["final"], true);
  EXPECT_TRUE(events.back()["frames"].is_number_integer());
  EXPECT_EQ(events.back()["frames"], payloads.size());

  std::vector<json> mine;
  for (const auto& e : events) {
    if (e.contains("port") && e["port"] == localPort && e.contains("ip")) mine.push_back(e);
  }
  ASSERT_EQ(mine.size(), payloads.size() + 2) << text;
  EXPECT_EQ(mine.front()["event"], "connected");
  EXPECT_EQ(mine.front()["ip"], "127.0.0.1");
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const json& m = mine[i + 1];
    SCOPED_TRACE(m.dump());
    EXPECT_EQ(m["event"], "message");
    EXPECT_EQ(m["level"], "info");
    const std::string& sent = payloads[i];
    const bool valid =
        sent.find("\xff") == std::string::npos && sent.find("\xC0") == std::string::npos;
    if (!valid) {
      EXPECT_EQ(m["escaped"], true);
      EXPECT_NE(m["payload"].get<std::string>().find("\\x"), std::string::npos);
    } else if (sent.size() > 64) {
      EXPECT_EQ(m["payload"], sent.substr(0, 64));
      EXPECT_EQ(m["cut_bytes"], sent.size() - 64);
    } else {
      EXPECT_EQ(m["payload"], sent);
      EXPECT_FALSE(m.contains("escaped"));
    }
  }
  const json& d = mine.back();
  EXPECT_EQ(d["event"], "disconnected");
  EXPECT_EQ(d["reason"], "peer closed");
  EXPECT_TRUE(d["frames"].is_number_integer());
  EXPECT_EQ(d["frames"], payloads.size());
  EXPECT_TRUE(d["bytes"].is_number_integer());
  EXPECT_EQ(d["bytes"], wireBytes);
  EXPECT_TRUE(d["duration_s"].is_number());
}

TEST(LogFormat, RotationUnderLoadKeepsEveryFrameOnceAndEveryLineWhole) {
  TempDir dir;
  std::string log = dir.file("server.log");
  constexpr std::uint64_t kMaxBytes = 128 * 1024;
  ServerProcess server({"--log-file", log, "--no-console", "--workers", "2", "--log-max-size",
                        std::to_string(kMaxBytes), "--log-max-files", "1000"});
  constexpr int kClients = 50;
  constexpr int kFrames = 2000;
  std::vector<TestSocket> clients;
  std::map<std::string, int> index;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(TestSocket::connect("127.0.0.1", server.port()));
    index[clients.back().localHostPort()] = i;
  }
  // Rounds of 100 frames per client, so the connections interleave.
  for (int round = 0; round < kFrames / 100; ++round) {
    for (int i = 0; i < kClients; ++i) {
      std::string batch;
      for (int f = round * 100; f < (round + 1) * 100; ++f)
        batch += frameBytes("conn=" + std::to_string(i) + " seq=" + std::to_string(f) + " " +
                            std::string(static_cast<std::size_t>(f % 41), 'p'));
      clients[i].sendAll(batch);
    }
    if (round == kFrames / 200) server.process().sendSignal(SIGHUP);
  }
  for (auto& c : clients)
    c.close();
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(server.stop(), 0);

  // Oldest first: server.log.N … server.log.1, then server.log.
  std::vector<std::string> files;
  for (int k = 1; fs::exists(log + "." + std::to_string(k)); ++k)
    files.insert(files.begin(), log + "." + std::to_string(k));
  files.push_back(log);
  EXPECT_GE(files.size(), 24u) << "the log should have rotated dozens of times";
  std::map<int, int> nextSeq;
  std::size_t longest = 0;
  bool sawReopen = false;
  for (std::size_t k = 0; k < files.size(); ++k) {
    const std::string text = readAll(files[k]);
    SCOPED_TRACE(files[k]);
    if (k + 1 == files.size() && text.empty()) continue;  // rotated as it filled up
    ASSERT_FALSE(text.empty());
    ASSERT_EQ(text.back(), '\n') << "a file ends mid-line";
    auto lines = splitLines(text);
    for (const auto& line : lines)
      longest = std::max(longest, line.size() + 1);
    if (k + 1 < files.size()) {
      EXPECT_GE(text.size(), kMaxBytes) << "rotated before the size";
      EXPECT_LT(text.size() - kMaxBytes, longest) << "passed the size by more than a line";
    }
    for (const auto& line : lines) {
      std::string body = withoutPrefix(line);
      ASSERT_FALSE(body.empty()) << "split or glued line: " << line;
      if (body.find("SIGHUP: log file") != std::string::npos) sawReopen = true;
      if (!body.starts_with("[tcp/")) continue;
      std::size_t end = body.find("] ");
      ASSERT_NE(end, std::string::npos) << line;
      std::string peer = body.substr(5, end - 5);
      ASSERT_TRUE(index.count(peer)) << line;
      int conn = -1;
      int seq = -1;
      ASSERT_EQ(std::sscanf(body.c_str() + end + 2, "conn=%d seq=%d", &conn, &seq), 2) << line;
      EXPECT_EQ(conn, index[peer]) << line;
      EXPECT_EQ(seq, nextSeq[conn]) << "gap, duplicate or disorder: " << line;
      std::size_t pads = body.size() - body.find_last_not_of('p') - 1;
      EXPECT_EQ(pads, static_cast<std::size_t>(seq % 41)) << "cut line: " << line;
      nextSeq[conn] = seq + 1;
    }
  }
  EXPECT_TRUE(sawReopen) << "SIGHUP's reopen line";
  ASSERT_EQ(nextSeq.size(), static_cast<std::size_t>(kClients));
  for (const auto& [conn, next] : nextSeq)
    EXPECT_EQ(next, kFrames) << "conn " << conn;
}

TEST(LogFormat, RotationOptionsGoTogether) {
  TempDir dir;
  ChildProcess p(
      {programPath("uvframe-server"), "--log-max-size", "1MiB", "--log-file", dir.file("x.log")});
  auto code = p.waitExit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(p.output().find("--log-max-files"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace uvframe::test
