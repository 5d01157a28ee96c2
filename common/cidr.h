// CidrList: a list of IPv4/IPv6 networks ("127.0.0.0/8,::1/128,10.1.2.3") for
// --allow, --deny and --trusted-proxies, and the question "is this peer in it?".
//
// Text: items separated by commas, whitespace around an item ignored; an item
// is ADDRESS or ADDRESS/PREFIX (a bare address is /32 or /128). Empty text (or
// only whitespace) is an empty list; an empty item ("a,,b", a trailing comma)
// is an error. Host bits below the prefix are cleared ("10.1.2.3/8" is stored
// and shown as "10.0.0.0/8"). An IPv6 entry inside ::ffff:0:0/96 is stored as
// the IPv4 network it covers.
//
// Matching: IPv4 entries match IPv4 peers and IPv4-mapped IPv6 peers
// (::ffff:1.2.3.4, what a dual-stack listener reports for an IPv4 client);
// IPv6 entries match the other IPv6 peers. contains() never allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peer_address.h"

struct sockaddr;

namespace uvframe {

class CidrList {
 public:
  /// The list in text, or nullopt with *error (when given) naming the bad item:
  /// `bad CIDR "10.0.0.0/33"`.
  static std::optional<CidrList> parse(std::string_view text, std::string* error);

  /// True if the address in sa (AF_INET or AF_INET6) is in one of the networks;
  /// false for other families, nullptr or an empty list.
  bool contains(const sockaddr* sa) const;
  /// The same for a peer's numeric text ("127.0.0.1", "::1"); false if p.ip is
  /// no numeric address.
  bool contains(const PeerAddress& p) const;

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  /// Normalised text: "127.0.0.0/8,::1/128" (every item with its prefix).
  std::string text() const;

 private:
  struct Entry {
    std::uint8_t bytes[16] = {};  ///< network address, host bits cleared
    std::uint8_t prefix = 0;      ///< 0..32 for IPv4, 0..128 for IPv6
    bool isIpv6 = false;          ///< IPv4 entries use bytes[0..3]
  };
  bool matches(const std::uint8_t* addr, bool isIpv6) const;

  std::vector<Entry> entries_;
};

}  // namespace uvframe
