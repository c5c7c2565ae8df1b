// Link layers: Ethernet II with any number of 802.1Q/802.1ad tags, Linux cooked
// capture v1 (16-byte header, protocol at offset 14) and v2 (20 bytes, protocol
// at offset 0), raw IP (version from the first nibble). Layouts from
// tcpdump.org's LINKTYPE_ pages; IPv4 from RFC 791, TCP 793, UDP 768, ICMP 792.
#include "pcap/decode.hpp"

#include "pcap/bytes.hpp"

namespace hp::pcap {

namespace {

constexpr std::uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;
constexpr std::uint8_t kIcmpUnreachable = 3, kIcmpTimeExceeded = 11, kIcmpParameterProblem = 12;

// An ICMP error's quote (RFC 792: "the internet header plus the first 64 bits of the original
// datagram's data") as the connection it belongs to, seen from its reply: the quoted
// destination becomes the source. Leaves `p` alone when the quote is not whole in the
// captured bytes, is a later fragment, or is of a protocol without a tuple.
void decode_quote(const std::uint8_t* f, std::uint32_t caplen, std::uint32_t l4, std::uint32_t icmp_end, Packet& p,
                  FrameInfo& info) {
    const std::uint32_t inner = l4 + 8;
    if (icmp_end > caplen) icmp_end = caplen;
    if (icmp_end < inner + 20) return;
    const std::uint8_t* q = f + inner;
    const std::uint32_t qihl = (q[0] & 0x0fu) * 4u;
    if ((q[0] >> 4) != 4 || qihl < 20 || icmp_end < inner + qihl + 8) return;
    if ((load_be16(q + 6) & 0x1fff) != 0) return;
    const std::uint8_t qproto = q[9];
    const std::uint8_t* t = q + qihl;
    if (qproto == proto::tcp || qproto == proto::udp) {
        p.src_port = load_be16(t + 2), p.dst_port = load_be16(t);
    } else if (qproto == proto::icmp && (t[0] == kIcmpEchoRequest || t[0] == kIcmpEchoReply)) {
        // The echo the quote answers: a request's reply, a reply's request.
        p.src_port = load_be16(t + 4);
        p.dst_port = static_cast<std::uint16_t>((t[0] == kIcmpEchoRequest ? kIcmpEchoReply : kIcmpEchoRequest) << 8);
    } else {
        return;
    }
    p.proto = qproto;
    p.src_ip = load_be32(q + 16), p.dst_ip = load_be32(q + 12);
    p.flags |= packet_flag::icmp_error;
    info.inner = inner, info.inner_l4 = inner + qihl, info.icmp_end = icmp_end;
}

// A header ending at `end` did not fit in the captured bytes: cut by the snaplen,
// or malformed when the frame was captured whole.
inline Malformed cut(std::uint32_t caplen, std::uint32_t wirelen, FrameInfo& info) {
    if (caplen < wirelen) {
        info.snapped_headers = true;
        return Malformed::none;
    }
    return Malformed::header_past_frame;
}

Malformed decode_ipv4(const std::uint8_t* f, std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t off, Packet& p,
                      FrameInfo& info) {
    if (caplen < off + 20) return cut(caplen, wirelen, info);
    const std::uint8_t* ip = f + off;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < 20) return Malformed::bad_ip_header;
    if (caplen < off + ihl) return cut(caplen, wirelen, info);
    const std::uint32_t total = load_be16(ip + 2);
    if (total < ihl || total > wirelen - off) return Malformed::ip_length_past_frame;
    const std::uint16_t frag = load_be16(ip + 6);
    const bool later_fragment = (frag & 0x1fff) != 0;
    p.flags = (later_fragment || (frag & 0x2000)) ? packet_flag::fragment : std::uint8_t{0};
    p.proto = ip[9];
    p.src_ip = load_be32(ip + 12);
    p.dst_ip = load_be32(ip + 16);
    p.length = static_cast<std::uint16_t>(total);
    info.kind = FrameKind::ipv4;
    if (later_fragment) return Malformed::none;  // no transport header in this fragment
    const std::uint32_t l4 = off + ihl, room = total - ihl;
    const std::uint8_t* t = f + l4;
    info.l4 = l4;
    switch (p.proto) {
        case proto::tcp: {
            if (room < 20) return Malformed::bad_transport_header;
            if (caplen < l4 + 20) return cut(caplen, wirelen, info);
            const std::uint32_t doff = (t[12] >> 4) * 4u;
            if (doff < 20 || doff > room) return Malformed::bad_transport_header;
            p.src_port = load_be16(t), p.dst_port = load_be16(t + 2);
            p.seq = load_be32(t + 4);
            p.tcp_flags = t[13];
            break;
        }
        case proto::udp: {
            if (room < 8) return Malformed::bad_transport_header;
            if (caplen < l4 + 8) return cut(caplen, wirelen, info);
            const std::uint32_t ulen = load_be16(t + 4);
            // A first fragment holds part of the datagram that its UDP length covers.
            if (ulen < 8 || (!p.flags && ulen > room)) return Malformed::bad_transport_header;
            p.src_port = load_be16(t), p.dst_port = load_be16(t + 2);
            break;
        }
        case proto::icmp: {
            if (room < 8) return Malformed::bad_transport_header;
            if (caplen < l4 + 8) return cut(caplen, wirelen, info);
            // As the stages (and Linux's conntrack tuple) hold it: type and code in dst_port,
            // the echo identifier in src_port.
            p.dst_port = static_cast<std::uint16_t>(t[0] << 8 | t[1]);
            if (t[0] == kIcmpEchoRequest || t[0] == kIcmpEchoReply) p.src_port = load_be16(t + 4);
            if ((t[0] == kIcmpUnreachable || t[0] == kIcmpTimeExceeded || t[0] == kIcmpParameterProblem) && !p.flags)
                decode_quote(f, caplen, l4, off + total, p, info);
            break;
        }
        default:
            return Malformed::none;
    }
    info.has_l4 = true;
    return Malformed::none;
}

}  // namespace

Malformed decode_frame(const std::uint8_t* f, std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t link,
                       Packet& p, FrameInfo& info) {
    const std::uint64_t ts = p.ts;
    p = Packet{};
    p.ts = ts;
    info = FrameInfo{};
    std::uint32_t off = 0;
    std::uint16_t type = 0;
    switch (link) {
        case linktype::ethernet:
        case linktype::linux_sll: {
            off = link == linktype::ethernet ? 14 : 16;
            if (caplen < off) return cut(caplen, wirelen, info);
            type = load_be16(f + off - 2);
            while (type == ethertype::vlan || type == ethertype::qinq || type == ethertype::qinq_old) {
                if (caplen < off + 4) return cut(caplen, wirelen, info);
                info.vlan = true;
                type = load_be16(f + off + 2);
                off += 4;
            }
            break;
        }
        case linktype::linux_sll2:
            off = 20;
            if (caplen < off) return cut(caplen, wirelen, info);
            type = load_be16(f);
            break;
        case linktype::raw:
        case linktype::ipv4:
        case linktype::ipv6: {
            if (caplen < 1) return cut(caplen, wirelen, info);
            const unsigned version = f[0] >> 4;
            if (link == linktype::ipv4 && version != 4) return Malformed::bad_ip_header;
            if (link == linktype::ipv6 && version != 6) return Malformed::bad_ip_header;
            type = version == 4 ? ethertype::ipv4 : version == 6 ? ethertype::ipv6 : 0;
            break;
        }
        default:
            return Malformed::none;  // a link type we do not decode: carried as it is
    }
    info.l3 = off;
    if (type == ethertype::ipv4) return decode_ipv4(f, caplen, wirelen, off, p, info);
    if (type == ethertype::ipv6) {
        info.kind = FrameKind::ipv6;
        if (caplen < off + 40) return cut(caplen, wirelen, info);
        if ((f[off] >> 4) != 6) return Malformed::bad_ip_header;
        const std::uint32_t total = 40u + load_be16(f + off + 4);
        // Only the length: an IPv4 stage must not take the frame's next header for its protocol.
        p.length = static_cast<std::uint16_t>(total > 0xffff ? 0xffff : total);
    }
    return Malformed::none;
}

}  // namespace hp::pcap
