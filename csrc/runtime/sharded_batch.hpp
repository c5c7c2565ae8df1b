// One batch through a stage whose state is split in shards (connection
// tracking, NAT, the load balancer), with the same result for any number of
// threads. One thread takes the batch in order, each packet to its shard's
// table; more threads group packets by shard first (ShardDispatch) and each
// worker runs its shards' packets through the pipeline.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.hpp"
#include "runtime/pipeline.hpp"
#include "hash/rss.hpp"
#include "runtime/shard_dispatch.hpp"
#include "verdict.gen.hpp"

namespace hp {

// The usual shard assignment: each packet's RSS queue (all shard 0 with one queue,
// without hashing).
inline void rss_shards(const Rss& rss, std::size_t queues, const Packet* in, std::size_t begin, std::size_t end,
                       std::uint16_t* ids) {
    if (queues == 1)
        std::fill(ids + begin, ids + end, std::uint16_t{0});
    else
        rss.queue(in + begin, end - begin, ids + begin);
}

// assign(begin, end, ids): the shard of each packet in [begin, end).
// decide(shard, i, keyed, hash) -> Result: packet i, handled by its shard.
// emit(i, result): packet i's result, in batch order.
// `grouped` holds results between the two passes of the threaded path.
template <class Shard, class Result, class Assign, class Decide, class Emit>
void run_sharded(ShardDispatch& dispatch, std::vector<Shard>& shards, std::vector<Result>& grouped, unsigned workers,
                 const Packet* in, std::size_t n, Assign assign, Decide decide, Emit emit) {
    if (workers == 1) {
        std::uint16_t* ids = dispatch.ids(n);
        assign(0, n, ids);
        flow_pipeline(
            n, [&](std::size_t i) -> const Packet& { return in[i]; },
            [&](std::size_t i) -> Shard& { return shards[ids[i]]; },
            [&](std::size_t i, const KeyedPacket& kp, std::uint64_t h) { emit(i, decide(shards[ids[i]], i, kp, h)); });
        return;
    }
    grouped.resize(n);
    dispatch.run(
        workers, n, shards.size(), assign,
        [&](std::size_t s, const std::uint32_t* idx, std::size_t count, std::size_t first) {
            Shard& shard = shards[s];
            flow_pipeline(
                count, [&](std::size_t j) -> const Packet& { return in[idx[j]]; },
                [&](std::size_t) -> Shard& { return shard; },
                [&](std::size_t j, const KeyedPacket& kp, std::uint64_t h) {
                    grouped[first + j] = decide(shard, idx[j], kp, h);
                });
        },
        [&](std::size_t i, std::size_t pos) { emit(i, grouped[pos]); });
}

}  // namespace hp
