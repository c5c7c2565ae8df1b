// Runs a batch through per-shard state on several threads without changing a
// result: packet indices are grouped by shard with a stable, parallel counting
// sort, worker w takes the shards s with s % workers == w (each sees its own
// packets in batch order), and each shard writes its results into its own
// stretch of a grouped buffer, which a last parallel pass reads back in batch
// order. Written in batch order directly, two workers would share every cache
// line of the output.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/thread_pool.hpp"

namespace hp {

class ShardDispatch {
public:
    // A per-packet shard buffer of n entries, kept across batches.
    std::uint16_t* ids(std::size_t n) {
        ids_.resize(n);
        return ids_.data();
    }

    // A pool of `workers` threads (the caller included), kept across batches.
    ThreadPool& pool(unsigned workers) {
        if (!pool_ || pool_->threads() != workers) pool_ = std::make_unique<ThreadPool>(workers);
        return *pool_;
    }

    // assign(begin, end, ids): the shard of packets [begin, end) into ids[begin..end).
    // run(s, idx, count, first): shard s's `count` packets idx[0..count), whose results
    //   go to grouped positions first .. first + count.
    // gather(i, pos): packet i's result is at grouped position pos.
    template <class Assign, class Run, class Gather>
    void run(unsigned workers, std::size_t n, std::size_t shards, Assign assign, Run run, Gather gather) {
        ThreadPool& threads = pool(workers);
        ids_.resize(n);
        order_.resize(n);
        rank_.resize(n);
        std::uint16_t* ids = ids_.data();
        std::uint32_t* order = order_.data();
        std::uint32_t* rank = rank_.data();
        const std::size_t chunk = (n + workers - 1) / workers;
        auto span = [&](unsigned c) {
            return std::pair<std::size_t, std::size_t>{std::min(n, c * chunk), std::min(n, (c + 1) * chunk)};
        };
        std::vector<std::size_t> at(static_cast<std::size_t>(workers) * shards, 0);  // [chunk][shard]
        threads.run(workers, [&](unsigned c) {
            const auto [begin, end] = span(c);
            assign(begin, end, ids);
            std::size_t* count = at.data() + c * shards;
            for (std::size_t i = begin; i < end; ++i) ++count[ids[i]];
        });
        std::vector<std::size_t> first(shards + 1, 0);
        for (std::size_t s = 0, pos = 0; s < shards; ++s) {
            first[s] = pos;
            for (unsigned c = 0; c < workers; ++c) {
                const std::size_t count = at[c * shards + s];
                at[c * shards + s] = pos;
                pos += count;
            }
            first[s + 1] = pos;
        }
        threads.run(workers, [&](unsigned c) {
            const auto [begin, end] = span(c);
            std::size_t* next = at.data() + c * shards;
            for (std::size_t i = begin; i < end; ++i) {
                const std::size_t pos = next[ids[i]]++;
                order[pos] = static_cast<std::uint32_t>(i);
                rank[i] = static_cast<std::uint32_t>(pos);
            }
        });
        threads.run(workers, [&](unsigned w) {
            for (std::size_t s = w; s < shards; s += workers)
                run(s, order + first[s], first[s + 1] - first[s], first[s]);
        });
        threads.run(workers, [&](unsigned c) {
            const auto [begin, end] = span(c);
            for (std::size_t i = begin; i < end; ++i) gather(i, rank[i]);
        });
    }

private:
    std::unique_ptr<ThreadPool> pool_;
    std::vector<std::uint16_t> ids_;    // per packet; reused across batches
    std::vector<std::uint32_t> order_;  // packet indices grouped by shard
    std::vector<std::uint32_t> rank_;   // each packet's position in order_
};

}  // namespace hp
