// Live connections per (public address, destination): the NAT gateway's
// 55,000-per-destination limit. A fixed-capacity open-addressing map with
// linear probing and backward-shift deletion (no tombstones), sized with the
// connection table so it never fills first.
//
// Each entry also keeps a lower bound on its connections' deadlines (the
// earliest noted; a connection's deadline only moves later), so a stage at
// the limit knows without a search whether any of them can have timed out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/flow_key.hpp"
#include "core/prefetch.hpp"

namespace hp {

class DestinationCounts {
public:
    DestinationCounts(std::size_t capacity, const HashKey& key) : key_(key), slots_(capacity * 2 + 16) {}

    static std::uint64_t key_of(std::uint8_t public_ip, std::uint32_t dst_ip, std::uint16_t dst_port,
                                std::uint8_t proto) {
        // Never 0: 0 marks an empty slot.
        return (static_cast<std::uint64_t>(dst_ip) << 32 | static_cast<std::uint64_t>(dst_port) << 16 |
                static_cast<std::uint64_t>(proto) << 8 | public_ip) +
               1;
    }

    // Fetches the slot where `k`'s search starts (the NAT pipeline's, ahead of a new connection).
    void prefetch(std::uint64_t k) const { hp::prefetch(&slots_[home(k)]); }

    std::uint32_t count(std::uint64_t k) const {
        for (std::size_t i = home(k);; i = next(i)) {
            if (slots_[i].key == k) return slots_[i].count;
            if (slots_[i].key == 0) return 0;
        }
    }

    // A lower bound on the deadlines of the connections counted under `k`: none has expired at or before it.
    std::uint64_t earliest(std::uint64_t k) const {
        for (std::size_t i = home(k);; i = next(i)) {
            if (slots_[i].key == k) return slots_[i].earliest;
            if (slots_[i].key == 0) return kNever;
        }
    }

    // Counts a connection with deadline `deadline` under `k`.
    void add(std::uint64_t k, std::uint64_t deadline) {
        std::size_t i = home(k);
        while (slots_[i].key != 0 && slots_[i].key != k) i = next(i);
        if (slots_[i].key == 0) slots_[i].earliest = kNever;
        slots_[i].key = k;
        ++slots_[i].count;
        slots_[i].earliest = std::min(slots_[i].earliest, deadline);
    }

    // Rebuilding the bounds exactly: forget them all, then note() every live connection's deadline.
    void forget_deadlines() {
        for (Slot& s : slots_) s.earliest = kNever;
    }
    void note(std::uint64_t k, std::uint64_t deadline) {
        std::size_t i = home(k);
        while (slots_[i].key != k) {
            if (slots_[i].key == 0) return;
            i = next(i);
        }
        slots_[i].earliest = std::min(slots_[i].earliest, deadline);
    }

    void remove(std::uint64_t k) {
        std::size_t i = home(k);
        while (slots_[i].key != k) {
            if (slots_[i].key == 0) return;
            i = next(i);
        }
        if (--slots_[i].count > 0) return;
        // Backward shift: pull later entries of the run into the hole when their
        // home is not between the hole and themselves.
        std::size_t hole = i;
        for (std::size_t j = next(i); slots_[j].key != 0; j = next(j)) {
            const std::size_t h = home(slots_[j].key);
            const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
            if (stays) continue;
            slots_[hole] = slots_[j];
            hole = j;
        }
        slots_[hole] = Slot{};
    }

private:
    static constexpr std::uint64_t kNever = ~std::uint64_t{0};
    struct Slot {
        std::uint64_t key = 0;
        std::uint32_t count = 0;
        std::uint64_t earliest = kNever;
    };
    std::size_t home(std::uint64_t k) const {
        return static_cast<std::size_t>((static_cast<uint128>(mix_mul(k ^ key_.k[0], key_.k[1] | 1)) * slots_.size()) >>
                                        64);
    }
    std::size_t next(std::size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }

    HashKey key_;
    std::vector<Slot> slots_;
};

}  // namespace hp
