// Unit tests for --log-format json (common/json_text, common/json_line_formatter,
// server/log_events): every line is parsed back with a real JSON parser
// (nlohmann::json). Every abuse payload the text renderer is tested with
// (quotes, backslashes, every control byte, NUL, invalid UTF-8, overlongs,
// surrogates, bidi and invisible code points, U+2028, long payloads cut by
// --max-logged-bytes, CP949) gives one line whose payload is the sent text
// exactly, or, for bytes that are not UTF-8, the text rendering with
// "escaped":true. Text mode stays byte-identical to the classic lines.
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "json_line_formatter.h"
#include "json_text.h"
#include "line_formatter.h"
#include "log_events.h"
#include "payload_renderer.h"

namespace uvframe {
namespace {

using nlohmann::json;

PeerAddress peer4() {
  return PeerAddress{"203.0.113.7", 41000, false};
}

// One whole line as the JSON formatter writes it for body.
std::string formatLine(spdlog::formatter& f, std::string_view body,
                       spdlog::level::level_enum level = spdlog::level::info) {
  spdlog::details::log_msg msg(spdlog::log_clock::now(), spdlog::source_loc{}, "server", level,
                               spdlog::string_view_t(body.data(), body.size()));
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

// Parses a formatted line: exactly one '\n', at the end, and a JSON object.
json parseLine(const std::string& line) {
  EXPECT_TRUE(line.ends_with("\n")) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a line break inside: " << line;
  json j = json::parse(line);  // throws on anything that is not JSON
  EXPECT_TRUE(j.is_object());
  return j;
}

// The message line for payload, through LogEvents and the formatter.
json messageJson(std::string_view payload, std::string_view encoding = "utf-8",
                 std::size_t maxLogged = kDefaultMaxLoggedBytes, std::size_t totalBytes = 0) {
  JsonLineFormatter f;
  LogEvents events(LogFormat::kJson, maxLogged, encoding);
  PayloadRenderer renderer(encoding, maxLogged);
  std::string line = events.messagePrefix(peer4());
  events.appendMessage(line, renderer, std::as_bytes(std::span(payload.data(), payload.size())),
                       totalBytes);
  return parseLine(formatLine(f, line));
}

std::string textRendering(std::string_view payload, std::string_view encoding = "utf-8") {
  PayloadRenderer renderer(encoding);
  std::string out;
  renderer.render(std::as_bytes(std::span(payload.data(), payload.size())), out);
  return out;
}

// RFC 3629 UTF-8, written here independently of the code under test.
bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// The text sent comes back, or it is not text and says so.
void expectRoundTrip(std::string_view payload) {
  json j = messageJson(payload);
  EXPECT_EQ(j["event"], "message");
  EXPECT_EQ(j["ip"], "203.0.113.7");
  EXPECT_EQ(j["port"], 41000);
  if (isValidUtf8(payload)) {
    EXPECT_EQ(j["payload"].get<std::string>(), std::string(payload));
    EXPECT_FALSE(j.contains("escaped"));
  } else {
    EXPECT_EQ(j["payload"].get<std::string>(), textRendering(payload));
    EXPECT_EQ(j["escaped"], true);
  }
}

TEST(JsonLog, QuotesBackslashesAndForgedJsonComeBackExactly) {
  expectRoundTrip("say \"hi\"");
  expectRoundTrip("C:\\path\\to\\file \\\\server \\x41 \\u0041 \\n");
  expectRoundTrip("\"},{\"event\":\"connected\",\"ip\":\"6.6.6.6\",\"port\":1}\n{\"x\":\"");
  expectRoundTrip("\\");
  expectRoundTrip("trailing backslash \\");
}

TEST(JsonLog, EveryControlByteAndNulComeBackExactly) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) {
    std::string one(1, static_cast<char>(c));
    expectRoundTrip(one);
    expectRoundTrip("a" + one + "b");
    all += one;
  }
  expectRoundTrip("\x7f");
  expectRoundTrip(all + "\x7f");
  expectRoundTrip(std::string_view("\0\0\0", 3));
  expectRoundTrip("\n[2026-11-25 19:00:00.000] [info] [tcp server] client connected: ip=6.6.6.6");
  expectRoundTrip("\x1b[31mred\x1b[0m\r\x1b[2K");
}

TEST(JsonLog, InvalidUtf8IsTheTextRenderingMarkedEscaped) {
  for (std::string_view bad :
       {"\x80", "a\xBFz", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "ok\xE2\x82", "\xE2\x82z",
        "\xF5\x80\x80\x80", "\xF4\x90\x80\x80", "\xFE\xFF", "\xE2\xE2\x82\xAC", "\xC3\n",
        "\\\xff\"quote\"", "\xff\n[info] forged"}) {
    SCOPED_TRACE(std::string(bad));
    json j = messageJson(bad);
    EXPECT_EQ(j["escaped"], true);
    EXPECT_EQ(j["payload"].get<std::string>(), textRendering(bad));
  }
  // Backslash doubled in the rendering, then once more by JSON in the file.
  json j = messageJson("\\\xff");
  EXPECT_EQ(j["payload"], "\\\\\\xff");
}

TEST(JsonLog, BidiInvisibleC1AndSeparatorsSurviveAsTheSameCodePoints) {
  for (std::string_view cp :
       {"\xC2\x80",     "\xC2\x85",     "\xC2\x9B",     "\xC2\x9F",     "\xE2\x80\xA8",
        "\xE2\x80\xA9", "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD",
        "\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",
        "\xE2\x80\x8E", "\xE2\x80\x8F", "\xD8\x9C",     "\xE2\x80\x8B", "\xE2\x80\x8C",
        "\xE2\x80\x8D", "\xE2\x81\xA0", "\xE2\x81\xA4", "\xEF\xBB\xBF"}) {
    std::string text = "user\"" + std::string(cp) + "admin";
    expectRoundTrip(text);
    // In the file they stay escapes: no raw reordering or line break.
    JsonLineFormatter f;
    LogEvents events(LogFormat::kJson);
    PayloadRenderer renderer;
    std::string line = events.messagePrefix(peer4());
    events.appendMessage(line, renderer, std::as_bytes(std::span(text.data(), text.size())), 0);
    EXPECT_EQ(line.find(cp), std::string::npos) << line;
  }
  expectRoundTrip("\xE2\x80\xAE\xE2\x81\xA6 Trojan /* \xE2\x81\xA9 */ source");
  expectRoundTrip("안녕하세요 café € 😀 \xF4\x8F\xBF\xBF");
}

TEST(JsonLog, LongPayloadsAreCutWithTheHiddenBytesAsANumber) {
  std::string ascii(5000, 'a');
  json j = messageJson(ascii, "utf-8", 1024);
  EXPECT_EQ(j["payload"].get<std::string>(), ascii.substr(0, 1024));
  EXPECT_EQ(j["cut_bytes"], 5000 - 1024);
  // Cut at a character boundary: "a" + an emoji, limit 3.
  j = messageJson("a\xF0\x9F\x98\x80", "utf-8", 3);
  EXPECT_EQ(j["payload"], "a");
  EXPECT_EQ(j["cut_bytes"], 4);
  // Only a head at hand (the server skims long frames): 17 bytes in all.
  j = messageJson("ab\xEC\x95", "utf-8", 4, 17);
  EXPECT_EQ(j["payload"], "ab");
  EXPECT_EQ(j["cut_bytes"], 15);
  // Invalid and cut.
  j = messageJson("\x80\x80\x80\x80\x80", "utf-8", 4);
  EXPECT_EQ(j["payload"], "\\x80\\x80\\x80\\x80");
  EXPECT_EQ(j["escaped"], true);
  EXPECT_EQ(j["cut_bytes"], 1);
  // A payload that merely ends like the note is not cut.
  j = messageJson("x \xE2\x80\xA6(+5 bytes)");
  EXPECT_EQ(j["payload"], "x \xE2\x80\xA6(+5 bytes)");
  EXPECT_FALSE(j.contains("cut_bytes"));
}

TEST(JsonLog, PlainAsciiFastPathMatchesTheRenderer) {
  for (std::string_view enc : {"utf-8", "cp949", "euc-kr"}) {
    json j = messageJson("conn=1 seq=2 abcdefghijklmnopqrstuvwxyz0123456789 ~!@#$%^&*()", enc);
    EXPECT_EQ(j["payload"], "conn=1 seq=2 abcdefghijklmnopqrstuvwxyz0123456789 ~!@#$%^&*()");
    EXPECT_FALSE(j.contains("cut_bytes"));
  }
  std::string exact(16, 'e');
  json j = messageJson(exact, "utf-8", 16);
  EXPECT_EQ(j["payload"], exact);
  EXPECT_FALSE(j.contains("cut_bytes"));
  j = messageJson(exact + "f", "utf-8", 16);
  EXPECT_EQ(j["payload"], exact);
  EXPECT_EQ(j["cut_bytes"], 1);
  j = messageJson("abc", "utf-8", 16, 40);  // a head of a longer payload
  EXPECT_EQ(j["payload"], "abc");
  EXPECT_EQ(j["cut_bytes"], 37);
  j = messageJson(std::string(40, 'z') + "\"");  // special byte past the first 16
  EXPECT_EQ(j["payload"], std::string(40, 'z') + "\"");
}

TEST(JsonLog, Cp949PayloadsAreTheirDecodedText) {
  json j = messageJson("\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4", "cp949");
  EXPECT_EQ(j["payload"], "안녕하세요");
  EXPECT_FALSE(j.contains("escaped"));
  j = messageJson("\x1b[2J\"", "cp949");
  EXPECT_EQ(j["payload"], "\x1b[2J\"");
  j = messageJson("\xFF\xBE\xC8", "cp949");
  EXPECT_EQ(j["payload"], "\\xff안");
  EXPECT_EQ(j["escaped"], true);
}

TEST(JsonLog, RandomBytesAlwaysParseAndRoundTripWhenText) {
  std::mt19937 rng(42);
  const std::string alphabet = std::string("\"\\\n\r\t\x01\x7f azAZ09", 15) +  // with its NUL
                               "\xC2\x80\xE2\x80\xAE\xED\xA0\x80\xF0\x9F\x98\x80\xFF\xC0";
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    std::size_t len = rng() % 24;
    for (std::size_t k = 0; k < len; ++k) {
      if (rng() % 4 == 0)
        s.push_back(static_cast<char>(rng() % 256));
      else
        s.push_back(alphabet[rng() % alphabet.size()]);
    }
    SCOPED_TRACE(::testing::PrintToString(s));
    expectRoundTrip(s);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(JsonLog, LineHasIsoTimestampWithMillisecondsAndOffsetAndLevel) {
  JsonLineFormatter f;
  for (auto [level, name] : {std::pair{spdlog::level::info, "info"},
                             {spdlog::level::warn, "warning"},
                             {spdlog::level::err, "error"}}) {
    json j = parseLine(formatLine(f, "\"event\":\"stats\",\"frames\":1", level));
    static const std::regex kIso(
        R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}([+-]\d{2}:\d{2}|Z)$)");
    EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(), kIso)) << j["ts"];
    EXPECT_EQ(j["level"], name);
    EXPECT_EQ(j["frames"], 1);
  }
}

TEST(JsonLog, TextLinesOfOtherCallSitesAreWrappedWithTheirPeer) {
  JsonLineFormatter f;
  json j = parseLine(formatLine(
      f, "[tcp server] frame too large: ip=::1, port=5000, length=9 (first bytes \"GE\\x00\")",
      spdlog::level::warn));
  EXPECT_EQ(j["event"], "warning");
  EXPECT_EQ(j["ip"], "::1");
  EXPECT_EQ(j["port"], 5000);
  EXPECT_EQ(j["message"], "frame too large: ip=::1, port=5000, length=9 (first bytes \"GE\\x00\")");
  j = parseLine(formatLine(f, "[tcp server] shutting down on SIGTERM"));
  EXPECT_EQ(j["event"], "notice");
  EXPECT_FALSE(j.contains("ip"));
  j = parseLine(formatLine(f, "", spdlog::level::err));
  EXPECT_EQ(j["event"], "error");
  j = parseLine(formatLine(f, "raw \xff bytes\n", spdlog::level::warn));
  EXPECT_EQ(j["message"], "raw \\xff bytes\n");
}

TEST(JsonLog, ConnectedDetailsInTextAndJson) {
  PeerAddress p = peer4();
  LogEvents text(LogFormat::kText);
  std::string out;
  text.appendConnected(out, p, {});
  EXPECT_EQ(out, "[tcp server] client connected: ip=203.0.113.7, port=41000");
  out.clear();
  text.appendConnected(out, p, {"127.0.0.1:51234", "", ""});
  EXPECT_EQ(out, "[tcp server] client connected: ip=203.0.113.7, port=41000 (via=127.0.0.1:51234)");
  out.clear();
  text.appendConnected(out, p, {"10.0.0.2:1", "TLSv1.3", "CN=client\n\"x\""});
  EXPECT_EQ(out,
            "[tcp server] client connected: ip=203.0.113.7, port=41000 (via=10.0.0.2:1, "
            "tls=TLSv1.3, subject=CN=client\\n\"x\")");
  out.clear();
  text.appendConnected(out, p, {"", "TLSv1.2", ""});
  EXPECT_EQ(out, "[tcp server] client connected: ip=203.0.113.7, port=41000 (tls=TLSv1.2)");

  LogEvents js(LogFormat::kJson);
  JsonLineFormatter f;
  out.clear();
  js.appendConnected(out, p, {"10.0.0.2:1", "TLSv1.3", "CN=client\n\"x\""});
  json j = parseLine(formatLine(f, out));
  EXPECT_EQ(j["event"], "connected");
  EXPECT_EQ(j["ip"], "203.0.113.7");
  EXPECT_EQ(j["port"], 41000);
  EXPECT_EQ(j["via"], "10.0.0.2:1");
  EXPECT_EQ(j["tls"], "TLSv1.3");
  EXPECT_EQ(j["subject"], "CN=client\n\"x\"");
  out.clear();
  js.appendConnected(out, PeerAddress{"::1", 9, true}, {});
  j = parseLine(formatLine(f, out));
  EXPECT_FALSE(j.contains("via"));
  EXPECT_EQ(j["ip"], "::1");
}

TEST(JsonLog, DisconnectedTextIsTheClassicLineAndJsonHasNumbers) {
  PeerAddress p{"::1", 55244, true};
  DisconnectedDetails d{"peer closed", 4, 82, 1.2041, 0};
  std::string out;
  LogEvents(LogFormat::kText).appendDisconnected(out, p, d);
  EXPECT_EQ(out,
            "[tcp server] client disconnected: ip=::1, port=55244 (reason=peer closed, frames=4, "
            "bytes=82, duration=1.204s)");
  d.unfinishedBytes = 7;
  out.clear();
  LogEvents(LogFormat::kText).appendDisconnected(out, p, d);
  EXPECT_TRUE(out.ends_with("duration=1.204s, unfinished=7 bytes)")) << out;
  out.clear();
  LogEvents(LogFormat::kJson).appendDisconnected(out, p, d);
  JsonLineFormatter f;
  json j = parseLine(formatLine(f, out));
  EXPECT_EQ(j["event"], "disconnected");
  EXPECT_EQ(j["reason"], "peer closed");
  EXPECT_TRUE(j["frames"].is_number_integer());
  EXPECT_EQ(j["frames"], 4);
  EXPECT_EQ(j["bytes"], 82);
  EXPECT_TRUE(j["duration_s"].is_number());
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 1.204);
  EXPECT_EQ(j["unfinished_bytes"], 7);
}

TEST(JsonLog, MessageTextModeIsTheClassicLine) {
  LogEvents text(LogFormat::kText);
  PayloadRenderer renderer;
  std::string line = text.messagePrefix(PeerAddress{"::1", 55244, true});
  std::string_view payload = "안녕\n\"";
  text.appendMessage(line, renderer, std::as_bytes(std::span(payload.data(), payload.size())), 0);
  EXPECT_EQ(line, "[tcp/[::1]:55244] 안녕\\n\"");
}

TEST(JsonLog, StatsAndListeningBecomeNumbersAndStrings) {
  const std::string stats =
      "connections=0, accepted=1, refused=0, frames=2, bytes=28, errors=0, frames_per_s=0, "
      "mb_per_s=0.00, log_lost_bytes=0, uptime=8.9s, final=true";
  std::string out;
  LogEvents(LogFormat::kText).appendStats(out, stats);
  EXPECT_EQ(out, "[tcp server] stats: " + stats);
  out.clear();
  LogEvents(LogFormat::kJson).appendStats(out, stats);
  JsonLineFormatter f;
  json j = parseLine(formatLine(f, out));
  EXPECT_EQ(j["event"], "stats");
  EXPECT_EQ(j["accepted"], 1);
  EXPECT_EQ(j["bytes"], 28);
  EXPECT_DOUBLE_EQ(j["mb_per_s"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["uptime_s"].get<double>(), 8.9);
  EXPECT_EQ(j["final"], true);

  const std::string details =
      "workers=2, accept=reuseport, max-frame=1048576, echo=off, proxy-protocol=v2 from "
      "127.0.0.0/8,::1/128, log-file=/var/log/a \"b\".log, max-connections=unlimited, pid=42";
  out.clear();
  LogEvents(LogFormat::kText).appendListening(out, "[::]:9000", 9000, details);
  EXPECT_EQ(out, "[tcp server] listening on [::]:9000 (" + details + ")");
  out.clear();
  LogEvents(LogFormat::kJson).appendListening(out, "[::]:9000", 9000, details);
  j = parseLine(formatLine(f, out));
  EXPECT_EQ(j["event"], "listening");
  EXPECT_EQ(j["address"], "[::]:9000");
  EXPECT_EQ(j["port"], 9000);
  EXPECT_EQ(j["workers"], 2);
  EXPECT_EQ(j["max_frame"], 1048576);
  EXPECT_EQ(j["proxy_protocol"], "v2 from 127.0.0.0/8,::1/128");
  EXPECT_EQ(j["log_file"], "/var/log/a \"b\".log");
  EXPECT_EQ(j["max_connections"], "unlimited");
}

TEST(JsonText, EscapedStringsParseBackForEveryAsciiByte) {
  for (int c = 0; c < 0x80; ++c) {
    std::string s = "x" + std::string(1, static_cast<char>(c)) + "y";
    std::string out = "\"";
    appendJsonEscaped(s, out);
    out += "\"";
    EXPECT_EQ(json::parse(out).get<std::string>(), s) << c;
  }
}

}  // namespace
}  // namespace uvframe
