// The software pipeline every flow-table stage runs its packets through, as
// DPDK's bulk lookups and VPP's graph nodes do: packet i is keyed, hashed and
// its table group fetched; packet i - kAhead has its likely record fetched;
// packet i - 2 kAhead is decided. Every fetch has kAhead packets of work to
// arrive behind, so a table far larger than the caches is read with many
// misses in flight instead of one at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/flow_key.hpp"
#include "core/prefetch.hpp"

namespace hp {

inline constexpr std::size_t kPipelineAhead = 16;  // measured: 8 and 32 are no better
inline constexpr std::size_t kPipelineRing = 64;   // > 2 kAhead, a power of two

// `packet(i)` is packet i; `table(i)` the table that tracks it (with hash,
// prefetch_group, prefetch_record and follow); `decide(i, keyed, hash)`
// handles it. `follow(keyed, hash)` is a fourth stage, half a distance after
// the record fetch, for tables whose record leads to another (a NAT reply's
// alias to its connection, a new connection's per-destination count); a table
// without one makes it a no-op.
template <class PacketAt, class TableAt, class Decide>
void flow_pipeline(std::size_t n, PacketAt packet, TableAt table, Decide decide) {
    constexpr std::size_t ahead = kPipelineAhead, ring = kPipelineRing;
    KeyedPacket keyed[ring];
    std::uint64_t hashes[ring];
    for (std::size_t i = 0; i < n + 2 * ahead; ++i) {
        if (i < n) {
            const std::size_t r = i % ring;
            keyed[r] = flow_key_of(packet(i));
            hashes[r] = table(i).hash(keyed[r].key);
            table(i).prefetch_group(hashes[r]);
        }
        if (i >= ahead && i - ahead < n) table(i - ahead).prefetch_record(hashes[(i - ahead) % ring]);
        if (i >= ahead + ahead / 2 && i - ahead - ahead / 2 < n) {
            const std::size_t j = i - ahead - ahead / 2, r = j % ring;
            table(j).follow(keyed[r], hashes[r]);
        }
        if (i >= 2 * ahead) {
            const std::size_t j = i - 2 * ahead, r = j % ring;
            decide(j, keyed[r], hashes[r]);
        }
        if (i + 3 * ahead < n) prefetch(&packet(i + 3 * ahead));
    }
}

}  // namespace hp
