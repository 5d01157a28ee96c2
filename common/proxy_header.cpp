// PROXY protocol header parser: see proxy_header.h. One byte at a time through
// a small state machine (the TLVs of a v2 header are skipped in bulk), so any
// cut of the input gives the same result as the whole input.
#include "proxy_header.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <algorithm>
#include <charconv>
#include <cstring>

namespace uvframe {

namespace {

constexpr std::string_view kV1Prefix = "PROXY";
constexpr std::array<std::uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2Ipv4AddressBytes = 2 * 4 + 2 * 2;
constexpr std::size_t kV2Ipv6AddressBytes = 2 * 16 + 2 * 2;
static_assert(ProxyHeaderParser::kV2FixedBytes + kV2Ipv6AddressBytes <=
              ProxyHeaderParser::kV1MaxBytes);

bool accepts(ProxyVersions accepted, int version) {
  return (static_cast<int>(accepted) & version) != 0;
}

// A port in v1 text: 1-5 decimal digits, no sign, no leading zero, <= 65535.
std::optional<std::uint16_t> parseV1Port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Exactly four decimal numbers 0-255 joined by single dots, no leading zeros
// (checked here rather than trusting every inet_pton to refuse "010.1.1.1").
bool isDottedQuad(std::string_view text) {
  std::size_t parts = 0;
  while (true) {
    std::size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    unsigned value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255 || ++parts > 4) return false;
    if (dot == std::string_view::npos) return parts == 4;
    text.remove_prefix(dot + 1);
  }
}

// A TCP4 (dotted quad) or TCP6 address in v1 text, rendered the way the
// server renders a socket's peer. Checked for its characters first, so an
// embedded NUL cannot cut it short for inet_pton.
std::optional<PeerAddress> parseV1Address(std::string_view text, bool ipv6, std::uint16_t port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (text.empty() || text.size() > (ipv6 ? sizeof buf - 1 : 15)) return std::nullopt;
  for (char c : text) {
    bool digit = c >= '0' && c <= '9';
    bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!(digit || c == '.' || (ipv6 && (hex || c == ':')))) return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  if (ipv6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    if (inet_pton(AF_INET6, buf, &sa.sin6_addr) != 1) return std::nullopt;
    return peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  }
  if (!isDottedQuad(text)) return std::nullopt;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, buf, &sa.sin_addr) != 1) return std::nullopt;
  return peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
}

// A v2 address (4 or 16 bytes) and port (2 bytes, big-endian), rendered.
std::optional<PeerAddress> v2Address(const char* addr, bool ipv6, const char* port) {
  std::uint16_t p = static_cast<std::uint16_t>(static_cast<unsigned char>(port[0]) << 8 |
                                               static_cast<unsigned char>(port[1]));
  if (ipv6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(p);
    std::memcpy(&sa.sin6_addr, addr, 16);
    return peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(p);
  std::memcpy(&sa.sin_addr, addr, 4);
  return peerFromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
}

}  // namespace

ProxyHeaderParser::ProxyHeaderParser(ProxyVersions accepted) : accepted_(accepted) {}

std::size_t ProxyHeaderParser::feed(std::span<const std::byte> bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && status_ == Status::kNeedMore) {
    if (stage_ == Stage::kV2Skip) {  // TLVs: counted, never stored
      std::size_t n = std::min(toSkip_, bytes.size() - i);
      toSkip_ -= n;
      i += n;
      consumed_ += n;
      if (toSkip_ == 0) finishV2();
      continue;
    }
    ++consumed_;
    step(static_cast<std::uint8_t>(bytes[i++]));
  }
  return i;
}

void ProxyHeaderParser::step(std::uint8_t b) {
  switch (stage_) {
    case Stage::kFirst:
      if (b == static_cast<std::uint8_t>(kV1Prefix[0])) {
        stage_ = Stage::kV1Prefix;
      } else if (b == kV2Signature[0]) {
        stage_ = Stage::kV2Fixed;
      } else {
        return fail("not a PROXY protocol header");
      }
      buf_[stored_++] = static_cast<char>(b);
      return;
    case Stage::kV1Prefix:
      if (b != static_cast<std::uint8_t>(kV1Prefix[stored_])) {
        return fail("not a PROXY protocol header");
      }
      buf_[stored_++] = static_cast<char>(b);
      if (stored_ == kV1Prefix.size()) {
        if (!accepts(accepted_, 1)) return fail("v1 header not accepted (v2 only)");
        stage_ = Stage::kV1Line;
      }
      return;
    case Stage::kV1Line:
      return stepV1Line(b);
    case Stage::kV2Fixed:
      return stepV2Fixed(b);
    case Stage::kV2Address:
      buf_[stored_++] = static_cast<char>(b);
      if (stored_ == kV2FixedBytes + addressBytes_) {
        if (toSkip_ == 0) return finishV2();
        stage_ = Stage::kV2Skip;
      }
      return;
    case Stage::kV2Skip:  // handled in bulk by feed()
      return;
  }
}

void ProxyHeaderParser::stepV1Line(std::uint8_t b) {
  if (buf_[stored_ - 1] == '\r') {
    if (b != '\n') return fail("v1 CR not followed by LF");
    buf_[stored_++] = static_cast<char>(b);
    return finishV1();
  }
  if (b == '\n') return fail("v1 LF without CR");
  buf_[stored_++] = static_cast<char>(b);
  // The 107th byte can only be the final LF (handled above).
  if (stored_ == kV1MaxBytes) return fail("v1 header longer than 107 bytes");
}

void ProxyHeaderParser::stepV2Fixed(std::uint8_t b) {
  const std::size_t at = stored_;
  buf_[stored_++] = static_cast<char>(b);
  if (at < kV2Signature.size()) {
    if (b != kV2Signature[at]) return fail("not a PROXY protocol header");
    if (at + 1 == kV2Signature.size() && !accepts(accepted_, 2)) {
      return fail("v2 header not accepted (v1 only)");
    }
    return;
  }
  if (at == 12) {  // version and command
    unsigned version = b >> 4, command = b & 0x0F;
    if (version != 2) return failWithNumber("v2 version ", version, "");
    if (command > 1) return failWithNumber("v2 unknown command ", command, "");
    v2Local_ = command == 0;
    return;
  }
  if (at == 13) {  // address family and transport protocol; ignored for LOCAL
    if (v2Local_) return;
    unsigned family = b >> 4, transport = b & 0x0F;
    if (family > 3) return failWithNumber("v2 address family ", family, " invalid");
    if (transport > 2) return failWithNumber("v2 transport protocol ", transport, " invalid");
    if (family == 0 || transport == 0) {
      v2Local_ = true;  // UNSPEC: the doc says ignore the address information
    } else if (family == 3) {
      return fail("v2 address family UNIX not supported");
    } else if (transport == 2) {
      return fail("v2 transport DGRAM (UDP) not supported");
    } else {
      v2Family_ = static_cast<std::uint8_t>(family);
    }
    return;
  }
  if (at == 15) {  // length: the address block, then TLVs
    std::size_t length = static_cast<std::size_t>(static_cast<unsigned char>(buf_[14]) << 8 |
                                                  static_cast<unsigned char>(buf_[15]));
    addressBytes_ = v2Local_ ? 0 : v2Family_ == 1 ? kV2Ipv4AddressBytes : kV2Ipv6AddressBytes;
    if (length < addressBytes_) {
      return failWithNumber(
          "v2 address block of ", static_cast<unsigned>(length),
          v2Family_ == 1 ? " bytes too short for IPv4" : " bytes too short for IPv6");
    }
    toSkip_ = length - addressBytes_;
    if (addressBytes_ > 0) {
      stage_ = Stage::kV2Address;
    } else if (toSkip_ > 0) {
      stage_ = Stage::kV2Skip;
    } else {
      finishV2();
    }
  }
}

void ProxyHeaderParser::finishV1() {
  // buf_ holds "PROXY...\r\n"; fields are separated by exactly one space.
  std::string_view rest(buf_.data() + kV1Prefix.size(), stored_ - kV1Prefix.size() - 2);
  if (rest.empty() || rest[0] != ' ') return fail("v1 missing space after PROXY");
  rest.remove_prefix(1);
  std::size_t space = rest.find(' ');
  std::string_view protocol = rest.substr(0, space);
  result_ = ProxyHeader{};
  result_.version = 1;
  result_.headerBytes = consumed_;
  if (protocol == "UNKNOWN") {  // anything may follow, up to the CRLF
    result_.local = true;
    status_ = Status::kDone;
    return;
  }
  if (protocol != "TCP4" && protocol != "TCP6") return fail("v1 unknown protocol");
  const bool ipv6 = protocol == "TCP6";
  std::array<std::string_view, 4> fields;
  std::size_t count = 0;
  while (space != std::string_view::npos) {
    rest.remove_prefix(space + 1);
    space = rest.find(' ');
    std::string_view field = rest.substr(0, space);
    if (field.empty()) return fail("v1 fields not separated by single spaces");
    if (count == fields.size()) return fail("v1 too many fields");
    fields[count++] = field;
  }
  if (count < fields.size()) return fail("v1 too few fields");
  auto sourcePort = parseV1Port(fields[2]);
  auto destinationPort = parseV1Port(fields[3]);
  auto source = parseV1Address(fields[0], ipv6, sourcePort.value_or(0));
  if (!source) return fail("v1 bad source address");
  auto destination = parseV1Address(fields[1], ipv6, destinationPort.value_or(0));
  if (!destination) return fail("v1 bad destination address");
  if (!sourcePort) return fail("v1 bad source port");
  if (!destinationPort) return fail("v1 bad destination port");
  result_.source = std::move(source);
  result_.destination = std::move(destination);
  status_ = Status::kDone;
}

void ProxyHeaderParser::finishV2() {
  result_ = ProxyHeader{};
  result_.version = 2;
  result_.local = v2Local_;
  result_.headerBytes = consumed_;
  if (!v2Local_) {
    const char* a = buf_.data() + kV2FixedBytes;
    const bool ipv6 = v2Family_ == 2;
    const std::size_t ipBytes = ipv6 ? 16 : 4;
    result_.source = v2Address(a, ipv6, a + 2 * ipBytes);
    result_.destination = v2Address(a + ipBytes, ipv6, a + 2 * ipBytes + 2);
    if (!result_.source || !result_.destination) return fail("v2 address not renderable");
  }
  status_ = Status::kDone;
}

void ProxyHeaderParser::fail(std::string_view why) {
  errorBytes_ = std::min(why.size(), errorText_.size());
  std::memcpy(errorText_.data(), why.data(), errorBytes_);
  result_ = ProxyHeader{};
  status_ = Status::kError;
}

void ProxyHeaderParser::failWithNumber(std::string_view prefix, unsigned n,
                                       std::string_view suffix) {
  char text[80];
  std::size_t len = std::min(prefix.size(), sizeof text);
  std::memcpy(text, prefix.data(), len);
  len = static_cast<std::size_t>(std::to_chars(text + len, text + sizeof text, n).ptr - text);
  std::size_t tail = std::min(suffix.size(), sizeof text - len);
  std::memcpy(text + len, suffix.data(), tail);
  fail({text, len + tail});
}

}  // namespace uvframe
