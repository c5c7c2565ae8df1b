// The packet record every stage reads and writes in place: the C++ view of
// hyperplane.PACKET_DTYPE. One aligned 32-byte record per packet, so two
// records share a cache line and a burst of 16 spans eight lines.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hp {

struct Packet {
    std::uint64_t ts;      // ns, the packet's own time; all stages advance with it
    std::uint32_t src_ip;  // IPv4, host byte order
    std::uint32_t dst_ip;
    std::uint16_t src_port;  // ICMP echo: the identifier
    std::uint16_t dst_port;
    std::uint16_t length;    // IP total length in bytes
    std::uint8_t proto;      // IANA protocol number
    std::uint8_t tcp_flags;  // FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 ...
    std::uint8_t flags;      // PacketFlag bits (FRAGMENT, ...)
    std::uint8_t reserved;   // free for a later stage
    std::uint16_t mark;      // scratch a stage may set (e.g. a chosen target)
    std::uint32_t seq;       // TCP sequence number where the source carries it
};

static_assert(sizeof(Packet) == 32, "Packet must stay one 32-byte record");
static_assert(alignof(Packet) == 8, "Packet is aligned on its 64-bit timestamp");
static_assert(offsetof(Packet, src_ip) == 8 && offsetof(Packet, src_port) == 16 && offsetof(Packet, length) == 20 &&
                  offsetof(Packet, proto) == 22 && offsetof(Packet, flags) == 24 && offsetof(Packet, mark) == 26 &&
                  offsetof(Packet, seq) == 28,
              "Packet layout is part of the public dtype");

namespace proto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
}  // namespace proto

namespace packet_flag {
// Set on every fragment of a fragmented IP datagram: only the first one carries
// the transport header, so no stage may trust the ports of a fragment.
inline constexpr std::uint8_t fragment = 0x01;
// An ICMP error (destination unreachable, time exceeded, parameter problem) whose
// record is the connection of the packet it quotes, as that connection's reply
// would carry it (Linux's conntrack finds RELATED errors the same way): a stage
// translates it with its connection and changes no connection state.
inline constexpr std::uint8_t icmp_error = 0x02;
// Set by a caller that has already refused the packet by its rules (a security group's hop):
// conntrack lets it continue a connection it tracks, but never opens one for it; without a
// connection it gets drop_unsolicited. Stages other than conntrack ignore it.
inline constexpr std::uint8_t tracked_only = 0x04;
}  // namespace packet_flag

}  // namespace hp
