// The Hyperplane fleet's dispatch (hyperplane/fleet): which tenant and which of its slots each
// packet of a batch goes to, in one pass, and the batch's order grouped by slot in one counting
// sort, so the fleet hands each slot's packets to its stage as one slice without a per-packet
// step in Python and without a comparison sort.
//
// A packet belongs to the tenant whose address it is sent to, whose mount target sent it, or
// whose private network it comes from (a NAT gateway's outbound traffic); addresses and
// networks sit in small open-addressing maps (networks one map per prefix length), so a lookup
// is a multiply and a probe or two. The slot is a flow hash modulo the tenant's slots, the same
// both ways for a mount target's NFS flows; a reply to a NAT gateway's public address goes to the
// slot that owns its port (each slot gives out its own slice of ports: table/port_slice.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.hpp"

namespace hp {

enum class FleetKind : std::uint8_t { nat = 0, nlb = 1, efs = 2 };

class FleetRouter {
public:
    // Tenant `t` (the next index) with its first slot `base` among all tenants' and `slots` slots.
    void add_tenant(std::uint32_t base, std::uint32_t slots, FleetKind kind);
    // Packets to `address` (and, with `from_too`, from it) belong to `tenant`.
    void add_address(std::uint32_t address, std::uint32_t tenant, bool from_too);
    // Packets from the network `base`/`prefix` belong to `tenant`.
    void add_network(std::uint32_t base, unsigned prefix, std::uint32_t tenant);

    // Per packet: its tenant and its slot (over every tenant's slots), -1 when it has none, and its flow hash.
    void route(const Packet* in, std::size_t n, std::int32_t* tenant, std::int32_t* slot, std::uint64_t* hash) const;
    // The packets' order grouped by slot (those without one first), each group in batch order;
    // counts[s + 1] packets of slot s, counts[0] without one. `counts` holds slots + 1 entries.
    static void group(const std::int32_t* slot, std::size_t n, std::size_t slots, std::uint32_t* order,
                      std::uint32_t* counts);
    // out[i] = in[order[i]] (into the grouped order), and back: out[order[i]] = in[i].
    static void gather(const Packet* in, const std::uint32_t* order, std::size_t n, Packet* out) {
        for (std::size_t i = 0; i < n; ++i) out[i] = in[order[i]];
    }
    static void scatter(const Packet* in, const std::uint32_t* order, std::size_t n, Packet* out) {
        for (std::size_t i = 0; i < n; ++i) out[order[i]] = in[i];
    }

private:
    // uint32 -> int32, open addressing with linear probing, at most half full.
    class Map {
    public:
        void put(std::uint32_t key, std::int32_t value);
        std::int32_t get(std::uint32_t key) const {
            if (vals_.empty()) return -1;
            for (std::size_t i = home(key);; i = (i + 1) & mask_) {
                if (vals_[i] < 0) return -1;
                if (keys_[i] == key) return vals_[i];
            }
        }

    private:
        std::size_t home(std::uint32_t key) const {
            return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_) & mask_;
        }
        std::vector<std::uint32_t> keys_;
        std::vector<std::int32_t> vals_;  // -1: empty
        std::size_t size_ = 0, mask_ = 0;
        unsigned shift_ = 64;
    };
    struct Networks {
        unsigned prefix;
        std::uint32_t mask;
        Map map;
    };
    struct Tenant {
        std::uint32_t base, slots;
        FleetKind kind;
    };

    std::vector<Tenant> tenants_;
    Map to_, from_;
    std::vector<Networks> networks_;
};

}  // namespace hp
