// ENA-style receive-side scaling: a Toeplitz hash of each packet's IPv4
// tuple, and an indirection table that maps the low bits of the hash to a
// receive queue.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.hpp"
#include "hash/toeplitz.hpp"
#include "hash/toeplitz_gfni.hpp"

namespace hp {

inline constexpr std::size_t kRssKeySize = 40;
// Packets read ahead of the hash loops: the hardware prefetcher alone leaves
// batches larger than the caches waiting on memory.
inline constexpr std::size_t kPrefetchAhead = 32;
using RssKey = std::array<std::uint8_t, kRssKeySize>;

// The RSS specification's well-known key.
inline constexpr RssKey kSpecRssKey = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                       0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                       0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                       0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// A key with a 16-bit period: both directions of a flow hash alike.
inline RssKey symmetric_rss_key() {
    RssKey key{};
    for (std::size_t i = 0; i < key.size(); i += 2) key[i] = 0x6d, key[i + 1] = 0x5a;
    return key;
}

// ENA's 128-entry indirection table with `queues` dealt round-robin.
inline std::vector<std::uint16_t> round_robin_indirection(unsigned queues) {
    std::vector<std::uint16_t> table(128);
    for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint16_t>(i % queues);
    return table;
}

// How fragments hash. A NIC sees a fragment's addresses only (its ports, when
// present at all, cannot be trusted), so it hashes like a portless protocol;
// a stage that tracks whole datagrams places each fragment with its datagram.
enum class FragmentHash : std::uint8_t { addresses, whole_datagram };

// The hash input the specification gives for IPv4: addresses, then ports for
// TCP and UDP; every other protocol hashes on its addresses alone.
inline bool rss_hashes_ports(const Packet& p, FragmentHash fragments) {
    return (p.proto == proto::tcp || p.proto == proto::udp) &&
           (fragments == FragmentHash::whole_datagram || !(p.flags & packet_flag::fragment));
}

// Writes the specification's input bytes (network order) for `p`; returns their count (8 or 12).
std::size_t rss_input(const Packet& p, FragmentHash fragments, std::uint8_t out[12]);

// bitserial: the definition, bit by bit (the reference); table: byte-indexed
// tables, portable; gfni: byte-matrix products, where the CPU has AVX-512 and GFNI.
enum class ToeplitzImpl : std::uint8_t { bitserial, table, gfni };

// The fastest implementation this CPU runs.
ToeplitzImpl best_toeplitz_impl();
bool toeplitz_impl_available(ToeplitzImpl impl);

class Rss {
public:
    // `indirection` maps hash & (size - 1) to a queue; its size must be a power of two.
    Rss(const RssKey& key, std::vector<std::uint16_t> indirection, FragmentHash fragments = FragmentHash::addresses);

    // All implementations give the same hashes; `impl` must be available here.
    void hash(const Packet* pkts, std::size_t n, std::uint32_t* out, ToeplitzImpl impl = best_toeplitz_impl()) const;
    void queue(const Packet* pkts, std::size_t n, std::uint16_t* out) const;

    const RssKey& key() const { return key_; }
    const std::vector<std::uint16_t>& indirection() const { return indirection_; }
    void set_indirection(std::vector<std::uint16_t> indirection);

    std::uint32_t hash_one(const Packet& p) const {
        const std::uint32_t s = p.src_ip, d = p.dst_ip, sp = p.src_port, dp = p.dst_port;
        const std::uint32_t h = table_.at(0, s >> 24) ^ table_.at(1, (s >> 16) & 0xff) ^ table_.at(2, (s >> 8) & 0xff) ^
                                table_.at(3, s & 0xff) ^ table_.at(4, d >> 24) ^ table_.at(5, (d >> 16) & 0xff) ^
                                table_.at(6, (d >> 8) & 0xff) ^ table_.at(7, d & 0xff);
        const std::uint32_t ports =
            table_.at(8, sp >> 8) ^ table_.at(9, sp & 0xff) ^ table_.at(10, dp >> 8) ^ table_.at(11, dp & 0xff);
        // Branch-free: traffic mixes protocols, and a mispredict costs more than four loads.
        return h ^ (ports & (0U - static_cast<std::uint32_t>(rss_hashes_ports(p, fragments_))));
    }

private:
    RssKey key_;
    ToeplitzTable table_;
    ToeplitzGfniMatrices gfni_;
    std::vector<std::uint16_t> indirection_;
    std::uint32_t mask_;
    FragmentHash fragments_;
};

}  // namespace hp
