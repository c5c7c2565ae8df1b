// Checksum offsets: IPv4 header 10, TCP 16, UDP 6, ICMP 2 (RFC 791, 793, 768,
// 792). TCP and UDP checksums cover a pseudo-header with both addresses, so an
// address change updates them too; ICMP's covers the ICMP message alone.
#include "pcap/rewrite.hpp"

#include <cstring>

#include "pcap/bytes.hpp"
#include "pcap/checksum.hpp"

namespace hp::pcap {

namespace {

constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
constexpr std::uint16_t kSllOutgoing = 4;  // LINUX_SLL_OUTGOING: "sent by us"

// Replaces the 16-bit word at `p` and updates the checksum at `check` (when present).
inline void set16(std::uint8_t* p, std::uint16_t v, std::uint8_t* check, bool zero_means_none) {
    const std::uint16_t old = load_be16(p);
    store_be16(p, v);
    if (!check) return;
    const std::uint16_t c = load_be16(check);
    if (zero_means_none && c == 0) return;
    const std::uint16_t n = csum_update16(c, old, v);
    store_be16(check, zero_means_none && n == 0 ? 0xffff : n);
}

inline void update32(std::uint8_t* check, std::uint32_t old_value, std::uint32_t new_value, bool zero_means_none) {
    if (!check) return;
    const std::uint16_t c = load_be16(check);
    if (zero_means_none && c == 0) return;
    const std::uint16_t n = csum_update32(c, old_value, new_value);
    store_be16(check, zero_means_none && n == 0 ? 0xffff : n);
}

// A 16-bit word inside an ICMP message changes: the ICMP checksum follows it.
inline void change16(std::uint8_t* at, std::uint16_t v, std::uint8_t* icmp_check) {
    const std::uint16_t old = load_be16(at);
    if (old == v) return;
    store_be16(at, v);
    store_be16(icmp_check, csum_update16(load_be16(icmp_check), old, v));
}

// A checksum inside an ICMP message follows a word it covers; the ICMP checksum follows both.
inline void follow16(std::uint8_t* check, std::uint16_t old_word, std::uint16_t new_word, bool zero_means_none,
                     std::uint8_t* icmp_check) {
    const std::uint16_t c = load_be16(check);
    if (zero_means_none && c == 0) return;
    const std::uint16_t n = csum_update16(c, old_word, new_word);
    change16(check, zero_means_none && n == 0 ? 0xffff : n, icmp_check);
}

// An ICMP error's rewrite (RFC 5508 REQ-4, as Linux's nf_nat_icmp_reply_translation does):
// the record is the quoted packet's connection seen from its reply, so a changed destination
// is the quoted source and the error's own destination, a changed source the quoted
// destination and the error's own source (Linux: "Change outer to look like the reply to an
// incoming packet", so an error a router inside sends leaves from the public address too).
// The quoted IPv4 and
// transport checksums follow where the quote holds them, and the ICMP checksum follows all.
bool rewrite_icmp_error(std::uint8_t* f, const FrameInfo& info, const Packet& orig, const Packet& out) {
    std::uint8_t* ip = f + info.l3;
    std::uint8_t* icmp_check = f + info.l4 + 2;
    std::uint8_t* q = f + info.inner;
    std::uint8_t* t = f + info.inner_l4;
    const bool udp = orig.proto == proto::udp, tcp = orig.proto == proto::tcp;
    std::uint8_t* l4check = nullptr;
    if (udp) l4check = t + 6;  // in the 8 bytes every quote holds
    if (tcp && info.inner_l4 + 18 <= info.icmp_end) l4check = t + 16;
    bool changed = false;
    for (int which = 0; which < 2; ++which) {
        // which 0: the record's destination = the quoted source; 1: its source = the quoted destination.
        const std::uint32_t was = which ? orig.src_ip : orig.dst_ip, now = which ? out.src_ip : out.dst_ip;
        if (was == now) continue;
        std::uint8_t* quoted = q + (which ? 16 : 12);
        std::uint8_t* outer = ip + (which ? 12 : 16);
        const std::uint32_t outer_was = load_be32(outer);
        store_be16(ip + 10, csum_update32(load_be16(ip + 10), outer_was, now));
        store_be32(outer, now);
        for (int half = 0; half < 2; ++half) {
            const auto old_word = static_cast<std::uint16_t>(half ? was : was >> 16);
            const auto new_word = static_cast<std::uint16_t>(half ? now : now >> 16);
            change16(quoted + 2 * half, new_word, icmp_check);
            follow16(q + 10, old_word, new_word, false, icmp_check);
            if (l4check) follow16(l4check, old_word, new_word, udp, icmp_check);
        }
        changed = true;
    }
    if (tcp || udp) {
        // The record's destination port is the quoted source port, its source port the quoted destination's.
        const std::uint16_t ports[2][2] = {{orig.dst_port, out.dst_port}, {orig.src_port, out.src_port}};
        for (int which = 0; which < 2; ++which) {
            if (ports[which][0] == ports[which][1]) continue;
            change16(t + 2 * which, ports[which][1], icmp_check);
            if (l4check) follow16(l4check, ports[which][0], ports[which][1], udp, icmp_check);
            changed = true;
        }
    } else if (out.src_port != orig.src_port) {  // a quoted echo: its identifier, and its checksum
        const std::uint16_t old_id = load_be16(t + 4);
        change16(t + 4, out.src_port, icmp_check);
        follow16(t + 2, old_id, out.src_port, false, icmp_check);
        changed = true;
    }
    return changed;
}

}  // namespace

bool apply_rewrite(std::uint8_t* f, std::uint32_t caplen, const FrameInfo& info, const Packet& orig,
                   const Packet& out) {
    (void)caplen;                                    // every offset used below was checked against it by decode_frame
    if (info.kind != FrameKind::ipv4) return false;  // IPv6 and the rest are carried untouched
    if (orig.flags & packet_flag::icmp_error) return rewrite_icmp_error(f, info, orig, out);
    std::uint8_t* ip = f + info.l3;
    std::uint8_t* t = info.has_l4 ? f + info.l4 : nullptr;
    const bool udp = orig.proto == proto::udp;
    std::uint8_t* l4check = nullptr;
    if (t && orig.proto == proto::tcp) l4check = t + 16;
    if (t && udp) l4check = t + 6;
    bool changed = false;
    for (int which = 0; which < 2; ++which) {
        const std::uint32_t was = which ? orig.dst_ip : orig.src_ip, now = which ? out.dst_ip : out.src_ip;
        if (was == now) continue;
        std::uint8_t* field = ip + (which ? 16 : 12);
        update32(ip + 10, was, now, false);
        update32(l4check, was, now, udp);
        store_be32(field, now);
        changed = true;
    }
    if (!t) return changed;
    if (orig.proto == proto::tcp || udp) {
        if (out.src_port != orig.src_port) set16(t, out.src_port, l4check, udp), changed = true;
        if (out.dst_port != orig.dst_port) set16(t + 2, out.dst_port, l4check, udp), changed = true;
    } else if (orig.proto == proto::icmp && (t[0] == 0 || t[0] == 8) && out.src_port != orig.src_port) {
        set16(t + 4, out.src_port, t + 2, false);
        changed = true;
    }
    return changed;
}

std::uint32_t build_rst(const std::uint8_t* f, std::uint32_t link, const FrameInfo& info, const Packet& orig,
                        const Packet& rst, std::uint8_t* dst) {
    if (info.kind != FrameKind::ipv4 || !info.has_l4 || orig.proto != proto::tcp ||
        (orig.flags & packet_flag::icmp_error))
        return 0;
    const std::uint32_t l3 = info.l3;
    std::memcpy(dst, f, l3);
    if (link == linktype::ethernet) {
        std::memcpy(dst, f + 6, 6);
        std::memcpy(dst + 6, f, 6);
    } else if (link == linktype::linux_sll) {
        store_be16(dst, kSllOutgoing);
    } else if (link == linktype::linux_sll2) {
        dst[10] = static_cast<std::uint8_t>(kSllOutgoing);
    }
    const std::uint8_t* t = f + info.l4;
    const std::uint32_t ihl = (f[l3] & 0x0fu) * 4u, doff = (t[12] >> 4) * 4u;
    const std::uint8_t flags = t[13];
    const std::uint32_t segment =
        orig.length - ihl - doff + ((flags & kTcpSyn) ? 1u : 0u) + ((flags & kTcpFin) ? 1u : 0u);
    const std::uint32_t seq = (flags & kTcpAck) ? load_be32(t + 8) : 0;
    const std::uint8_t out_flags = (flags & kTcpAck) ? kTcpRst : static_cast<std::uint8_t>(kTcpRst | kTcpAck);
    const std::uint32_t ack = (flags & kTcpAck) ? 0 : load_be32(t + 4) + segment;

    std::uint8_t* ip = dst + l3;
    std::memset(ip, 0, 40);
    ip[0] = 0x45;
    store_be16(ip + 2, 40);
    ip[6] = 0x40;  // don't fragment, as Linux sends its resets
    ip[8] = 64;
    ip[9] = proto::tcp;
    store_be32(ip + 12, rst.src_ip);
    store_be32(ip + 16, rst.dst_ip);
    store_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    std::uint8_t* tcp = ip + 20;
    store_be16(tcp, rst.src_port);
    store_be16(tcp + 2, rst.dst_port);
    store_be32(tcp + 4, seq);
    store_be32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = out_flags;
    std::uint8_t pseudo[12];
    std::memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0, pseudo[9] = proto::tcp;
    store_be16(pseudo + 10, 20);
    store_be16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, 20)));
    return l3 + 40;
}

}  // namespace hp::pcap
