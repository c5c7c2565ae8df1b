// What every sharded stage (conntrack, NAT, the load balancer) has and does
// the same way around its shards: the configuration they all take, checked in
// one place; the RSS that assigns packets to shards; one batch through the
// shards on any number of threads with the same result (run_sharded); the
// metrics' first minute; expiry; and verdicts and metrics summed over shards.
// A stage derives from ShardedStage<Shard, Config, Outcome>, builds its shards
// and says, per packet, which shard decides and what it writes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/memory_limit.hpp"
#include "core/packet.hpp"
#include "core/timeouts.hpp"
#include "hash/rss.hpp"
#include "metrics/per_minute.hpp"
#include "runtime/shard_dispatch.hpp"
#include "runtime/sharded_batch.hpp"
#include "table/flow_table.hpp"
#include "table/state_record.hpp"
#include "verdict.gen.hpp"

namespace hp {

// The configuration every sharded stage takes; a stage's own config derives from it.
struct StageConfig {
    static constexpr bool kMetered = false;  // a stage with CloudWatch metrics per minute says true
    std::size_t capacity = 0;                // connections, over all shards
    unsigned queues = 1;                     // shards (RSS queues), 1..128
    Timeouts timeouts{};
    HashKey key{};                   // the flow table's secret hash key
    std::uint64_t seed = 0;          // the stage's random choices (ports)
    std::uint64_t start_minute = 0;  // metrics[0]: set to the first packet's minute
};

// Throws std::invalid_argument (ValueError in Python) naming what is wrong.
inline void check_stage_config(const StageConfig& cfg) {
    if (cfg.capacity == 0) throw std::invalid_argument("capacity must be positive");
    if (cfg.queues < 1 || cfg.queues > 128) throw std::invalid_argument("queues must be in 1..128");
}

template <class Shard, class Config, class Outcome>
class ShardedStage {
public:
    ShardedStage(const ShardedStage&) = delete;  // shards keep pointers into the stage
    ShardedStage& operator=(const ShardedStage&) = delete;

    void expire(std::uint64_t now) {
        if constexpr (Config::kMetered) check_metrics_reach(now);
        for (auto& s : shards_) s.expire(now);
    }
    VerdictCounts verdicts() const {
        VerdictCounts total{};
        for (const auto& s : shards_)
            for (std::size_t v = 0; v < kVerdictCount; ++v) total[v] += s.verdicts()[v];
        return total;
    }
    // Per-minute metrics summed over shards (each adds its rows with add_metrics()).
    template <class Row>
    std::vector<Row> metrics() const {
        std::vector<Row> out;
        for (const auto& s : shards_) s.add_metrics(out);
        return out;
    }
    // One shard's minutes, and restoring a copy's shard by shard (a metered stage's gauges are
    // per shard), with where each shard's minutes stand.
    template <class Row>
    std::vector<Row> shard_metrics(std::size_t shard) const {
        std::vector<Row> out;
        shards_.at(shard).add_metrics(out);
        return out;
    }
    template <class Row>
    void restore_metrics(std::size_t shard, const std::vector<Row>& rows) {
        shards_.at(shard).restore_metrics(rows);
    }
    std::vector<std::uint64_t> minute_positions() const {
        std::vector<std::uint64_t> out;
        for (const auto& s : shards_) out.push_back(s.minute_position());
        return out;
    }
    void resume_minutes(const std::vector<std::uint64_t>& positions) {
        if (positions.size() != shards_.size()) throw std::invalid_argument("positions must hold one per shard");
        for (std::size_t k = 0; k < positions.size(); ++k) shards_[k].resume_minute(positions[k]);
    }
    // Rows of a listing (flows, connections), each shard's appended by its append_rows().
    template <class Row>
    std::vector<Row> rows() const {
        std::vector<Row> out;
        out.reserve(size());
        for (const auto& s : shards_) s.append_rows(out);
        return out;
    }
    // Connections held, over all shards.
    std::size_t size() const {
        std::size_t n = 0;
        for (const auto& s : shards_) n += s.connections();
        return n;
    }
    // Every connection held, as state rows (table/state_record.hpp), shard by shard.
    std::vector<StateRecord> export_state() const {
        std::vector<StateRecord> out;
        out.reserve(size());
        for (const auto& s : shards_) s.export_rows(out);
        return out;
    }
    // Connections exported by a stage of the same configuration, each placed in the shard its
    // packets will reach (their RSS queue, as process() assigns them) and added there by the
    // shard's import_row(): a row with the key of a connection held replaces it. Every row is
    // checked before anything changes (std::invalid_argument naming `state`[i]); a full table
    // or a binding this stage cannot keep is counted, never thrown.
    ImportCounts import_state(const StateRecord* rows, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) check_state_row(rows[i], i, "state");
        std::vector<Packet> origins(n);
        std::vector<std::uint16_t> ids(n);
        for (std::size_t i = 0; i < n; ++i) origins[i] = origin_packet(rows[i]);
        if (n) rss_assign(origins.data(), 0, n, ids.data());
        ImportCounts counts;
        // The rows' table groups are fetched 16 rows ahead, as the packet pipeline fetches them.
        constexpr std::size_t kAhead = 16;
        const auto fetch = [&](std::size_t i) { shards_[ids[i]].prefetch_import(rows[i], origins[i]); };
        for (std::size_t i = 0; i < std::min(n, kAhead); ++i) fetch(i);
        for (std::size_t i = 0; i < n; ++i) {
            if (i + kAhead < n) fetch(i + kAhead);
            count_import(counts, shards_[ids[i]].import_row(rows[i], origins[i]));
        }
        return counts;
    }
    // What a copy of the stage carries besides its connections: packets by verdict and, for a
    // metered stage, its minutes (added to shard 0's, from `start_minute` on).
    void restore_verdicts(const VerdictCounts& v) { shards_[0].add_verdicts(v); }
    void restore_start(std::uint64_t start_minute) {
        cfg_.start_minute = start_minute;
        started_ = true;
    }
    const Config& config() const { return cfg_; }
    unsigned queues() const { return cfg_.queues; }
    std::uint64_t start_minute() const { return cfg_.start_minute; }

protected:
    ShardedStage(const Config& cfg, const RssKey& rss_key)
        : cfg_(cfg), rss_(rss_key, round_robin_indirection(checked(cfg)), FragmentHash::whole_datagram) {}

    // Each shard's share of the capacity.
    std::size_t per_shard() const { return (cfg_.capacity + cfg_.queues - 1) / cfg_.queues; }

    // One batch: checks its size (and a metered stage its time span), starts the metrics'
    // minutes at the first batch, then assign(begin, end, ids), decide(shard, i, keyed, hash)
    // -> Outcome and emit(i, outcome) as run_sharded defines them.
    template <class Assign, class Decide, class Emit>
    void run(const Packet* in, std::size_t n, unsigned threads, Assign assign, Decide decide, Emit emit) {
        if (n > 0xffffffffULL) throw std::invalid_argument("a batch may hold at most 2^32 - 1 packets");
        if (n == 0) return;
        if constexpr (Config::kMetered) check_metrics_span(in, n);
        if (!started_) {
            cfg_.start_minute = earliest_minute(in, n);
            started_ = true;
        }
        const unsigned workers = std::max(1U, std::min(threads, cfg_.queues));
        run_sharded(dispatch_, shards_, grouped_, workers, in, n, assign, decide, emit);
    }
    // The usual assignment: each packet's RSS queue.
    void rss_assign(const Packet* in, std::size_t begin, std::size_t end, std::uint16_t* ids) const {
        rss_shards(rss_, cfg_.queues, in, begin, end, ids);
    }

    Config cfg_;
    Rss rss_;
    std::vector<Shard> shards_;

private:
    // Metered stages (Config::kMetered) keep a row per minute of packet time from their first:
    // a batch or an expire() reaching past kMaxMetricMinutes of it is refused whole
    // (ValueError), before anything changes.
    static constexpr std::uint64_t kMaxMetricMinutes = 366ULL * 24 * 60;
    void check_metrics_span(const Packet* in, std::size_t n) const {
        std::uint64_t first = in[0].ts, last = in[0].ts;
        for (std::size_t i = 1; i < n; ++i) first = std::min(first, in[i].ts), last = std::max(last, in[i].ts);
        check_metrics_reach(started_ ? cfg_.start_minute : first / kMinuteNs, last, "batch: a packet at ts=");
    }
    void check_metrics_reach(std::uint64_t now) const {
        if (started_) check_metrics_reach(cfg_.start_minute, now, "now_ns=");
    }

    static void check_metrics_reach(std::uint64_t start_minute, std::uint64_t ts, const char* what) {
        const std::uint64_t at = ts / kMinuteNs;
        if (at > start_minute && at - start_minute >= kMaxMetricMinutes)
            throw std::invalid_argument(std::string(what) + std::to_string(ts) + " ns is " +
                                        std::to_string(at - start_minute) +
                                        " minutes after the stage's first; metrics keep one row per minute, "
                                        "for at most 527040 minutes (366 days) of packet time");
    }
    static unsigned checked(const StageConfig& cfg) {
        check_stage_config(cfg);
        // Every shard's table, before any is allocated.
        const std::size_t per_shard = (cfg.capacity + cfg.queues - 1) / cfg.queues;
        const std::size_t table = FlowTable::bytes_for(per_shard);
        check_fits(table > ~std::size_t{0} / cfg.queues ? ~std::size_t{0} : table * cfg.queues,
                   "a table of " + std::to_string(cfg.capacity) + " connections");
        return cfg.queues;
    }

    bool started_ = false;
    ShardDispatch dispatch_;
    std::vector<Outcome> grouped_;  // outcomes between the passes of the threaded path
};

}  // namespace hp
