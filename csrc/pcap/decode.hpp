// One captured frame's link, IPv4 and transport headers decoded into a Packet
// record, every read bounded by the captured length.
//
// The reader decodes each frame once to fill the batch; the writer decodes the
// same bytes again to find where the headers it rewrites are, so that it never
// trusts offsets handed in from Python. A header cut off by the snaplen is not
// an error (the frame is carried with what was read); a header that overruns a
// frame captured whole is malformed, counted by reason and skipped.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/packet.hpp"

namespace hp::pcap {

namespace linktype {
inline constexpr std::uint32_t ethernet = 1, raw = 101, linux_sll = 113, ipv4 = 228, ipv6 = 229, linux_sll2 = 276;
}

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800, ipv6 = 0x86dd, vlan = 0x8100, qinq = 0x88a8, qinq_old = 0x9100;
}

// Why a frame or a block was skipped. Names (in this order) are what `stats` reports.
enum class Malformed : std::uint8_t {
    none = 0,
    truncated_file,        // a record or block runs past the end of the file
    bad_block_length,      // a pcapng block length that is too short, unaligned, or disagrees with its trailer
    bad_record_length,     // a pcap record longer than any link layer's snaplen (262,144)
    unknown_interface,     // a pcapng packet block naming an interface no IDB described
    header_past_frame,     // a link, IP or transport header longer than a frame captured whole
    bad_ip_header,         // IPv4 version or header length wrong
    ip_length_past_frame,  // IPv4 total length shorter than its header or past the frame
    bad_transport_header,  // TCP data offset, UDP length or a transport header past the IP datagram
    count
};
inline constexpr const char* kMalformedNames[] = {
    "none",
    "truncated_file",
    "bad_block_length",
    "bad_record_length",
    "unknown_interface",
    "header_past_frame",
    "bad_ip_header",
    "ip_length_past_frame",
    "bad_transport_header",
};
static_assert(sizeof(kMalformedNames) / sizeof(kMalformedNames[0]) == static_cast<std::size_t>(Malformed::count));

enum class FrameKind : std::uint8_t { ipv4 = 0, ipv6 = 1, other = 2 };

// Where the headers of a decoded frame are.
struct FrameInfo {
    std::uint32_t l3 = 0;  // offset of the IP header in the frame
    std::uint32_t l4 = 0;  // offset of the transport header (valid when has_l4)
    FrameKind kind = FrameKind::other;
    bool has_l4 = false;           // the transport header (ports and checksum) was captured
    bool snapped_headers = false;  // a header was cut off by the snaplen
    bool vlan = false;             // carried 802.1Q/802.1ad tags
    // An ICMP error whose quote was decoded (the record is its connection, PacketFlag icmp_error):
    std::uint32_t inner = 0;     // offset of the quoted IPv4 header
    std::uint32_t inner_l4 = 0;  // offset of the quoted transport header (8 bytes of it at least)
    std::uint32_t icmp_end = 0;  // end of the ICMP message's captured bytes
};

// Decodes the frame `f` (`caplen` bytes captured of `wirelen`, wirelen >= caplen).
// Fills every field of `p` but `ts`. Returns Malformed::none for a frame to keep.
Malformed decode_frame(const std::uint8_t* f, std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t link,
                       Packet& p, FrameInfo& info);

}  // namespace hp::pcap
