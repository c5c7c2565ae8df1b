// A Network Load Balancer as Hyperplane runs one: a node per zone takes
// packets sent to its address, picks a target for each new flow from its
// Maglev table, and keeps the flow on that target for its life, whatever
// happens to the tables afterwards. Unhealthy and drained targets lose their
// flows (RESET) when connection termination is on. Client-to-target direction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "table/destination_counts.hpp"
#include "table/flow_table.hpp"
#include "core/packet.hpp"
#include "metrics/per_minute.hpp"
#include "hash/rss.hpp"
#include "runtime/shard_dispatch.hpp"
#include "core/timeouts.hpp"
#include "counters.gen.hpp"
#include "verdict.gen.hpp"

namespace hp {

using NlbMinute = PerMinute<kNlbMetricCount>::Row;

inline constexpr std::uint32_t kNoTarget = 0xffffffffU;

struct NlbTarget {
    std::uint32_t ip;
    std::uint16_t port;
    bool healthy, registered;
    std::uint64_t drain_deadline;  // flows end after this (ns); ~0: not draining
};

struct NlbConfig {
    std::size_t capacity = 0;
    unsigned queues = 1;
    std::vector<std::uint32_t> nodes;                          // one address per zone
    std::vector<std::pair<std::uint16_t, std::uint8_t>> listeners;  // (port, protocol)
    Timeouts timeouts{};
    HashKey key{};        // the flow table's
    HashKey flow_key{};   // the target-choosing flow hash's
    std::uint64_t seed = 0;
    bool preserve_client_ip = true;
    bool terminate = true;             // RESET flows of unhealthy and drained targets
    std::uint32_t per_target = 55000;  // source NAT: connections per (node, target)
    std::uint64_t start_minute = 0;
};

// A packet's rewrite and target, written per shard and applied in batch order.
struct NlbResult {
    std::uint32_t dst_ip, src_ip, target;
    std::uint16_t dst_port, src_port;
    bool rewrite, snat;
};

struct NlbOutcome {
    NlbResult result;
    Verdict verdict;
};

class alignas(64) NlbShard {
public:
    NlbShard(unsigned index, std::size_t capacity, const NlbConfig& cfg, const std::vector<NlbTarget>& targets,
             const std::vector<std::vector<std::uint32_t>>& tables);

    std::uint64_t hash(const FlowKey& k) const { return table_.hash(k); }
    void prefetch_group(std::uint64_t h) const { table_.prefetch_group(h); }
    void prefetch_record(std::uint64_t h) const { table_.prefetch_record(h); }
    void follow(const FlowKey&, std::uint64_t) const {}
    Verdict handle(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);

    void expire(std::uint64_t now);
    void add_metrics(std::vector<NlbMinute>& out) const { minutes_.add_to(out); }
    const std::array<std::uint64_t, kVerdictCount>& verdicts() const { return verdicts_; }
    std::size_t flows() const { return live_; }
    // Flows per target, added to `out`.
    void count_targets(std::vector<std::uint64_t>& out) const;

private:
    Verdict decide(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);
    Verdict open(const Packet& p, std::size_t node, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);
    std::uint32_t choose(const Packet& p, std::size_t node) const;
    void close(std::size_t slot);
    void sweep(std::size_t slots);
    std::uint64_t random();

    unsigned index_;
    const NlbConfig* cfg_;
    const std::vector<NlbTarget>* targets_;
    const std::vector<std::vector<std::uint32_t>>* tables_;
    FlowTable table_;
    DestinationCounts snat_counts_;
    PerMinute<kNlbMetricCount> minutes_;
    std::array<std::uint64_t, kVerdictCount> verdicts_{};
    std::uint64_t now_ = 0, rng_;
    std::size_t live_ = 0, cursor_ = 0, since_sweep_ = 0;
};

class NetworkLoadBalancer {
public:
    explicit NetworkLoadBalancer(const NlbConfig& cfg);
    NetworkLoadBalancer(const NetworkLoadBalancer&) = delete;
    NetworkLoadBalancer& operator=(const NetworkLoadBalancer&) = delete;

    // Between batches: the targets' states, and per node its table of target indices.
    void set_targets(std::vector<NlbTarget> targets) { targets_ = std::move(targets); }
    void set_table(std::size_t node, std::vector<std::uint32_t> table);

    void process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts, std::uint32_t* targets,
                 unsigned threads);
    void expire(std::uint64_t now);
    std::vector<NlbMinute> metrics() const;
    std::array<std::uint64_t, kVerdictCount> verdicts() const;
    std::vector<std::uint64_t> flows_per_target() const;
    std::size_t size() const;
    std::uint64_t start_minute() const { return cfg_.start_minute; }

private:
    NlbConfig cfg_;
    bool started_ = false;
    std::vector<NlbTarget> targets_;
    std::vector<std::vector<std::uint32_t>> tables_;
    Rss rss_;
    std::vector<NlbShard> shards_;
    ShardDispatch dispatch_;
    std::vector<NlbOutcome> grouped_;  // between the passes of the threaded path
};

}  // namespace hp
