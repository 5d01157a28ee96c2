// uvframe-loadgen --proxy-protocol v1|v2 on the wire, seen by a plain socket
// peer on 127.0.0.1 (the server's own PROXY support is tested with the
// server): each connection's first bytes are a valid PROXY header from a
// distinct 198.18.0.0/15 address to the peer's address, then the usual frames
// (conn=<id> seq=<n>, in order); without the option no header is sent.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "client_test_helpers.h"

namespace uvframe::test {
namespace {

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

struct ParsedHeader {
  std::string srcIp;
  unsigned srcPort = 0;
  std::string dstIp;
  unsigned dstPort = 0;
  std::size_t bytes = 0;  // header length
};

std::string ipv4Text(const unsigned char* b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

bool parseV1(const std::string& s, ParsedHeader& h) {
  auto end = s.find("\r\n");
  if (s.rfind("PROXY TCP4 ", 0) != 0 || end == std::string::npos || end > 105) return false;
  char src[16] = {}, dst[16] = {};
  std::string line = s.substr(0, end);
  if (std::sscanf(line.c_str(), "PROXY TCP4 %15s %15s %u %u", src, dst, &h.srcPort, &h.dstPort) !=
      4) {
    return false;
  }
  h.srcIp = src;
  h.dstIp = dst;
  h.bytes = end + 2;
  return line == "PROXY TCP4 " + h.srcIp + " " + h.dstIp + " " + std::to_string(h.srcPort) + " " +
                     std::to_string(h.dstPort);
}

bool parseV2(const std::string& s, ParsedHeader& h) {
  if (s.size() < 28 || s.compare(0, 12, kV2Signature) != 0) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  if (b[12] != 0x21 || b[13] != 0x11 || b[14] != 0 || b[15] != 12) return false;
  h.srcIp = ipv4Text(b + 16);
  h.dstIp = ipv4Text(b + 20);
  h.srcPort = b[24] * 256u + b[25];
  h.dstPort = b[26] * 256u + b[27];
  h.bytes = 28;
  return true;
}

/// The payloads of the little-endian frames in bytes; false if they do not
/// split into whole frames.
bool splitFrames(const std::string& bytes, std::vector<std::string>& payloads) {
  std::size_t at = 0;
  while (at + 4 <= bytes.size()) {
    std::uint32_t len = 0;
    std::memcpy(&len, bytes.data() + at, 4);  // x86/ARM little-endian test hosts
    if (at + 4 + len > bytes.size()) return false;
    payloads.push_back(bytes.substr(at + 4, len));
    at += 4 + len;
  }
  return at == bytes.size();
}

bool inBenchmarkRange(const std::string& ip) {
  return ip.rfind("198.18.", 0) == 0 || ip.rfind("198.19.", 0) == 0;
}

void checkProxyRun(const std::string& version) {
  constexpr std::size_t kConnections = 5;
  constexpr int kFrames = 4;
  RawListener peer;
  ChildProcess run({programPath("uvframe-loadgen"), "--port", std::to_string(peer.port()),
                    "--connections", std::to_string(kConnections), "--frames-per-connection",
                    std::to_string(kFrames), "--proxy-protocol", version, "--threads", "2",
                    "--progress-interval", "0"});
  auto streams = peer.acceptManyAndReadAll(kConnections, 30s);
  RunResult r = finishProgram(run);
  ASSERT_TRUE(streams) << r.output;
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find("PROXY " + version + " headers"), std::string::npos) << r.output;
  std::set<std::string> sources;
  std::set<std::string> conns;
  for (const std::string& bytes : *streams) {
    ParsedHeader h;
    ASSERT_TRUE(version == "v1" ? parseV1(bytes, h) : parseV2(bytes, h))
        << version << " header expected first: " << bytes.substr(0, 64);
    EXPECT_TRUE(inBenchmarkRange(h.srcIp)) << h.srcIp;
    EXPECT_GE(h.srcPort, 1024u);
    EXPECT_EQ(h.dstIp, "127.0.0.1");
    EXPECT_EQ(h.dstPort, peer.port());
    sources.insert(h.srcIp);
    std::vector<std::string> payloads;
    ASSERT_TRUE(splitFrames(bytes.substr(h.bytes), payloads)) << "whole frames after the header";
    ASSERT_EQ(payloads.size(), static_cast<std::size_t>(kFrames));
    std::string conn = payloads[0].substr(0, payloads[0].find(' '));
    ASSERT_EQ(conn.rfind("conn=", 0), 0u) << payloads[0];
    conns.insert(conn);
    // Connection id N is sent from 198.18.0.(N+1), port 1024 + N.
    auto id = std::stoul(conn.substr(5));
    EXPECT_EQ(h.srcIp, "198.18.0." + std::to_string(id + 1));
    EXPECT_EQ(h.srcPort, 1024 + id);
    for (int seq = 0; seq < kFrames; ++seq) {
      EXPECT_EQ(payloads[seq].rfind(conn + " seq=" + std::to_string(seq) + " ", 0), 0u)
          << payloads[seq];
    }
  }
  EXPECT_EQ(sources.size(), kConnections) << "a distinct client address per connection";
  EXPECT_EQ(conns.size(), kConnections);
}

TEST(LoadgenProxy, V1HeaderComesFirstThenTheFrames) {
  checkProxyRun("v1");
}

TEST(LoadgenProxy, V2HeaderComesFirstThenTheFrames) {
  checkProxyRun("v2");
}

TEST(LoadgenProxy, NoHeaderByDefault) {
  RawListener peer;
  ChildProcess run({programPath("uvframe-loadgen"), "--port", std::to_string(peer.port()),
                    "--connections", "1", "--frames-per-connection", "2", "--progress-interval",
                    "0"});
  auto bytes = peer.acceptAndReadAll(30s);
  RunResult r = finishProgram(run);
  ASSERT_TRUE(bytes) << r.output;
  std::vector<std::string> payloads;
  ASSERT_TRUE(splitFrames(*bytes, payloads));
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0].rfind("conn=0 seq=0 ", 0), 0u) << payloads[0];
}

TEST(LoadgenProxy, HelpAndJsonOptionsNameIt) {
  RunResult help = runProgram({programPath("uvframe-loadgen"), "--help"});
  EXPECT_NE(help.output.find("--proxy-protocol"), std::string::npos);
  EXPECT_NE(help.output.find("198.18.0.0/15"), std::string::npos);
  TempDir dir;
  std::string json = dir.file("run.json");
  RawListener peer;
  ChildProcess run({programPath("uvframe-loadgen"), "--port", std::to_string(peer.port()),
                    "--connections", "1", "--frames-per-connection", "1", "--proxy-protocol", "v2",
                    "--json", json, "--progress-interval", "0"});
  ASSERT_TRUE(peer.acceptAndReadAll(30s));
  RunResult r = finishProgram(run);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(readJson(json)["options"]["proxy_protocol"], "v2");
}

}  // namespace
}  // namespace uvframe::test
