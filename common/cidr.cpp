// CidrList: see cidr.h.
#include "cidr.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <cstring>

namespace uvframe {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Parses numeric text into 4 or 16 bytes without allocating; false if it is
/// no address. *isIpv6 says which.
bool parseAddress(std::string_view text, std::uint8_t out[16], bool* isIpv6) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, out) == 1) {
    *isIpv6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    *isIpv6 = true;
    return true;
  }
  return false;
}

/// True if the first prefix bits of a and b are equal.
bool prefixEqual(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) {
  unsigned whole = prefix / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

void clearHostBits(std::uint8_t* bytes, unsigned addrBytes, unsigned prefix) {
  for (unsigned i = 0; i < addrBytes; ++i) {
    unsigned bitsHere = prefix > i * 8 ? prefix - i * 8 : 0;
    if (bitsHere >= 8) continue;
    bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - bitsHere));
  }
}

}  // namespace

std::optional<CidrList> CidrList::parse(std::string_view text, std::string* error) {
  CidrList list;
  if (trim(text).empty()) return list;
  auto fail = [&](std::string_view item) -> std::optional<CidrList> {
    if (error != nullptr) {
      *error = "bad CIDR \"";
      error->append(item);
      error->push_back('"');
    }
    return std::nullopt;
  };
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view item =
        trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    Entry entry;
    std::string_view addr = item;
    std::string_view prefixText;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      addr = item.substr(0, slash);
      prefixText = item.substr(slash + 1);
    }
    if (!parseAddress(addr, entry.bytes, &entry.isIpv6)) return fail(item);
    unsigned maxPrefix = entry.isIpv6 ? 128 : 32;
    unsigned prefix = maxPrefix;
    if (addr.size() != item.size()) {
      if (prefixText.empty() || prefixText.size() > 3) return fail(item);
      prefix = 0;
      for (char c : prefixText) {
        if (c < '0' || c > '9') return fail(item);
        prefix = prefix * 10 + static_cast<unsigned>(c - '0');
      }
      if (prefix > maxPrefix) return fail(item);
    }
    if (entry.isIpv6 && prefix >= 96 &&
        std::memcmp(entry.bytes, kMappedPrefix, sizeof kMappedPrefix) == 0) {
      std::memmove(entry.bytes, entry.bytes + 12, 4);
      std::memset(entry.bytes + 4, 0, 12);
      entry.isIpv6 = false;
      prefix -= 96;
    }
    clearHostBits(entry.bytes, entry.isIpv6 ? 16 : 4, prefix);
    entry.prefix = static_cast<std::uint8_t>(prefix);
    list.entries_.push_back(entry);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return list;
}

bool CidrList::matches(const std::uint8_t* addr, bool isIpv6) const {
  if (isIpv6 && std::memcmp(addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    addr += 12;
    isIpv6 = false;
  }
  for (const Entry& e : entries_) {
    if (e.isIpv6 == isIpv6 && prefixEqual(e.bytes, addr, e.prefix)) return true;
  }
  return false;
}

bool CidrList::contains(const sockaddr* sa) const {
  if (sa == nullptr || entries_.empty()) return false;
  std::uint8_t bytes[16];
  if (sa->sa_family == AF_INET) {
    sockaddr_in in4;
    std::memcpy(&in4, sa, sizeof in4);
    std::memcpy(bytes, &in4.sin_addr, 4);
    return matches(bytes, false);
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    std::memcpy(bytes, &in6.sin6_addr, 16);
    return matches(bytes, true);
  }
  return false;
}

bool CidrList::contains(const PeerAddress& p) const {
  if (entries_.empty()) return false;
  std::uint8_t bytes[16];
  bool isIpv6 = false;
  if (!parseAddress(p.ip, bytes, &isIpv6)) return false;
  return matches(bytes, isIpv6);
}

std::string CidrList::text() const {
  std::string out;
  for (const Entry& e : entries_) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(e.isIpv6 ? AF_INET6 : AF_INET, e.bytes, buf, sizeof buf);
    if (!out.empty()) out.push_back(',');
    out.append(buf);
    out.push_back('/');
    out.append(std::to_string(e.prefix));
  }
  return out;
}

}  // namespace uvframe
