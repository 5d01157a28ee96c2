// Unit tests for common/proxy_header: v1 lines (TCP4, TCP6, UNKNOWN, the
// 107-byte limit, strict numbers and separators), v2 headers (PROXY over IPv4
// and IPv6, LOCAL, UNSPEC, TLVs skipped, the largest length, refused families,
// versions and commands), which versions are accepted, what is not a PROXY
// header at all (HTTP, TLS, garbage), and that the parser consumes exactly the
// header. Every input is also fed one byte at a time, in fixed pieces and in
// every two-piece cut, and must give the same result as when fed whole.
#include "proxy_header.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test_bytes.h"

namespace uvframe {
namespace {

using test::asBytes;
using Status = ProxyHeaderParser::Status;

// What a parser said after being fed a stream.
struct Outcome {
  Status status = Status::kNeedMore;
  std::size_t consumed = 0;
  ProxyHeader header;
  std::string error;
};

bool samePeer(const std::optional<PeerAddress>& a, const std::optional<PeerAddress>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->ip == b->ip && a->port == b->port && a->isIpv6 == b->isIpv6);
}

void expectSame(const Outcome& a, const Outcome& b, const std::string& how) {
  SCOPED_TRACE(how);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.consumed, b.consumed);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.header.version, b.header.version);
  EXPECT_EQ(a.header.local, b.header.local);
  EXPECT_EQ(a.header.headerBytes, b.header.headerBytes);
  EXPECT_TRUE(samePeer(a.header.source, b.header.source));
  EXPECT_TRUE(samePeer(a.header.destination, b.header.destination));
}

// Feeds stream in pieces: at `cut` first (if any), then `piece` bytes at a time.
Outcome feedPieces(ProxyVersions accepted, std::string_view stream, std::size_t piece,
                   std::size_t cut = 0) {
  ProxyHeaderParser parser(accepted);
  Outcome out;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t n = std::min(pos == 0 && cut > 0 ? cut : piece, stream.size() - pos);
    bool wasDone = parser.status() != Status::kNeedMore;
    std::size_t used = parser.feed(asBytes(stream.substr(pos, n)));
    EXPECT_LE(used, n);
    if (wasDone) {
      EXPECT_EQ(used, 0u);
    }
    if (parser.status() == Status::kNeedMore) {
      EXPECT_EQ(used, n);
    }
    out.consumed += used;
    pos += n;
  }
  out.status = parser.status();
  out.header = parser.result();
  out.error = std::string(parser.error());
  return out;
}

// The outcome of the whole stream, checked against byte-at-a-time feeding,
// fixed pieces and (for short streams) every two-piece cut.
Outcome parse(std::string_view stream, ProxyVersions accepted = ProxyVersions::kAny) {
  Outcome whole = feedPieces(accepted, stream, std::max<std::size_t>(stream.size(), 1));
  expectSame(whole, feedPieces(accepted, stream, 1), "one byte at a time");
  for (std::size_t piece : {2, 3, 7, 16, 17, 64}) {
    expectSame(whole, feedPieces(accepted, stream, piece), "pieces of " + std::to_string(piece));
  }
  if (stream.size() <= 300) {
    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
      expectSame(whole, feedPieces(accepted, stream, stream.size(), cut),
                 "cut at " + std::to_string(cut));
    }
  }
  if (whole.status == Status::kDone) {
    EXPECT_EQ(whole.consumed, whole.header.headerBytes);
    EXPECT_TRUE(whole.error.empty());
  } else if (whole.status == Status::kError) {
    EXPECT_FALSE(whole.error.empty());
  } else {
    EXPECT_EQ(whole.consumed, stream.size());
  }
  return whole;
}

void expectPeer(const std::optional<PeerAddress>& peer, std::string_view ip, std::uint16_t port,
                bool isIpv6) {
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->ip, ip);
  EXPECT_EQ(peer->port, port);
  EXPECT_EQ(peer->isIpv6, isIpv6);
}

// Expects stream to be refused with `why` after `consumed` bytes.
void expectError(std::string_view stream, std::string_view why, std::size_t consumed,
                 ProxyVersions accepted = ProxyVersions::kAny) {
  SCOPED_TRACE(std::string(stream));
  Outcome r = parse(stream, accepted);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.error, why);
  EXPECT_EQ(r.consumed, consumed);
  EXPECT_EQ(r.header.version, 0);
}

// ---- v2 builders -------------------------------------------------------------

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(unsigned v) {
  return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

// A v2 header: signature, ver/cmd, fam, then body with its length (or `length`).
std::string v2(std::uint8_t verCmd, std::uint8_t fam, std::string_view body,
               std::optional<unsigned> length = std::nullopt) {
  std::string s = kSignature;
  s.push_back(static_cast<char>(verCmd));
  s.push_back(static_cast<char>(fam));
  s += be16(length.value_or(static_cast<unsigned>(body.size())));
  s += body;
  return s;
}

std::string bytes(std::initializer_list<unsigned> values) {
  std::string s;
  for (unsigned v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

// 203.0.113.7:41000 -> 192.0.2.1:9000
const std::string kIpv4Block = bytes({203, 0, 113, 7, 192, 0, 2, 1}) + be16(41000) + be16(9000);

// 2001:db8::1:41000 -> 2001:db8::2:443
std::string ipv6Block() {
  std::string src = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  std::string dst = src;
  dst[15] = 2;
  return src + dst + be16(41000) + be16(443);
}

// A TLV: type, 2-byte length, value.
std::string tlv(std::uint8_t type, std::string_view value) {
  return static_cast<char>(type) + be16(static_cast<unsigned>(value.size())) + std::string(value);
}

// ---- v1 ----------------------------------------------------------------------

TEST(ProxyHeaderV1, Tcp4) {
  std::string line = "PROXY TCP4 203.0.113.7 192.0.2.1 41000 9000\r\n";
  Outcome r = parse(line);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.version, 1);
  EXPECT_FALSE(r.header.local);
  EXPECT_EQ(r.header.headerBytes, line.size());
  EXPECT_EQ(r.consumed, line.size());
  expectPeer(r.header.source, "203.0.113.7", 41000, false);
  expectPeer(r.header.destination, "192.0.2.1", 9000, false);
  EXPECT_EQ(r.header.source->hostPort(), "203.0.113.7:41000");
}

TEST(ProxyHeaderV1, Tcp6RendersLikeASocketPeer) {
  Outcome r = parse("PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 41000 443\r\n");
  ASSERT_EQ(r.status, Status::kDone);
  expectPeer(r.header.source, "2001:db8::1", 41000, true);
  expectPeer(r.header.destination, "2001:db8::2", 443, true);
  EXPECT_EQ(r.header.source->hostPort(), "[2001:db8::1]:41000");
}

TEST(ProxyHeaderV1, Tcp6Ipv4MappedShownAsIpv4) {
  Outcome r = parse("PROXY TCP6 ::ffff:203.0.113.7 ::1 1 2\r\n");
  ASSERT_EQ(r.status, Status::kDone);
  expectPeer(r.header.source, "203.0.113.7", 1, false);
  expectPeer(r.header.destination, "::1", 2, true);
}

TEST(ProxyHeaderV1, PortsZeroAndMax) {
  Outcome r = parse("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
  ASSERT_EQ(r.status, Status::kDone);
  expectPeer(r.header.source, "0.0.0.0", 0, false);
  expectPeer(r.header.destination, "255.255.255.255", 65535, false);
}

TEST(ProxyHeaderV1, UnknownKeepsSocketAddress) {
  Outcome r = parse("PROXY UNKNOWN\r\n");
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.version, 1);
  EXPECT_TRUE(r.header.local);
  EXPECT_FALSE(r.header.source);
  EXPECT_FALSE(r.header.destination);
  EXPECT_EQ(r.header.headerBytes, 15u);
}

TEST(ProxyHeaderV1, UnknownIgnoresAnythingBeforeCrlf) {
  std::string line = std::string("PROXY UNKNOWN whatever \x01\x7f\0 x  y\r\n", 33);
  Outcome r = parse(line);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_TRUE(r.header.local);
  EXPECT_EQ(r.header.headerBytes, line.size());
}

TEST(ProxyHeaderV1, LongestLinesAccepted) {
  std::string f(39, 'f');
  for (std::size_t i = 4; i < f.size(); i += 5)
    f[i] = ':';
  std::string tcp6 = "PROXY TCP6 " + f + " " + f + " 65535 65535\r\n";
  ASSERT_EQ(tcp6.size(), 104u);
  Outcome r = parse(tcp6);
  ASSERT_EQ(r.status, Status::kDone);
  expectPeer(r.header.source, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, true);

  std::string unknown = "PROXY UNKNOWN " + f + " " + f + " 65535 65535\r\n";
  ASSERT_EQ(unknown.size(), 107u);
  r = parse(unknown);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.headerBytes, 107u);
}

TEST(ProxyHeaderV1, LongerThan107BytesRefused) {
  std::string f(39, 'f');
  std::string line = "PROXY UNKNOWN " + f + " " + f + " 65535 655355\r\n";
  ASSERT_EQ(line.size(), 108u);
  // Refused at the 107th byte: it is not the LF that would end the line there.
  expectError(line, "v1 header longer than 107 bytes", 107);
  expectError("PROXY " + std::string(200, 'A'), "v1 header longer than 107 bytes", 107);
  // A CR as the 107th byte cannot be followed by an LF within 107 bytes.
  std::string crAt107 = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  ASSERT_EQ(crAt107.size(), 108u);
  expectError(crAt107, "v1 header longer than 107 bytes", 107);
}

TEST(ProxyHeaderV1, FollowedByFrameBytes) {
  std::string line = "PROXY TCP4 198.18.0.5 127.0.0.1 5000 9000\r\n";
  std::string frames = bytes({0, 0, 0, 5}) + "hello" + bytes({0, 0, 0, 0});
  Outcome r = parse(line + frames);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.consumed, line.size());
  EXPECT_EQ(r.header.headerBytes, line.size());
  expectPeer(r.header.source, "198.18.0.5", 5000, false);
}

TEST(ProxyHeaderV1, MalformedLinesRefused) {
  struct Case {
    std::string line;
    std::string_view why;
  };
  const Case cases[] = {
      {"PROXY\r\n", "v1 missing space after PROXY"},
      {"PROXYTCP4 1.2.3.4 1.2.3.4 1 2\r\n", "v1 missing space after PROXY"},
      {"PROXY \r\n", "v1 unknown protocol"},
      {"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "v1 unknown protocol"},
      {"PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", "v1 unknown protocol"},
      {"PROXY UNKNOWNX\r\n", "v1 unknown protocol"},
      {"PROXY TCP4\r\n", "v1 too few fields"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "v1 too few fields"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "v1 too many fields"},
      {"PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n", "v1 unknown protocol"},
      {"PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n", "v1 fields not separated by single spaces"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n", "v1 fields not separated by single spaces"},
      {"PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n", "v1 too few fields"},
      {"PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 1.2.3.4.5 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 256.2.3.4 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 010.2.3.4 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 1..3.4 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 ::1 1.2.3.4 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP4 1.2.3.4 1.2.3.-4 1 2\r\n", "v1 bad destination address"},
      {"PROXY TCP4 1.2.3.4 localhost 1 2\r\n", "v1 bad destination address"},
      {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP6 ::1 ::1%eth0 1 2\r\n", "v1 bad destination address"},
      {"PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", "v1 bad source address"},
      {"PROXY TCP6 ::1 [::1] 1 2\r\n", "v1 bad destination address"},
      {std::string("PROXY TCP4 1.2.3.4\0 1.2.3.4 1 2\r\n", 33), "v1 bad source address"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 100000 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 0x10 2\r\n", "v1 bad source port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 1 99999\r\n", "v1 bad destination port"},
      {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2a\r\n", "v1 bad destination port"},
  };
  for (const Case& c : cases)
    expectError(c.line, c.why, c.line.size());
}

TEST(ProxyHeaderV1, LoneCrOrLfRefusedAtOnce) {
  expectError("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", "v1 LF without CR", 31);
  expectError("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX\n", "v1 CR not followed by LF", 32);
  expectError("PROXY UNKNOWN\r\r\n", "v1 CR not followed by LF", 15);
}

TEST(ProxyHeaderV1, PrefixMismatchRefusedAtOnce) {
  expectError("POST / HTTP/1.1\r\n", "not a PROXY protocol header", 2);
  expectError("PROXx TCP4", "not a PROXY protocol header", 5);
}

TEST(ProxyHeaderV1, TruncatedLineNeedsMore) {
  std::string line = "PROXY TCP6 2001:db8::1 2001:db8::2 41000 443\r\n";
  for (std::size_t n = 0; n < line.size(); ++n) {
    Outcome r = parse(std::string_view(line).substr(0, n));
    EXPECT_EQ(r.status, Status::kNeedMore) << n;
    EXPECT_EQ(r.consumed, n);
    EXPECT_TRUE(r.error.empty());
  }
}

// ---- v2 ----------------------------------------------------------------------

TEST(ProxyHeaderV2, ProxyOverIpv4) {
  std::string h = v2(0x21, 0x11, kIpv4Block);
  Outcome r = parse(h);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.version, 2);
  EXPECT_FALSE(r.header.local);
  EXPECT_EQ(r.header.headerBytes, 28u);
  expectPeer(r.header.source, "203.0.113.7", 41000, false);
  expectPeer(r.header.destination, "192.0.2.1", 9000, false);
}

TEST(ProxyHeaderV2, ProxyOverIpv6WithTlvs) {
  std::string tlvs = tlv(0x01, "h2") + tlv(0x02, "example.com") + tlv(0x04, "") +
                     tlv(0x20, bytes({1, 0, 0, 0, 0}) + tlv(0x21, "TLSv1.3")) +
                     tlv(0xE0, std::string(300, 'z'));
  std::string h = v2(0x21, 0x21, ipv6Block() + tlvs);
  Outcome r = parse(h);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.headerBytes, 16 + 36 + tlvs.size());
  expectPeer(r.header.source, "2001:db8::1", 41000, true);
  expectPeer(r.header.destination, "2001:db8::2", 443, true);
}

TEST(ProxyHeaderV2, TlvBytesNeedNotBeWellFormed) {
  // The TLVs are skipped whole, never parsed: a broken one is still skipped.
  std::string h = v2(0x21, 0x11, kIpv4Block + bytes({0x01, 0xFF, 0xFF, 0x00}));
  Outcome r = parse(h);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.headerBytes, h.size());
}

TEST(ProxyHeaderV2, Ipv4MappedIpv6ShownAsIpv4) {
  std::string block = bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 18, 0, 9}) +
                      bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) + be16(7) + be16(8);
  Outcome r = parse(v2(0x21, 0x21, block));
  ASSERT_EQ(r.status, Status::kDone);
  expectPeer(r.header.source, "198.18.0.9", 7, false);
  expectPeer(r.header.destination, "::1", 8, true);
}

TEST(ProxyHeaderV2, LocalKeepsSocketAddress) {
  Outcome r = parse(v2(0x20, 0x00, ""));
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.header.version, 2);
  EXPECT_TRUE(r.header.local);
  EXPECT_FALSE(r.header.source);
  EXPECT_EQ(r.header.headerBytes, 16u);
  // LOCAL ignores the family byte and skips whatever its length announces.
  std::string h = v2(0x20, 0xFF, kIpv4Block + tlv(0x04, "pad"));
  r = parse(h);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_TRUE(r.header.local);
  EXPECT_EQ(r.header.headerBytes, h.size());
}

TEST(ProxyHeaderV2, UnspecTreatedAsLocal) {
  for (std::uint8_t fam : {0x00, 0x01, 0x10, 0x20}) {
    std::string h = v2(0x21, fam, kIpv4Block);
    Outcome r = parse(h);
    ASSERT_EQ(r.status, Status::kDone) << int{fam};
    EXPECT_TRUE(r.header.local);
    EXPECT_FALSE(r.header.source);
    EXPECT_EQ(r.header.headerBytes, h.size());
  }
}

TEST(ProxyHeaderV2, FollowedByFrameBytes) {
  std::string h = v2(0x21, 0x11, kIpv4Block + tlv(0x05, "id-1"));
  std::string frames = bytes({0, 0, 0, 3}) + "abc";
  Outcome r = parse(h + frames);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.consumed, h.size());
  EXPECT_EQ(r.header.headerBytes, h.size());
}

TEST(ProxyHeaderV2, LargestHeaderFedInChunks) {
  std::string tlvs(65535 - 36, '\0');
  for (std::size_t i = 0; i < tlvs.size(); ++i)
    tlvs[i] = static_cast<char>(i * 7);
  std::string h = v2(0x21, 0x21, ipv6Block() + tlvs);
  ASSERT_EQ(h.size(), 16u + 65535u);
  std::string stream = h + bytes({0, 0, 0, 1}) + "x";
  Outcome r = parse(stream);  // whole, byte at a time, 2..64-byte pieces
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.consumed, h.size());
  EXPECT_EQ(r.header.headerBytes, 65551u);
  expectPeer(r.header.source, "2001:db8::1", 41000, true);
  for (std::size_t piece : {1000, 4096, 65536}) {
    expectSame(r, feedPieces(ProxyVersions::kAny, stream, piece), std::to_string(piece));
  }
  // The parser stores none of it: its size does not depend on the length.
  EXPECT_LT(sizeof(ProxyHeaderParser), 512u);
}

TEST(ProxyHeaderV2, RefusedVersionsAndCommands) {
  expectError(v2(0x31, 0x11, kIpv4Block), "v2 version 3", 13);
  expectError(v2(0x11, 0x11, kIpv4Block), "v2 version 1", 13);
  expectError(v2(0x01, 0x11, kIpv4Block), "v2 version 0", 13);
  expectError(v2(0x22, 0x11, kIpv4Block), "v2 unknown command 2", 13);
  expectError(v2(0x2F, 0x11, kIpv4Block), "v2 unknown command 15", 13);
}

TEST(ProxyHeaderV2, RefusedFamiliesAndTransports) {
  expectError(v2(0x21, 0x31, std::string(216, 'u')), "v2 address family UNIX not supported", 14);
  expectError(v2(0x21, 0x32, std::string(216, 'u')), "v2 address family UNIX not supported", 14);
  expectError(v2(0x21, 0x12, kIpv4Block), "v2 transport DGRAM (UDP) not supported", 14);
  expectError(v2(0x21, 0x22, ipv6Block()), "v2 transport DGRAM (UDP) not supported", 14);
  expectError(v2(0x21, 0x41, kIpv4Block), "v2 address family 4 invalid", 14);
  expectError(v2(0x21, 0xF0, kIpv4Block), "v2 address family 15 invalid", 14);
  expectError(v2(0x21, 0x13, kIpv4Block), "v2 transport protocol 3 invalid", 14);
}

TEST(ProxyHeaderV2, AddressBlockShorterThanFamilyRefused) {
  expectError(v2(0x21, 0x11, kIpv4Block.substr(0, 11)),
              "v2 address block of 11 bytes too short for IPv4", 16);
  expectError(v2(0x21, 0x11, ""), "v2 address block of 0 bytes too short for IPv4", 16);
  expectError(v2(0x21, 0x21, kIpv4Block + std::string(23, '\0')),
              "v2 address block of 35 bytes too short for IPv6", 16);
}

TEST(ProxyHeaderV2, SignatureMismatchRefused) {
  std::string h = v2(0x21, 0x11, kIpv4Block);
  for (std::size_t i = 1; i < 12; ++i) {
    std::string bad = h;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    expectError(bad, "not a PROXY protocol header", i + 1);
  }
}

TEST(ProxyHeaderV2, TruncatedHeaderNeedsMore) {
  std::string h = v2(0x21, 0x21, ipv6Block() + tlv(0x02, "example.com"));
  for (std::size_t n = 0; n < h.size(); ++n) {
    Outcome r = parse(std::string_view(h).substr(0, n));
    EXPECT_EQ(r.status, Status::kNeedMore) << n;
    EXPECT_EQ(r.consumed, n);
  }
}

// ---- both --------------------------------------------------------------------

TEST(ProxyHeaderParser, NotAProxyHeaderRefusedAtFirstByte) {
  expectError("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a PROXY protocol header", 1);
  // A TLS ClientHello record: handshake, TLS 1.0 record version.
  expectError(bytes({0x16, 0x03, 0x01, 0x00, 0xF1, 0x01, 0x00, 0x00, 0xED, 0x03, 0x03}),
              "not a PROXY protocol header", 1);
  expectError(bytes({0x00, 0x00, 0x00, 0x05}) + "hello", "not a PROXY protocol header", 1);
  expectError("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n", "not a PROXY protocol header", 1);
  expectError(" PROXY UNKNOWN\r\n", "not a PROXY protocol header", 1);
  expectError("\n", "not a PROXY protocol header", 1);
  expectError("\r\n\r\nHTTP", "not a PROXY protocol header", 5);
}

TEST(ProxyHeaderParser, AcceptedVersions) {
  std::string line = "PROXY TCP4 203.0.113.7 192.0.2.1 41000 9000\r\n";
  std::string binary = v2(0x21, 0x11, kIpv4Block);
  for (ProxyVersions accepted : {ProxyVersions::kV1, ProxyVersions::kAny}) {
    Outcome r = parse(line, accepted);
    ASSERT_EQ(r.status, Status::kDone);
    EXPECT_EQ(r.header.version, 1);
  }
  for (ProxyVersions accepted : {ProxyVersions::kV2, ProxyVersions::kAny}) {
    Outcome r = parse(binary, accepted);
    ASSERT_EQ(r.status, Status::kDone);
    EXPECT_EQ(r.header.version, 2);
  }
  // Refused once the signature proves the other version.
  expectError(line, "v1 header not accepted (v2 only)", 5, ProxyVersions::kV2);
  expectError(binary, "v2 header not accepted (v1 only)", 12, ProxyVersions::kV1);
  expectError("GET /", "not a PROXY protocol header", 1, ProxyVersions::kV1);
  expectError("GET /", "not a PROXY protocol header", 1, ProxyVersions::kV2);
}

TEST(ProxyHeaderParser, NothingConsumedAfterTheEnd) {
  ProxyHeaderParser parser(ProxyVersions::kAny);
  EXPECT_EQ(parser.feed({}), 0u);
  EXPECT_EQ(parser.status(), Status::kNeedMore);
  EXPECT_TRUE(parser.error().empty());
  EXPECT_EQ(parser.feed(asBytes("PROXY UNKNOWN\r")), 14u);
  EXPECT_EQ(parser.feed(asBytes("\nmore")), 1u);
  EXPECT_EQ(parser.status(), Status::kDone);
  EXPECT_EQ(parser.feed(asBytes("PROXY UNKNOWN\r\n")), 0u);
  EXPECT_EQ(parser.result().headerBytes, 15u);

  ProxyHeaderParser refused(ProxyVersions::kAny);
  EXPECT_EQ(refused.feed(asBytes("XY")), 1u);
  EXPECT_EQ(refused.status(), Status::kError);
  EXPECT_EQ(refused.feed(asBytes("PROXY UNKNOWN\r\n")), 0u);
  EXPECT_EQ(refused.status(), Status::kError);
  EXPECT_EQ(refused.error(), "not a PROXY protocol header");
}

}  // namespace
}  // namespace uvframe
