// RFC 826's packet: hardware type 1 (Ethernet), protocol type 0x0800, address
// lengths 6 and 4, the opcode, then sender and target addresses.
#include "live/arp.hpp"

#include <cstring>

#include "pcap/bytes.hpp"

namespace hp::live {

using pcap::load_be16;
using pcap::load_be32;
using pcap::store_be16;
using pcap::store_be32;

bool parse_arp(const std::uint8_t* f, std::uint32_t caplen, ArpMessage& m) {
    if (caplen < 42 || load_be16(f + 12) != kEtherArp) return false;
    const std::uint8_t* a = f + 14;
    if (load_be16(a) != 1 || load_be16(a + 2) != kEtherIpv4 || a[4] != 6 || a[5] != 4) return false;
    m.op = load_be16(a + 6);
    std::memcpy(m.sha, a + 8, 6);
    m.spa = load_be32(a + 14);
    std::memcpy(m.tha, a + 18, 6);
    m.tpa = load_be32(a + 24);
    return m.op == kArpRequest || m.op == kArpReply;
}

void build_arp(std::uint8_t* dst, const std::uint8_t* eth_dst, const ArpMessage& m) {
    std::memset(dst, 0, kArpFrameLength);
    std::memcpy(dst, eth_dst, 6);
    std::memcpy(dst + 6, m.sha, 6);
    store_be16(dst + 12, kEtherArp);
    std::uint8_t* a = dst + 14;
    store_be16(a, 1);
    store_be16(a + 2, kEtherIpv4);
    a[4] = 6, a[5] = 4;
    store_be16(a + 6, m.op);
    std::memcpy(a + 8, m.sha, 6);
    store_be32(a + 14, m.spa);
    std::memcpy(a + 18, m.tha, 6);
    store_be32(a + 24, m.tpa);
}

const std::uint8_t* NeighbourTable::find(std::uint32_t ip) const {
    for (const Entry& e : entries_)
        if (e.ip == ip) return e.mac;
    return nullptr;
}

bool NeighbourTable::learn(std::uint32_t ip, const std::uint8_t* mac, std::uint64_t now) {
    for (Entry& e : entries_)
        if (e.ip == ip) {
            const bool changed = std::memcmp(e.mac, mac, 6) != 0;
            std::memcpy(e.mac, mac, 6);
            e.seen = now;
            return changed;
        }
    Entry n{ip, {}, now};
    std::memcpy(n.mac, mac, 6);
    if (entries_.size() < capacity_) {
        entries_.push_back(n);
    } else {
        Entry* oldest = &entries_[0];
        for (Entry& e : entries_)
            if (e.seen < oldest->seen) oldest = &e;
        *oldest = n;
    }
    return true;
}

}  // namespace hp::live
