// A Network Load Balancer as Hyperplane runs one: a node per zone takes
// packets sent to its address, picks a target for each new flow from its
// Maglev table, and keeps the flow on that target for its life, whatever
// happens to the tables afterwards. Unhealthy and drained targets lose their
// flows (RESET) when connection termination is on. Client-to-target direction in
// process(); the targets' replies, translated back to come from the listener, in
// process_replies().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "table/destination_counts.hpp"
#include "core/random.hpp"
#include "runtime/flow_shard.hpp"
#include "runtime/sharded_stage.hpp"
#include "table/flow_table.hpp"
#include "table/port_slice.hpp"
#include "table/state_record.hpp"
#include "core/packet.hpp"
#include "metrics/per_minute.hpp"
#include "hash/rss.hpp"
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

struct NlbConfig : StageConfig {
    static constexpr bool kMetered = true;
    std::vector<std::uint32_t> nodes;                               // one address per zone
    std::vector<std::pair<std::uint16_t, std::uint8_t>> listeners;  // (port, protocol)
    HashKey flow_key{};                                             // the target-choosing flow hash's
    bool preserve_client_ip = true;
    // AWS's two target-group attributes, separately:
    bool terminate_unhealthy = true;      // target_health_state.unhealthy.connection_termination.enabled
    bool terminate_deregistered = false;  // deregistration_delay.connection_termination.enabled
    std::uint32_t per_target = 55000;     // source NAT: connections per (node, target)
};

// A flow's record's extension: its target and, with source NAT, its alias and port.
struct NlbExt {
    std::uint32_t alias;   // kNoAlias without source NAT
    std::uint16_t target;  // index into the targets (at most kMaxTargets)
    std::uint16_t snat_port;
};
inline constexpr std::uint32_t kNoAlias = 0xffffffffU;
inline constexpr std::size_t kMaxTargets = 0xffff;

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

// One row of NetworkLoadBalancer::flows(): the client's tuple to its node, the target it went
// to and, with source NAT, the node's port the target sees.
struct NlbFlow {
    std::uint64_t first_ts, last_ts;
    std::uint64_t bytes;
    std::uint32_t packets;
    std::uint32_t client_ip, node_ip, target_ip;
    std::uint16_t client_port, node_port, target_port, snat_port;
    std::uint16_t target_index, shard;
    std::uint8_t proto, state;
    std::uint8_t unused[6];  // named, so the rows handed to numpy carry no indeterminate padding
};
static_assert(sizeof(NlbFlow) == 64, "NlbFlow has no padding");

class alignas(64) NlbShard : public FlowShard<NlbShard> {
public:
    NlbShard(unsigned index, std::size_t capacity, const NlbConfig& cfg, const std::vector<NlbTarget>& targets,
             const std::vector<std::vector<std::uint32_t>>& tables, const bool& fail_open);

    Verdict handle(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);
    void sweep(std::size_t slots);

    void expire(std::uint64_t now);
    void add_metrics(std::vector<NlbMinute>& out) const { minutes_.add_to(out); }
    std::size_t connections() const { return live_; }
    // Flows per target, added to `out`.
    void count_targets(std::vector<std::uint64_t>& out) const;
    // The target of the live flow `p` (client to node) belongs to at p.ts, or kNoTarget; changes nothing.
    std::uint32_t flow_target(const Packet& p) const;
    // A target's packet `p` back toward a client: when it belongs to a live flow of this shard
    // (by its source-NAT alias, or as the reply to the client's tuple to a node's listener),
    // updates the flow, writes the rewrite to `res` and returns true with `v` set.
    bool reply(const Packet& p, Verdict& v, NlbResult& res);
    void count_unmatched() { counted(Verdict::drop_unsolicited); }
    void append_rows(std::vector<NlbFlow>& out) const;
    void export_rows(std::vector<StateRecord>& out) const;
    // Adds the flow `s` (its first packet `origin`) on its target, or says why not.
    Imported import_row(const StateRecord& s, const Packet& origin);
    void restore_metrics(const std::vector<NlbMinute>& rows) { minutes_.add_rows(rows); }
    // The shard's current minute (~0 before its first packet), and resuming a copy there.
    std::uint64_t minute_position() const { return minutes_.started() ? minutes_.current() : ~std::uint64_t{0}; }
    void resume_minute(std::uint64_t m) {
        if (m != ~std::uint64_t{0}) minutes_.resume(static_cast<std::size_t>(m));
    }

private:
    Verdict decide(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);
    std::size_t reply_flow(const Packet& p) const;
    Verdict open(const Packet& p, std::size_t node, const KeyedPacket& kp, std::uint64_t h, NlbResult& res);
    std::uint32_t choose(const Packet& p, std::size_t node) const;
    void close(std::size_t slot);
    void new_minute(std::uint64_t ts);
    void count(NlbMetric m, std::uint64_t amount = 1) { minutes_.add(static_cast<std::size_t>(m), amount); }

    const NlbConfig* cfg_;
    const std::vector<NlbTarget>* targets_;
    const std::vector<std::vector<std::uint32_t>>* tables_;
    const bool* fail_open_;
    DestinationCounts snat_counts_;
    PerMinute<kNlbMetricCount> minutes_;
    std::uint64_t port_seed_;  // source-NAT ports drawn per flow, as NAT's (stages/nat.hpp)
    PortSlice ports_;
    std::size_t live_ = 0;
};

class NetworkLoadBalancer : public ShardedStage<NlbShard, NlbConfig, NlbOutcome> {
public:
    explicit NetworkLoadBalancer(const NlbConfig& cfg);

    // Between batches: the targets' states, and per node its table of target indices.
    void set_targets(std::vector<NlbTarget> targets);
    void set_table(std::size_t node, std::vector<std::uint32_t> table);
    // Every registered target unhealthy: the target group fails open (no flow is reset for health).
    void set_fail_open(bool fail_open) { fail_open_ = fail_open; }

    void process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts, std::uint32_t* targets,
                 unsigned threads);
    // The return direction: targets' packets to clients (or, with source NAT, to a node's port),
    // in time order. A packet of a live flow leaves from the node's listener to the client and
    // keeps the flow alive; a target's RST ends it; anything else is drop_unsolicited. One
    // thread: each packet looks for its flow in every shard.
    void process_replies(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts, std::uint32_t* targets);
    std::vector<NlbMinute> metrics() const { return ShardedStage::metrics<NlbMinute>(); }
    std::vector<std::uint64_t> flows_per_target() const;
    // For each probe (a packet from a client to a node's listener), the target of the live flow
    // it names, or kNoTarget: how a target's reply is known to belong to a flow. No state changes.
    void flow_targets(const Packet* probes, std::size_t n, std::uint32_t* out) const;
    std::vector<NlbFlow> flows() const { return rows<NlbFlow>(); }

private:
    std::vector<NlbTarget> targets_;
    std::vector<std::vector<std::uint32_t>> tables_;
    bool fail_open_ = false;
};

}  // namespace hp
