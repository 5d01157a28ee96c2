// libFuzzer target: ProxyHeaderParser fed the stream whole, then again in
// pieces of fuzzer-chosen sizes (as reads arrive); the status, the bytes
// consumed, the error and the parsed header must agree. Also: no feed
// consumes more than it was given, nothing is consumed after kDone/kError,
// a feed that leaves kNeedMore consumed all it was given, and on kDone the
// bytes consumed are the header's size and the header is what the stream
// shows (its v1 line ends in CRLF within 107 bytes; its v2 length field and
// addresses match the bytes).
//
// Input layout:
//   byte 0     accepted versions: (byte % 3) + 1 (kV1, kV2, kAny)
//   bytes 1-4  four piece sizes (byte + 1), used in turn; 0xFF = 4096
//   rest       the byte stream a proxy sends
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "proxy_header.h"

namespace {

using uvframe::ProxyHeader;
using uvframe::ProxyHeaderParser;
using uvframe::ProxyVersions;
using Status = ProxyHeaderParser::Status;

constexpr std::size_t kParamBytes = 5;
constexpr std::uint8_t kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Outcome {
  Status status = Status::kNeedMore;
  std::size_t consumed = 0;
  ProxyHeader header;
  std::string error;
};

bool samePeer(const std::optional<uvframe::PeerAddress>& a,
              const std::optional<uvframe::PeerAddress>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->ip == b->ip && a->port == b->port && a->isIpv6 == b->isIpv6);
}

Outcome feed(ProxyVersions accepted, std::span<const std::byte> stream,
             const std::size_t (&pieces)[4]) {
  ProxyHeaderParser parser(accepted);
  Outcome out;
  std::size_t pos = 0, reads = 0;
  while (pos < stream.size()) {
    std::size_t n = std::min(pieces[reads++ % 4], stream.size() - pos);
    const bool ended = parser.status() != Status::kNeedMore;
    std::size_t used = parser.feed(stream.subspan(pos, n));
    check(used <= n);
    if (ended) check(used == 0);
    if (parser.status() == Status::kNeedMore) check(used == n);
    out.consumed += used;
    pos += n;
  }
  if (parser.status() != Status::kNeedMore) check(parser.feed(stream) == 0);
  out.status = parser.status();
  out.header = parser.result();
  out.error = std::string(parser.error());
  return out;
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// What an IPv4 address block's bytes say, as the server would render them.
std::string dottedQuad(const std::uint8_t* p) {
  char text[16];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  return text;
}

// A done header against the stream it came from.
void checkHeader(const ProxyHeader& h, const std::uint8_t* s, std::size_t size) {
  check(h.headerBytes <= size);
  check(h.source.has_value() == h.destination.has_value());
  check(h.local != h.source.has_value());
  if (h.version == 1) {
    check(h.headerBytes >= 15 && h.headerBytes <= ProxyHeaderParser::kV1MaxBytes);
    check(std::memcmp(s, "PROXY ", 6) == 0);
    check(s[h.headerBytes - 2] == '\r' && s[h.headerBytes - 1] == '\n');
    std::string_view line(reinterpret_cast<const char*>(s), h.headerBytes - 2);
    check(line.find('\n') == std::string_view::npos && line.find('\r') == line.npos);
    if (h.local) {
      check(line.substr(6, 7) == "UNKNOWN");
    } else {
      check(line.find(std::to_string(h.source->port)) != line.npos);
      check(line.find(std::to_string(h.destination->port)) != line.npos);
      if (!h.source->isIpv6 && line.substr(6, 4) == "TCP4") {
        check(line.find(h.source->ip) != line.npos);
      }
    }
    return;
  }
  check(h.version == 2);
  check(std::memcmp(s, kV2Signature, sizeof kV2Signature) == 0);
  check((s[12] >> 4) == 2);
  check(h.headerBytes == ProxyHeaderParser::kV2FixedBytes + be16(s + 14));
  if (h.local) return;
  const std::uint8_t* a = s + ProxyHeaderParser::kV2FixedBytes;
  if (s[13] == 0x11) {
    check(h.source->ip == dottedQuad(a) && h.destination->ip == dottedQuad(a + 4));
    check(h.source->port == be16(a + 8) && h.destination->port == be16(a + 10));
    check(!h.source->isIpv6 && !h.destination->isIpv6);
  } else {
    check(s[13] == 0x21);
    check(h.source->port == be16(a + 32) && h.destination->port == be16(a + 34));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kParamBytes) return 0;
  const auto accepted = static_cast<ProxyVersions>(data[0] % 3 + 1);
  std::size_t pieces[4];
  for (std::size_t i = 0; i < 4; ++i) {
    pieces[i] = data[1 + i] == 0xFF ? 4096 : std::size_t{data[1 + i]} + 1;
  }
  const std::uint8_t* s = data + kParamBytes;
  const std::size_t n = size - kParamBytes;
  const auto stream = std::as_bytes(std::span(s, n));

  const std::size_t whole[4] = {n + 1, n + 1, n + 1, n + 1};
  const Outcome a = feed(accepted, stream, whole);
  const Outcome b = feed(accepted, stream, pieces);
  check(a.status == b.status && a.consumed == b.consumed && a.error == b.error);
  check(a.header.version == b.header.version && a.header.local == b.header.local);
  check(a.header.headerBytes == b.header.headerBytes);
  check(samePeer(a.header.source, b.header.source));
  check(samePeer(a.header.destination, b.header.destination));

  check(a.consumed <= n);
  check(a.error.empty() == (a.status != Status::kError));
  if (a.status == Status::kNeedMore) check(a.consumed == n);
  if (a.status == Status::kDone) {
    check(a.consumed == a.header.headerBytes);
    checkHeader(a.header, s, n);
  } else {
    check(a.header.version == 0 && a.header.headerBytes == 0);
  }
  return 0;
}
