// What every shard of a flow-table stage (conntrack, NAT, the load balancer)
// has and does the same way: its table and the pipeline's per-packet hooks
// into it, its verdict counts, its packet time, and an incremental sweep
// paced by its own packets. A stage's shard derives from FlowShard<Itself>
// and writes only what is its own: handle() for a packet, sweep() for a run
// of slots, and its records' meaning.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/flow_key.hpp"
#include "core/timeouts.hpp"
#include "table/alias.hpp"
#include "table/flow_table.hpp"
#include "table/state_record.hpp"
#include "verdict.gen.hpp"

namespace hp {

template <class Derived>
class FlowShard {
public:
    // The pipeline's stages (runtime/pipeline.hpp): hash the key, fetch its
    // group, fetch its likely record; follow() is a stage for tables whose
    // record leads to another, a no-op unless the shard hides it.
    std::uint64_t hash(const FlowKey& k) const { return table_.hash(k); }
    void prefetch_group(std::uint64_t h) const { table_.prefetch_group(h); }
    void prefetch_record(std::uint64_t h) const { table_.prefetch_record(h); }
    void follow(const KeyedPacket&, std::uint64_t) const {}
    // Ahead of import_row(): the groups the row's keys will probe (a stage with aliases adds theirs).
    void prefetch_import(const StateRecord& s, const Packet&) const { table_.prefetch_record(table_.hash(key_of(s))); }

    const VerdictCounts& verdicts() const { return verdicts_; }
    const FlowTable& table() const { return table_; }
    unsigned index() const { return index_; }
    // A copy's history: packets by verdict counted before it was made.
    void add_verdicts(const VerdictCounts& v) {
        for (std::size_t k = 0; k < kVerdictCount; ++k) verdicts_[k] += v[k];
    }

protected:
    // The sweep checks kSweepSlots consecutive slots every kSweepEvery packets,
    // in runs, so its records stream in together instead of each costing a
    // miss; kFullSweep slots when a new connection finds the table full.
    static constexpr std::size_t kSweepEvery = 64, kSweepSlots = 16, kFullSweep = 256;

    FlowShard(unsigned index, std::size_t slots, const HashKey& key) : index_(index), table_(slots, key) {}

    void advance(std::uint64_t ts) { now_ = std::max(now_, ts); }

    // A new connection's record in `slot`, opened by its first packet `p`: its
    // state, direction, timeout class, times and first counts, and the stage's
    // extension `ext` (the key is in place since insert()).
    template <class Ext>
    FlowRecord& open_record(std::size_t slot, const Packet& p, bool from_lo, std::uint8_t state, const Ext& ext) {
        FlowRecord& r = table_.record(slot);
        r.state = state;
        r.flags = from_lo ? flow_flag::orig_lo : 0;
        r.timeout_class = timeout_class(r.proto, state, r.flags);
        r.first_ts = r.last_ts = p.ts;
        r.bytes[0] = p.length, r.bytes[1] = 0;
        r.packets[0] = 1, r.packets[1] = 0;
        r.set_ext(ext);
        return r;
    }

    // Counts a packet's verdict and paces the sweep by the shard's own packets,
    // so where a batch is cut never changes when a slot is swept.
    Verdict counted(Verdict v) {
        ++verdicts_[static_cast<std::size_t>(v)];
        if (++since_sweep_ == kSweepEvery) {
            since_sweep_ = 0;
            static_cast<Derived*>(this)->sweep(kSweepSlots);
        }
        return v;
    }

    // Calls end(slot) for each connection (not alias) among the next `slots` slots idle past its timeout.
    template <class End>
    void sweep_timed_out(std::size_t slots, const Timeouts& timeouts, End end) {
        table_.sweep(
            cursor_, slots,
            [&](std::size_t slot) {
                const FlowRecord& r = table_.record(slot);
                if (!is_alias(r) && timeouts.expired(r, now_)) end(slot);
            },
            [] {});
    }

    // Calls end(slot) for every connection (not alias) idle past its timeout at `now`.
    template <class End>
    void expire_timed_out(std::uint64_t now, const Timeouts& timeouts, End end) {
        now_ = std::max(now_, now);
        for (std::size_t slot = 0; slot < table_.slots(); ++slot) {
            if (!table_.occupied(slot)) continue;
            const FlowRecord& r = table_.record(slot);
            if (!is_alias(r) && timeouts.expired(r, now)) end(slot);
        }
    }

    // A gauge's levels in minutes [from, to) that no packet of this shard fell in:
    // the connections held for which include(record) holds that were alive at
    // each minute's start (none opens without a packet, so that is the most).
    template <class Minutes, class Include>
    void carry_gauge(Minutes& minutes, std::size_t from, std::size_t to, const Timeouts& timeouts,
                     Include include) const {
        if (from >= to) return;
        std::vector<std::uint64_t> ends(to - from + 1, 0);  // alive through minute m: +1 at 0, -1 after m
        std::uint64_t alive = 0;
        for_each_connection([&](const FlowRecord& r) {
            if (!include(r)) return;
            const std::size_t last = minutes.minute_of(timeouts.deadline(r));
            if (last < from) return;
            ++alive;
            if (last < to - 1) ++ends[last - from + 1];
        });
        for (std::size_t m = from; m < to; ++m) {
            alive -= ends[m - from];
            minutes.raise_gauge(m, alive);
        }
    }

    // Calls visit(record) for every connection held (aliases skipped).
    template <class Visit>
    void for_each_connection(Visit visit) const {
        for (std::size_t slot = 0; slot < table_.slots(); ++slot)
            if (table_.occupied(slot) && !is_alias(table_.record(slot))) visit(table_.record(slot));
    }

    unsigned index_;  // which shard of the stage this is
    FlowTable table_;
    VerdictCounts verdicts_{};
    std::uint64_t now_ = 0;  // the latest packet time this shard has seen
    std::size_t cursor_ = 0, since_sweep_ = 0;
};

}  // namespace hp
