// A connection's key, the same from both directions, and the table's keyed hash.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/packet.hpp"

namespace hp {

// The tuple with its lower endpoint first, so a packet and its reply give the
// same key. ICMP echo puts the requester first instead (a ping each way between
// two hosts is two connections, as in Linux) and keys on the identifier
// (src_port); protocols without ports key on the address pair.
// Two words, laid out as the first 13 bytes of a FlowRecord are: the addresses
// (ip_lo in the low half), then port_lo, port_hi and proto. Built in registers
// and compared as two words.
struct FlowKey {
    std::uint64_t ips;
    std::uint64_t rest;  // port_lo | port_hi << 16 | proto << 32

    static FlowKey of(std::uint32_t ip_lo, std::uint32_t ip_hi, std::uint16_t port_lo, std::uint16_t port_hi,
                      std::uint8_t proto) {
        return FlowKey{ip_lo | static_cast<std::uint64_t>(ip_hi) << 32,
                       port_lo | static_cast<std::uint64_t>(port_hi) << 16 | static_cast<std::uint64_t>(proto) << 32};
    }
};

struct KeyedPacket {
    FlowKey key;
    bool from_lo;  // the packet's source is the key's lower endpoint
};

inline constexpr std::uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;

// ICMP packets carry the type in the high byte of dst_port (as Linux's tuple holds it).
inline std::uint8_t icmp_type(const Packet& p) { return static_cast<std::uint8_t>(p.dst_port >> 8); }

inline KeyedPacket flow_key_of(const Packet& p) {
    std::uint64_t sport = p.src_port, dport = p.dst_port;
    bool src_lo;
    if (p.proto == proto::icmp) {
        dport = sport;
        src_lo = icmp_type(p) != kIcmpEchoReply;
    } else {
        if (p.proto != proto::tcp && p.proto != proto::udp) sport = dport = 0;
        // Endpoints compare as (address, port) in one word each.
        src_lo = (static_cast<std::uint64_t>(p.src_ip) << 16 | sport) <=
                 (static_cast<std::uint64_t>(p.dst_ip) << 16 | dport);
    }
    // Both orders, then a select: which endpoint is lower is a coin toss per
    // packet, and a mispredicted branch here would cost more than the key.
    const std::uint64_t proto = static_cast<std::uint64_t>(p.proto) << 32;
    const std::uint64_t fwd_ips = p.src_ip | static_cast<std::uint64_t>(p.dst_ip) << 32;
    const std::uint64_t rev_ips = p.dst_ip | static_cast<std::uint64_t>(p.src_ip) << 32;
    const std::uint64_t fwd_rest = sport | dport << 16 | proto, rev_rest = dport | sport << 16 | proto;
    return KeyedPacket{FlowKey{src_lo ? fwd_ips : rev_ips, src_lo ? fwd_rest : rev_rest}, src_lo};
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
    return mix_mul(mix_mul(key.ips ^ hk.k[0], key.rest ^ hk.k[1]) ^ hk.k[2], hk.k[3] | 1);
}

}  // namespace hp
