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

}  // namespace

bool apply_rewrite(std::uint8_t* f, std::uint32_t caplen, const FrameInfo& info, const Packet& orig, const Packet& out) {
    (void)caplen;  // every offset used below was checked against it by decode_frame
    if (info.kind != FrameKind::ipv4) return false;  // IPv6 and the rest are carried untouched
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
    if (info.kind != FrameKind::ipv4 || !info.has_l4 || orig.proto != proto::tcp) return 0;
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
    const std::uint32_t segment = orig.length - ihl - doff + ((flags & kTcpSyn) ? 1u : 0u) + ((flags & kTcpFin) ? 1u : 0u);
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
