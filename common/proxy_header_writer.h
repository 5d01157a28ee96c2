// PROXY protocol headers as a sender (a load balancer, or uvframe-loadgen
// --proxy-protocol) writes them, after HAProxy's doc/proxy-protocol.txt:
//
//   v1: one text line "PROXY TCP4 <src> <dst> <srcport> <dstport>\r\n" (TCP6 for
//       IPv6; addresses in canonical inet_ntop form), at most 107 bytes.
//   v2: 12-byte signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A, then ver_cmd
//       (0x21 = version 2, PROXY; 0x20 = LOCAL), fam (0x11 TCP over IPv4, 0x21 TCP
//       over IPv6, 0x00 UNSPEC), a 2-byte big-endian length of what follows, then
//       src addr, dst addr, src port, dst port in network order (12 or 36 bytes).
//       No TLVs are written.
//
// The family comes from the address text (a PeerAddress's ip: "198.18.0.1",
// "::1"). Mixed families are converted, not refused: when one side is IPv4 and
// the other IPv6, the IPv4 one is written as its IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) and the header is TCP6 / 0x21, as a dual-stack proxy would.
// An ip that is no numeric address gives an empty string (a caller's bug).
#pragma once

#include <string>

#include "peer_address.h"

namespace uvframe {

/// "PROXY TCP4 198.18.0.1 127.0.0.1 40000 9000\r\n", or "" for a bad address.
std::string proxyHeaderV1(const PeerAddress& src, const PeerAddress& dst);

/// "PROXY UNKNOWN\r\n" (the short form: the receiver keeps the socket's address).
std::string proxyHeaderV1Unknown();

/// The 28-byte (IPv4) or 52-byte (IPv6) binary PROXY header, or "" for a bad
/// address.
std::string proxyHeaderV2(const PeerAddress& src, const PeerAddress& dst);

/// The 16-byte v2 LOCAL header (command LOCAL, family UNSPEC, length 0): a
/// balancer's health check; the receiver keeps the socket's address.
std::string proxyHeaderV2Local();

}  // namespace uvframe
