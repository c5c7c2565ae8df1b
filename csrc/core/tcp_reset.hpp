// The RST a middlebox sends back when it resets a connection (a NAT gateway's
// timed-out connection, a load balancer's unknown flow or failed target): the
// packet's record turned into the reply, as RFC 793 builds a reset for a
// segment that does not belong to a connection — "If the incoming segment has
// an ACK field, the reset takes its sequence number from the ACK field of the
// segment, otherwise the reset has sequence number zero and the ACK field is
// set to the sum of the sequence number and segment length of the incoming
// segment."
//
// The header record carries no acknowledgment number, so for a segment with
// ACK the record's `seq` is 0 and the byte writer (hyperplane.pcap), which has
// the original header, takes the RST's sequence number from its ACK field.
#pragma once

#include <cstdint>

#include "core/packet.hpp"

namespace hp {

inline constexpr std::uint8_t kTcpRst = 0x04, kTcpAck = 0x10;
inline constexpr std::uint16_t kRstLength = 40;  // IPv4 and TCP headers, no options, no payload

inline Packet rst_reply(const Packet& p) {
    Packet r = p;
    r.src_ip = p.dst_ip, r.dst_ip = p.src_ip;
    r.src_port = p.dst_port, r.dst_port = p.src_port;
    r.length = kRstLength;
    r.flags = 0;
    r.tcp_flags = (p.tcp_flags & kTcpAck) ? kTcpRst : static_cast<std::uint8_t>(kTcpRst | kTcpAck);
    r.seq = 0;
    return r;
}

}  // namespace hp
