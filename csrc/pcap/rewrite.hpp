// What the writer does to one frame: carry a stage's rewrite of the packet
// record (addresses, ports, the ICMP echo identifier) into the frame's bytes
// with incrementally updated checksums, or build the TCP RST that a RESET
// verdict stands for.
#pragma once

#include <cstdint>

#include "core/packet.hpp"
#include "pcap/decode.hpp"

namespace hp::pcap {

// Writes the fields where `out` differs from `orig` into the frame `f` (caplen
// bytes, decoded as `info`), updating the IPv4 header checksum and the TCP,
// UDP or ICMP checksum by RFC 1624; a UDP checksum of zero (none) stays zero.
// Headers the snaplen cut off are left alone. Returns whether a byte changed.
bool apply_rewrite(std::uint8_t* f, std::uint32_t caplen, const FrameInfo& info, const Packet& orig, const Packet& out);

// The RST the stage sends back for the TCP segment in `f` (RFC 793: the
// sequence number from the segment's ACK field if it has one, otherwise zero
// with ACK set to the segment's sequence number plus its length; the flags
// follow from the same rule), addressed as the stage's record `rst` says
// (hp::rst_reply), inside a copy of the frame's
// link header (Ethernet addresses swapped; Linux cooked headers marked
// outgoing). Writes it to `dst` (room for info.l3 + 40 bytes) and returns its
// length, or 0 when `f` holds no whole TCP header.
std::uint32_t build_rst(const std::uint8_t* f, std::uint32_t link, const FrameInfo& info, const Packet& orig,
                        const Packet& rst, std::uint8_t* dst);

}  // namespace hp::pcap
