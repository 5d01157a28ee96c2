// PROXY protocol header writer: see proxy_header_writer.h.
#include "proxy_header_writer.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <cstdint>
#include <cstring>

namespace uvframe {
namespace {

constexpr char kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/// Both addresses as bytes of one family (IPv4 mapped into IPv6 when the two
/// differ); false if either is no numeric address.
struct AddressPair {
  std::uint8_t src[16] = {};
  std::uint8_t dst[16] = {};
  bool isIpv6 = false;
};

bool parseOne(const std::string& text, std::uint8_t out[16], bool* isIpv6) {
  if (inet_pton(AF_INET, text.c_str(), out) == 1) {
    *isIpv6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out) == 1) {
    *isIpv6 = true;
    return true;
  }
  return false;
}

void mapToIpv6(std::uint8_t bytes[16]) {
  std::uint8_t v4[4];
  std::memcpy(v4, bytes, 4);
  std::memset(bytes, 0, 10);
  bytes[10] = 0xFF;
  bytes[11] = 0xFF;
  std::memcpy(bytes + 12, v4, 4);
}

bool parsePair(const PeerAddress& src, const PeerAddress& dst, AddressPair* out) {
  bool src6 = false;
  bool dst6 = false;
  if (!parseOne(src.ip, out->src, &src6) || !parseOne(dst.ip, out->dst, &dst6)) return false;
  if (src6 != dst6) {
    mapToIpv6(src6 ? out->dst : out->src);
  }
  out->isIpv6 = src6 || dst6;
  return true;
}

void putPort(std::string& out, std::uint16_t port) {
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xFF));
}

}  // namespace

std::string proxyHeaderV1(const PeerAddress& src, const PeerAddress& dst) {
  AddressPair pair;
  if (!parsePair(src, dst, &pair)) return {};
  int family = pair.isIpv6 ? AF_INET6 : AF_INET;
  char srcText[INET6_ADDRSTRLEN] = {};
  char dstText[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, pair.src, srcText, sizeof srcText);
  inet_ntop(family, pair.dst, dstText, sizeof dstText);
  std::string out;
  out.reserve(108);
  out.append(pair.isIpv6 ? "PROXY TCP6 " : "PROXY TCP4 ");
  out.append(srcText);
  out.push_back(' ');
  out.append(dstText);
  out.push_back(' ');
  out.append(std::to_string(src.port));
  out.push_back(' ');
  out.append(std::to_string(dst.port));
  out.append("\r\n");
  return out;
}

std::string proxyHeaderV1Unknown() {
  return "PROXY UNKNOWN\r\n";
}

std::string proxyHeaderV2(const PeerAddress& src, const PeerAddress& dst) {
  AddressPair pair;
  if (!parsePair(src, dst, &pair)) return {};
  const std::size_t addrBytes = pair.isIpv6 ? 16 : 4;
  const auto length = static_cast<std::uint16_t>(2 * addrBytes + 4);
  std::string out(kV2Signature, sizeof kV2Signature);
  out.reserve(16 + length);
  out.push_back(static_cast<char>(0x21));                       // version 2, PROXY
  out.push_back(static_cast<char>(pair.isIpv6 ? 0x21 : 0x11));  // TCP over IPv6 / IPv4
  putPort(out, length);
  out.append(reinterpret_cast<const char*>(pair.src), addrBytes);
  out.append(reinterpret_cast<const char*>(pair.dst), addrBytes);
  putPort(out, src.port);
  putPort(out, dst.port);
  return out;
}

std::string proxyHeaderV2Local() {
  std::string out(kV2Signature, sizeof kV2Signature);
  out.push_back(static_cast<char>(0x20));  // version 2, LOCAL
  out.push_back(static_cast<char>(0x00));  // UNSPEC
  putPort(out, 0);
  return out;
}

}  // namespace uvframe
