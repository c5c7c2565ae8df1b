// A connection's key, the same from both directions, and the table's keyed hash.
#pragma once

#include <cstdint>
#include <cstring>

#include "packet.hpp"

namespace hp {

// The tuple with its lower endpoint first, so a packet and its reply give the
// same key. ICMP echo puts the requester first instead (a ping each way between
// two hosts is two connections, as in Linux) and keys on the identifier
// (src_port); protocols without ports key on the address pair.
struct FlowKey {
    std::uint32_t ip_lo;
    std::uint32_t ip_hi;
    std::uint16_t port_lo;
    std::uint16_t port_hi;
    std::uint8_t proto;
};

struct KeyedPacket {
    FlowKey key;
    bool from_lo;  // the packet's source is the key's lower endpoint
};

inline constexpr std::uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;

// ICMP packets carry the type in the high byte of dst_port (as Linux's tuple holds it).
inline std::uint8_t icmp_type(const Packet& p) { return static_cast<std::uint8_t>(p.dst_port >> 8); }

inline KeyedPacket flow_key_of(const Packet& p) {
    std::uint16_t sport = p.src_port, dport = p.dst_port;
    bool src_lo;
    if (p.proto == proto::icmp) {
        dport = sport;
        src_lo = icmp_type(p) != kIcmpEchoReply;
    } else {
        if (p.proto != proto::tcp && p.proto != proto::udp) sport = dport = 0;
        src_lo = p.src_ip < p.dst_ip || (p.src_ip == p.dst_ip && sport <= dport);
    }
    KeyedPacket k{};
    k.key.proto = p.proto;
    if (src_lo) {
        k.key.ip_lo = p.src_ip, k.key.ip_hi = p.dst_ip, k.key.port_lo = sport, k.key.port_hi = dport;
    } else {
        k.key.ip_lo = p.dst_ip, k.key.ip_hi = p.src_ip, k.key.port_lo = dport, k.key.port_hi = sport;
    }
    k.from_lo = src_lo;
    return k;
}

// A secret 256-bit key per table: flows crafted to collide under one key are
// spread under another, and the key is fresh unless the user pins it.
struct HashKey {
    std::uint64_t k[4];
};

__extension__ using uint128 = unsigned __int128;

inline std::uint64_t mix_mul(std::uint64_t a, std::uint64_t b) {
    const uint128 r = static_cast<uint128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

// Two rounds of a wide multiply (wyhash's mixing step) over the 13 key bytes.
inline std::uint64_t flow_hash(const FlowKey& key, const HashKey& hk) {
    const std::uint64_t a = (static_cast<std::uint64_t>(key.ip_lo) << 32) | key.ip_hi;
    const std::uint64_t b = (static_cast<std::uint64_t>(key.port_lo) << 48) |
                            (static_cast<std::uint64_t>(key.port_hi) << 32) | key.proto;
    return mix_mul(mix_mul(a ^ hk.k[0], b ^ hk.k[1]) ^ hk.k[2], hk.k[3] | 1);
}

}  // namespace hp
