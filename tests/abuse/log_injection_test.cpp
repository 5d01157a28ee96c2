// Log injection: payloads built to forge or break log lines (newlines, fake
// "[tcp server]" lines, terminal escapes, NUL, C1 controls, line separators,
// invalid and overlong UTF-8, a hostile "header" quoted in the protocol-error
// line). The log FILE must hold exactly one line per frame and no raw control
// byte: nothing below 0x20 but each line's own '\n', no DEL, valid UTF-8.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <regex>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

std::vector<std::string> injectionPayloads() {
  std::string allC0;
  for (int c = 0; c < 0x20; ++c)
    allC0.push_back(static_cast<char>(c));
  allC0.push_back('\x7f');
  return {
      "line one\nline two",
      "\r\n[2026-11-25 19:00:00.123] [info] [tcp server] client connected: ip=6.6.6.6, port=666",
      "\n[2026-11-25 19:00:00.123] [info] [tcp/6.6.6.6:666] forged message\n",
      "[tcp server] client disconnected: ip=127.0.0.1, port=1 (reason=peer closed, frames=0, "
      "bytes=0, duration=0.000s)",
      "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ "
      "\x1b[31mred\x1b[0m \x1bP+q\x1b\\",
      std::string("nul\0in\0the\0middle\0", 19),
      allC0,
      "utf8 C1: \xc2\x85 NEL \xc2\x9b"
      "31m CSI \xc2\x9d OSC",
      "raw 8-bit C1: \x9b"
      "31m \x85 \x8d \x9d",
      "separators: \xe2\x80\xa8 and \xe2\x80\xa9 end",
      "overlong \xc0\x8a and \xe0\x80\x8a, surrogate \xed\xa0\x80, cut \xe2\x80",
      "backslash forgery: \\n \\x0a \\u2028 \\",
      std::string(5000, '\n'),
      // Cut at --max-logged-bytes (100) inside a line separator and an escape.
      std::string(99, 'a') + "\xe2\x80\xa8" + std::string(10, '\r'),
      std::string(98, 'b') + "\x1b[31m",
      "",
      "tab\there\vvertical\ffeed\bbackspace\aBEL",
  };
}

// Checks the raw bytes of a log file: lines end with '\n' only, no other byte
// below 0x20, no DEL, valid UTF-8 with no C1 control or line separator.
void expectNoRawControlBytes(const std::string& bytes) {
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.back(), '\n');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    ASSERT_TRUE(c >= 0x20 || c == '\n') << "raw byte 0x" << std::hex << int(c) << " at " << std::dec
                                        << i << ": " << bytes.substr(i > 40 ? i - 40 : 0, 80);
    ASSERT_NE(c, 0x7f) << "raw DEL at " << i;
    if (c < 0x80) continue;
    // A multi-byte UTF-8 sequence: lead byte, then continuation bytes.
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    ASSERT_NE(len, 0u) << "invalid UTF-8 lead byte at " << i;
    ASSERT_LE(i + len, bytes.size());
    for (std::size_t k = 1; k < len; ++k) {
      ASSERT_EQ(static_cast<unsigned char>(bytes[i + k]) & 0xC0, 0x80) << "at " << i;
    }
    std::string seq = bytes.substr(i, len);
    EXPECT_FALSE(len == 2 && c == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) <= 0x9F)
        << "raw C1 control at " << i;
    EXPECT_NE(seq, "\xe2\x80\xa8") << "raw U+2028 at " << i;
    EXPECT_NE(seq, "\xe2\x80\xa9") << "raw U+2029 at " << i;
    i += len - 1;
  }
}

const std::regex kPrefix(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[\w+\] )");

// Every line is one of the server's own: its prefix, then "[tcp server] " or
// the tag of a peer that really connected.
void expectOnlyGenuineLines(const std::vector<std::string>& lines,
                            const std::vector<std::string>& peers) {
  for (const auto& l : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(l, m, kPrefix)) << l;
    std::string body = l.substr(static_cast<std::size_t>(m.length(0)));
    bool genuine = body.rfind("[tcp server] ", 0) == 0;
    for (const auto& p : peers)
      genuine = genuine || body.rfind("[tcp/" + p + "] ", 0) == 0;
    EXPECT_TRUE(genuine) << l;
    // A forged connected line could only start a line of its own.
    if (body.rfind("[tcp server] client connected: ", 0) == 0) {
      EXPECT_EQ(body.find("6.6.6.6"), std::string::npos) << l;
    }
  }
}

TEST(AbuseLogInjection, HostilePayloadsGiveOneEscapedLinePerFrameInTheLogFile) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console", "--max-logged-bytes", "100"});
  auto payloads = injectionPayloads();
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  for (const auto& p : payloads)
    s.sendFrame(p);
  // A hostile "header": its bytes are quoted in the protocol-error line.
  TestSocket h = TestSocket::connect("127.0.0.1", server.port());
  h.sendAll("\n\x1b[31\r\n[2026-11-25 19:00:00.000] [info] [tcp server] fake" +
            std::string(1, '\0'));
  EXPECT_TRUE(h.waitClosedByPeer());
  const std::string tag = s.localHostPort();
  std::vector<std::string> peers = {tag, h.localHostPort()};
  s.close();
  ASSERT_EQ(server.stop(), 0);

  LogFile file(log);
  const auto& lines = file.refresh();
  expectNoRawControlBytes(file.bytes());
  expectOnlyGenuineLines(lines, peers);
  EXPECT_EQ(server.messagesFrom(tag).size(), 0u) << "--no-console leaked";
  std::size_t messageLines = countContaining(lines, "] [tcp/" + tag + "] ");
  EXPECT_EQ(messageLines, payloads.size());
  // Only the two real connections start a connected line.
  const std::regex connected(R"(^\[[^\]]+\] \[info\] \[tcp server\] client connected: )");
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [&](const std::string& l) { return std::regex_search(l, connected); }),
            2);
  EXPECT_EQ(countContaining(lines, "6.6.6.6"), 2u);  // inside the two forgeries, escaped
  auto warn = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("frame too large") != std::string::npos;
  });
  ASSERT_NE(warn, lines.end());
  EXPECT_NE(warn->find("\\n\\x1b[31\\r\\n[2026"), std::string::npos) << *warn;
  std::cout << "[ measured ] " << payloads.size() << " hostile frames -> " << messageLines
            << " message lines; " << file.bytes().size()
            << " log bytes, none below 0x20 but line ends\n";
}

TEST(AbuseLogInjection, Cp949DecodingDoesNotLetControlsThrough) {
  TempDir dir;
  std::string log = dir.file("server.log");
  ServerProcess server({"--log-file", log, "--no-console", "--payload-encoding", "cp949"});
  // "안녕" in CP949, then controls, escapes, bytes CP949 cannot decode and a
  // lead byte cut at the end.
  const std::vector<std::string> payloads = {
      "\xbe\xc8\xb3\xe7\n[tcp server] forged\r\x1b[31m",
      std::string("\xbe\xc8\0\xb3\xe7\x7f", 6),
      "\x80\xff\xc8 bad \xfe\xfe \xbe",
      "\x1b]0;title\x07\xbe\xc8",
  };
  TestSocket s = TestSocket::connect("127.0.0.1", server.port());
  for (const auto& p : payloads)
    s.sendFrame(p);
  const std::string tag = s.localHostPort();
  s.close();
  ASSERT_EQ(server.stop(), 0);

  LogFile file(log);
  const auto& lines = file.refresh();
  expectNoRawControlBytes(file.bytes());
  expectOnlyGenuineLines(lines, {tag});
  auto msgs = countContaining(lines, "] [tcp/" + tag + "] ");
  EXPECT_EQ(msgs, payloads.size());
  EXPECT_EQ(countContaining(lines, "안녕\\n[tcp server] forged\\r\\x1b[31m"), 1u) << file.bytes();
}

}  // namespace
}  // namespace uvframe::test
