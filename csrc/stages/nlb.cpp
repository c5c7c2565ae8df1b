#include "stages/nlb.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/tcp_reset.hpp"

namespace hp {
namespace {

// The source-NAT tuple of a flow from `p` to `target` through port `port` of the node.
FlowKey snat_key(const Packet& p, const NlbTarget& target, std::uint16_t port) {
    Packet out = p;
    out.src_ip = p.dst_ip, out.src_port = port, out.dst_ip = target.ip, out.dst_port = target.port;
    return flow_key_of(out).key;
}

}  // namespace

NlbShard::NlbShard(unsigned index, std::size_t capacity, const NlbConfig& cfg, const std::vector<NlbTarget>& targets,
                   const std::vector<std::vector<std::uint32_t>>& tables, const bool& fail_open)
    : FlowShard(index, 2 * capacity, cfg.key),
      cfg_(&cfg),
      targets_(&targets),
      tables_(&tables),
      fail_open_(&fail_open),
      snat_counts_(capacity, cfg.key),
      minutes_(&cfg.start_minute, static_cast<std::size_t>(NlbMetric::active_flow_count)),
      port_seed_(splitmix(cfg.seed ^ splitmix(index + 0x51b))),
      ports_(index, cfg.queues) {}

__attribute__((always_inline)) inline Verdict NlbShard::handle(const Packet& p, const KeyedPacket& kp, std::uint64_t h,
                                                               NlbResult& res) {
    advance(p.ts);
    if (minutes_.leaving(p.ts)) new_minute(p.ts);
    minutes_.advance(p.ts);
    res.target = kNoTarget;
    const Verdict v = decide(p, kp, h, res);
    minutes_.gauge(live_);
    return counted(v);
}

Verdict NlbShard::decide(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res) {
    std::size_t node = cfg_->nodes.size();
    for (std::size_t z = 0; z < cfg_->nodes.size(); ++z)
        if (cfg_->nodes[z] == p.dst_ip) node = z;
    if (node == cfg_->nodes.size()) return Verdict::drop_not_routed;
    bool listening = false;
    for (const auto& [port, proto] : cfg_->listeners) listening |= port == p.dst_port && proto == p.proto;
    if (!listening) return Verdict::drop_no_listener;
    count(NlbMetric::processed_packets);
    count(NlbMetric::processed_bytes, p.length);
    const bool tcp = p.proto == proto::tcp;
    const TcpFlagClass cls = tcp_flag_class(p.tcp_flags);
    if (tcp && cls == TcpFlagClass::rst) count(NlbMetric::tcp_client_reset_count);

    std::size_t slot = table_.find(kp.key, h);
    if (slot != FlowTable::npos && is_alias(table_.record(slot))) slot = FlowTable::npos;
    if (slot != FlowTable::npos && cfg_->timeouts.expired(table_.record(slot), p.ts)) {
        close(slot);  // UDP: the next packet is a new flow, perhaps to a new target
        slot = FlowTable::npos;
    }
    if (slot == FlowTable::npos) return open(p, node, kp, h, res);

    FlowRecord& r = table_.record(slot);
    const NlbExt x = r.ext_as<NlbExt>();
    const std::uint32_t t = x.target;
    const NlbTarget& target = (*targets_)[t];
    // AWS: the load balancer "sends a TCP RST for packets received on the client connections
    // associated with the target, unless the unhealthy target triggers the load balancer to fail
    // open"; after the deregistration delay, connections end only where
    // deregistration_delay.connection_termination.enabled is set.
    const bool drained = target.drain_deadline != ~std::uint64_t{0} && p.ts > target.drain_deadline;
    const bool ends = (!target.healthy && cfg_->terminate_unhealthy && !*fail_open_) ||
                      (drained && cfg_->terminate_deregistered) || !target.registered;
    if (ends) {
        // The flow's target is gone: the client learns it with an RST.
        close(slot);
        if (!tcp) return Verdict::drop_no_target;
        count(NlbMetric::tcp_elb_reset_count);
        return Verdict::reset;
    }
    // The balancer sees one direction only, so it cannot follow the handshake
    // as conntrack does: a flow is open from its SYN until it idles out, and a
    // client's RST ends it once forwarded.
    if (tcp && cls != TcpFlagClass::syn) r.state = static_cast<std::uint8_t>(TcpState::established);
    const bool client_reset = tcp && cls == TcpFlagClass::rst;
    r.last_ts = std::max(r.last_ts, p.ts);
    ++r.packets[0];
    r.bytes[0] += p.length;
    const bool snat = x.alias != kNoAlias;
    res = NlbResult{target.ip, p.dst_ip, t, target.port, x.snat_port, true, snat};
    if (client_reset) close(slot);
    return Verdict::forward;
}

std::uint32_t NlbShard::choose(const Packet& p, std::size_t node) const {
    const std::vector<std::uint32_t>& table = (*tables_)[node];
    if (table.empty()) return kNoTarget;
    // The flow hash over protocol, addresses and ports, and for a TCP SYN the
    // initial sequence number (when the batch carries one), as NLB hashes.
    const HashKey& k = cfg_->flow_key;
    const std::uint64_t a = p.src_ip | static_cast<std::uint64_t>(p.dst_ip) << 32;
    const std::uint64_t b =
        p.src_port | static_cast<std::uint64_t>(p.dst_port) << 16 | static_cast<std::uint64_t>(p.proto) << 32;
    const std::uint64_t seq = p.proto == proto::tcp ? p.seq : 0;
    const std::uint64_t h = mix_mul(mix_mul(a ^ k.k[0], b ^ k.k[1]) ^ seq ^ k.k[2], k.k[3] | 1);
    return table[h % table.size()];
}

__attribute__((noinline)) Verdict NlbShard::open(const Packet& p, std::size_t node, const KeyedPacket& kp,
                                                 std::uint64_t h, NlbResult& res) {
    const bool tcp = p.proto == proto::tcp;
    if (tcp && tcp_flag_class(p.tcp_flags) != TcpFlagClass::syn) {
        // A segment of a flow the balancer does not know: reset, as NLB does.
        count(NlbMetric::tcp_elb_reset_count);
        return Verdict::reset;
    }
    const std::uint32_t t = choose(p, node);
    if (t == kNoTarget) return Verdict::drop_no_target;
    const NlbTarget& target = (*targets_)[t];
    if (table_.size() + 2 > table_.capacity()) {
        sweep(kFullSweep);
        if (table_.size() + 2 > table_.capacity()) return Verdict::drop_table_full;
    }

    std::uint16_t snat_port = 0;
    const std::uint64_t count_key =
        DestinationCounts::key_of(static_cast<std::uint8_t>(node), target.ip, target.port, p.proto);
    if (!cfg_->preserve_client_ip) {
        // Source NAT to the node's address: ports of this shard's slice, at most
        // its share of 55,000 per (node, target).
        const std::uint32_t limit = (cfg_->per_target + cfg_->queues - 1) / cfg_->queues;
        SplitMix random(port_seed_ ^ h);
        const bool found =
            snat_counts_.count(count_key) < limit && ports_.find(
                                                         [&](std::uint16_t port) {
                                                             const FlowKey k = snat_key(p, target, port);
                                                             return table_.find(k, table_.hash(k)) == FlowTable::npos;
                                                         },
                                                         random, snat_port);
        if (!found) {
            count(NlbMetric::port_allocation_error_count);
            return Verdict::drop_no_port;
        }
    }
    const std::size_t slot = table_.insert(kp.key, h);
    std::uint32_t alias = kNoAlias;
    if (!cfg_->preserve_client_ip) {
        alias = static_cast<std::uint32_t>(insert_alias(table_, snat_key(p, target, snat_port), slot, p.ts));
        snat_counts_.add(count_key, ~std::uint64_t{0});
    }
    open_record(slot, p, kp.from_lo, tcp ? static_cast<std::uint8_t>(TcpState::syn_sent) : std::uint8_t{0},
                NlbExt{alias, static_cast<std::uint16_t>(t), snat_port});
    ++live_;
    count(NlbMetric::new_flow_count);
    res = NlbResult{target.ip, p.dst_ip, t, target.port, snat_port, true, !cfg_->preserve_client_ip};
    return Verdict::forward;
}

void NlbShard::close(std::size_t slot) {
    const FlowRecord& r = table_.record(slot);
    const NlbExt x = r.ext_as<NlbExt>();
    if (x.alias != kNoAlias) {
        const NlbTarget& target = (*targets_)[x.target];
        const std::uint32_t node_ip = (r.flags & flow_flag::orig_lo) ? r.ip_hi : r.ip_lo;
        std::size_t node = 0;
        for (std::size_t z = 0; z < cfg_->nodes.size(); ++z)
            if (cfg_->nodes[z] == node_ip) node = z;
        snat_counts_.remove(
            DestinationCounts::key_of(static_cast<std::uint8_t>(node), target.ip, target.port, r.proto));
        table_.erase(x.alias);
    }
    table_.erase(slot);
    --live_;
}

void NlbShard::new_minute(std::uint64_t ts) {
    // ActiveFlowCount through the minutes without packets, then only the flows
    // alive when the new minute starts go on.
    const std::size_t m = minutes_.minute_of(ts);
    carry_gauge(minutes_, minutes_.current() + 1, m, cfg_->timeouts, [](const FlowRecord&) { return true; });
    expire_timed_out(minutes_.start_ns(m), cfg_->timeouts, [&](std::size_t slot) { close(slot); });
}

void NlbShard::sweep(std::size_t slots) {
    sweep_timed_out(slots, cfg_->timeouts, [&](std::size_t slot) { close(slot); });
}

void NlbShard::expire(std::uint64_t now) {
    if (minutes_.started())
        carry_gauge(minutes_, minutes_.current() + 1, minutes_.minute_of(now) + 1, cfg_->timeouts,
                    [](const FlowRecord&) { return true; });
    expire_timed_out(now, cfg_->timeouts, [&](std::size_t slot) { close(slot); });
}

void NlbShard::count_targets(std::vector<std::uint64_t>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        const std::uint16_t t = r.ext_as<NlbExt>().target;
        if (t < out.size()) ++out[t];
    });
}

void NlbShard::append_rows(std::vector<NlbFlow>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        const bool lo = r.flags & flow_flag::orig_lo;
        const NlbExt x = r.ext_as<NlbExt>();
        NlbFlow f{};
        f.first_ts = r.first_ts, f.last_ts = r.last_ts;
        f.bytes = r.bytes[0], f.packets = r.packets[0];
        f.client_ip = lo ? r.ip_lo : r.ip_hi, f.client_port = lo ? r.port_lo : r.port_hi;
        f.node_ip = lo ? r.ip_hi : r.ip_lo, f.node_port = lo ? r.port_hi : r.port_lo;
        f.target_index = x.target, f.snat_port = x.snat_port;
        if (x.target < targets_->size())
            f.target_ip = (*targets_)[x.target].ip, f.target_port = (*targets_)[x.target].port;
        f.shard = static_cast<std::uint16_t>(index_);
        f.proto = r.proto, f.state = r.state;
        out.push_back(f);
    });
}

void NlbShard::export_rows(std::vector<StateRecord>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        StateRecord s = state_of(r);
        const NlbExt x = r.ext_as<NlbExt>();
        s.target = x.target, s.bind_port = x.snat_port;
        if (x.target < targets_->size()) s.bind_ip = (*targets_)[x.target].ip;
        out.push_back(s);
    });
}

Imported NlbShard::import_row(const StateRecord& s, const Packet& origin) {
    // The flow keeps its target: the same index naming the same address here, sent to one of
    // this balancer's nodes; with source NAT, its port from this shard's slice.
    std::size_t node = cfg_->nodes.size();
    for (std::size_t z = 0; z < cfg_->nodes.size(); ++z)
        if (cfg_->nodes[z] == origin.dst_ip) node = z;
    const bool snat = !cfg_->preserve_client_ip;
    if (node == cfg_->nodes.size() || s.target >= targets_->size() || (*targets_)[s.target].ip != s.bind_ip ||
        (snat ? !ports_.owns(s.bind_port) : s.bind_port != 0))
        return Imported::conflict;
    const NlbTarget& target = (*targets_)[s.target];
    const KeyedPacket kp = flow_key_of(origin);
    const std::uint64_t h = table_.hash(kp.key);
    const std::size_t held = table_.find(kp.key, h);
    if (held != FlowTable::npos && is_alias(table_.record(held))) return Imported::conflict;
    FlowKey alias_key{};
    if (snat) {
        alias_key = snat_key(origin, target, s.bind_port);
        const std::size_t alias_held = table_.find(alias_key, table_.hash(alias_key));
        if (alias_held != FlowTable::npos &&
            (held == FlowTable::npos || table_.record(held).ext_as<NlbExt>().alias != alias_held))
            return Imported::conflict;
    }
    if (held != FlowTable::npos) close(held);
    if (table_.size() + 2 > table_.capacity()) return Imported::table_full;

    const std::size_t slot = table_.insert(kp.key, h);
    std::uint32_t alias = kNoAlias;
    if (snat) {
        alias = static_cast<std::uint32_t>(insert_alias(table_, alias_key, slot, s.last_ts));
        snat_counts_.add(DestinationCounts::key_of(static_cast<std::uint8_t>(node), target.ip, target.port, s.proto),
                         ~std::uint64_t{0});
    }
    FlowRecord& r = table_.record(slot);
    restore_record(r, s);
    r.set_ext(NlbExt{alias, s.target, s.bind_port});
    ++live_;
    return held != FlowTable::npos ? Imported::replaced : Imported::added;
}

NetworkLoadBalancer::NetworkLoadBalancer(const NlbConfig& cfg)
    : ShardedStage(cfg, kSpecRssKey), tables_(cfg.nodes.size()) {
    if (cfg.nodes.empty() || cfg.nodes.size() > 255) throw std::invalid_argument("zones must hold 1 to 255 nodes");
    if (cfg.listeners.empty()) throw std::invalid_argument("listeners must not be empty");
    shards_.reserve(cfg_.queues);
    for (unsigned s = 0; s < cfg_.queues; ++s)
        shards_.emplace_back(s, per_shard(), cfg_, targets_, tables_, fail_open_);
}

void NetworkLoadBalancer::set_targets(std::vector<NlbTarget> targets) {
    if (targets.size() > kMaxTargets) throw std::invalid_argument("a load balancer holds at most 65535 targets");
    targets_ = std::move(targets);
}

void NetworkLoadBalancer::set_table(std::size_t node, std::vector<std::uint32_t> table) {
    if (node >= tables_.size()) throw std::invalid_argument("no such node");
    for (std::uint32_t t : table)
        if (t >= targets_.size()) throw std::invalid_argument("table names a target that does not exist");
    tables_[node] = std::move(table);
}

void NetworkLoadBalancer::process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts,
                                  std::uint32_t* targets, unsigned threads) {
    run(
        in, n, threads,
        [&](std::size_t begin, std::size_t end, std::uint16_t* ids) { rss_assign(in, begin, end, ids); },
        [&](NlbShard& shard, std::size_t i, const KeyedPacket& kp, std::uint64_t h) {
            NlbOutcome o{};
            o.verdict = shard.handle(in[i], kp, h, o.result);
            return o;
        },
        [&](std::size_t i, const NlbOutcome& o) {
            if (out != in) out[i] = in[i];  // copied as it is decided: one pass over the batch
            if (o.verdict == Verdict::reset) out[i] = rst_reply(in[i]);  // what leaves is the RST sent back
            if (o.result.rewrite) {
                out[i].dst_ip = o.result.dst_ip, out[i].dst_port = o.result.dst_port;
                if (o.result.snat) out[i].src_ip = o.result.src_ip, out[i].src_port = o.result.src_port;
            }
            verdicts[i] = static_cast<std::uint8_t>(o.verdict);
            targets[i] = o.result.target;
        });
}

std::uint32_t NlbShard::flow_target(const Packet& p) const {
    const KeyedPacket kp = flow_key_of(p);
    const std::size_t slot = table_.find(kp.key, table_.hash(kp.key));
    if (slot == FlowTable::npos) return kNoTarget;
    const FlowRecord& r = table_.record(slot);
    if (is_alias(r) || cfg_->timeouts.expired(r, p.ts)) return kNoTarget;
    return r.ext_as<NlbExt>().target;
}

void NetworkLoadBalancer::flow_targets(const Packet* probes, std::size_t n, std::uint32_t* out) const {
    std::vector<std::uint16_t> ids(n);
    if (n) rss_assign(probes, 0, n, ids.data());
    for (std::size_t i = 0; i < n; ++i) out[i] = shards_[ids[i]].flow_target(probes[i]);
}

std::size_t NlbShard::reply_flow(const Packet& p) const {
    // Source NAT: the reply is addressed to the node's port, which is the flow's alias.
    const KeyedPacket own = flow_key_of(p);
    const std::size_t slot = table_.find(own.key, table_.hash(own.key));
    if (slot != FlowTable::npos && is_alias(table_.record(slot))) return main_slot_of(table_.record(slot));
    // The client's address preserved: the reply answers the client's tuple to a node's listener.
    for (const std::uint32_t node : cfg_->nodes)
        for (const auto& [port, protocol] : cfg_->listeners) {
            if (protocol != p.proto) continue;
            Packet q = p;
            q.src_ip = p.dst_ip, q.src_port = p.dst_port, q.dst_ip = node, q.dst_port = port;
            const KeyedPacket kq = flow_key_of(q);
            const std::size_t s = table_.find(kq.key, table_.hash(kq.key));
            if (s != FlowTable::npos && !is_alias(table_.record(s))) {
                const NlbExt x = table_.record(s).ext_as<NlbExt>();
                if (x.alias == kNoAlias && x.target < targets_->size() && (*targets_)[x.target].ip == p.src_ip &&
                    (*targets_)[x.target].port == p.src_port)
                    return s;
            }
        }
    return FlowTable::npos;
}

bool NlbShard::reply(const Packet& p, Verdict& v, NlbResult& res) {
    const std::size_t slot = reply_flow(p);
    if (slot == FlowTable::npos) return false;
    FlowRecord& r = table_.record(slot);
    const NlbExt x = r.ext_as<NlbExt>();
    const NlbTarget& target = (*targets_)[x.target];
    if (target.ip != p.src_ip || target.port != p.src_port || cfg_->timeouts.expired(r, p.ts)) return false;
    advance(p.ts);
    if (minutes_.leaving(p.ts)) new_minute(p.ts);
    minutes_.advance(p.ts);
    // AWS: ProcessedBytes is "The total number of bytes processed by the load balancer, including
    // TCP/IP headers": the replies pass through it too.
    count(NlbMetric::processed_packets);
    count(NlbMetric::processed_bytes, p.length);
    const bool lo = r.flags & flow_flag::orig_lo;
    res = NlbResult{lo ? r.ip_lo : r.ip_hi,
                    lo ? r.ip_hi : r.ip_lo,
                    x.target,
                    lo ? r.port_lo : r.port_hi,
                    lo ? r.port_hi : r.port_lo,
                    true,
                    true};
    r.last_ts = std::max(r.last_ts, p.ts);
    ++r.packets[1];
    r.bytes[1] += p.length;
    if (p.proto == proto::tcp) {
        const TcpFlagClass cls = tcp_flag_class(p.tcp_flags);
        if (cls == TcpFlagClass::synack) r.state = static_cast<std::uint8_t>(TcpState::established);
        if (cls == TcpFlagClass::rst) close(slot);  // the target ended the connection: so does the flow
    }
    minutes_.gauge(live_);
    v = counted(Verdict::forward);
    return true;
}

void NetworkLoadBalancer::process_replies(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts,
                                          std::uint32_t* targets) {
    for (std::size_t i = 0; i < n; ++i) {
        const Packet p = in[i];
        if (out != in) out[i] = p;
        NlbResult res{};
        res.target = kNoTarget;
        Verdict v = Verdict::drop_unsolicited;
        bool found = false;
        for (std::size_t s = 0; s < shards_.size() && !found; ++s) found = shards_[s].reply(p, v, res);
        if (!found) shards_[0].count_unmatched();
        if (res.rewrite) {
            out[i].dst_ip = res.dst_ip, out[i].dst_port = res.dst_port;
            out[i].src_ip = res.src_ip, out[i].src_port = res.src_port;
        }
        verdicts[i] = static_cast<std::uint8_t>(v);
        targets[i] = res.target;
    }
}

std::vector<std::uint64_t> NetworkLoadBalancer::flows_per_target() const {
    std::vector<std::uint64_t> out(targets_.size(), 0);
    for (const auto& s : shards_) s.count_targets(out);
    return out;
}

}  // namespace hp
