// ARP (RFC 826) for Ethernet and IPv4, and the small neighbour table a router
// keeps from it: the engine answers requests for the addresses it owns and asks
// for the MAC address of each next hop, so hosts on its links need no static
// entries and the engine needs none either.
//
// A link of a lab or a gateway holds a handful of neighbours, so the table is a
// fixed array searched linearly (the oldest entry makes room), not a hash map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hp::live {

inline constexpr std::uint16_t kEtherArp = 0x0806, kEtherIpv4 = 0x0800;
inline constexpr std::uint16_t kArpRequest = 1, kArpReply = 2;
inline constexpr std::uint32_t kArpFrameLength = 60;  // 42 bytes padded to Ethernet's minimum frame (no FCS)

struct ArpMessage {
    std::uint16_t op;
    std::uint8_t sha[6];  // sender's hardware address
    std::uint32_t spa;    // sender's protocol address (host order)
    std::uint8_t tha[6];
    std::uint32_t tpa;
};

// An Ethernet/IPv4 ARP message in the frame `f` (with its Ethernet header); false if it is not one.
bool parse_arp(const std::uint8_t* f, std::uint32_t caplen, ArpMessage& m);

// Writes an ARP frame (kArpFrameLength bytes) to `dst`: Ethernet to `eth_dst` from m.sha.
void build_arp(std::uint8_t* dst, const std::uint8_t* eth_dst, const ArpMessage& m);

class NeighbourTable {
public:
    explicit NeighbourTable(std::size_t capacity = 256) : capacity_(capacity) {}
    // The MAC address of `ip`, or null.
    const std::uint8_t* find(std::uint32_t ip) const;
    // Records `ip` at `mac`; returns whether the entry is new or changed.
    bool learn(std::uint32_t ip, const std::uint8_t* mac, std::uint64_t now);
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::uint32_t ip;
        std::uint8_t mac[6];
        std::uint64_t seen;
    };
    std::size_t capacity_;
    std::vector<Entry> entries_;
};

}  // namespace hp::live
