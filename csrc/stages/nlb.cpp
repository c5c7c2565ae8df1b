#include "stages/nlb.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "runtime/sharded_batch.hpp"

namespace hp {
namespace {

constexpr std::uint16_t kFirstPort = 1024;
constexpr std::uint32_t kPorts = 65536 - kFirstPort;
constexpr std::size_t kSweepEvery = 64, kSweepSlots = 16, kFullSweep = 256;
constexpr unsigned kRandomProbes = 64;
constexpr std::uint8_t kAlias = 0x08;  // keyed by the source-NAT tuple; ext is the main slot
constexpr std::uint64_t kNoAlias = 0xffffffffULL;

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint32_t target_of(const FlowRecord& r) { return static_cast<std::uint32_t>(r.ext); }
std::uint64_t alias_of(const FlowRecord& r) { return r.ext >> 32; }
// The balancer sees only the client-to-target direction, so a record's reply
// counters are free: packets[1] keeps the source-NAT port.
std::uint16_t snat_port_of(const FlowRecord& r) { return static_cast<std::uint16_t>(r.packets[1]); }

}  // namespace

NlbShard::NlbShard(unsigned index, std::size_t capacity, const NlbConfig& cfg, const std::vector<NlbTarget>& targets,
                   const std::vector<std::vector<std::uint32_t>>& tables)
    : index_(index),
      cfg_(&cfg),
      targets_(&targets),
      tables_(&tables),
      table_(2 * capacity, cfg.key),
      snat_counts_(capacity, cfg.key),
      minutes_(&cfg.start_minute, static_cast<std::size_t>(NlbMetric::active_flow_count)),
      rng_(splitmix(cfg.seed ^ splitmix(index + 0x51b))) {}

std::uint64_t NlbShard::random() { return rng_ = splitmix(rng_); }

__attribute__((always_inline)) inline Verdict NlbShard::handle(const Packet& p, const KeyedPacket& kp, std::uint64_t h,
                                                               NlbResult& res) {
    if (p.ts > now_) now_ = p.ts;
    minutes_.advance(p.ts, live_);
    res.target = kNoTarget;
    const Verdict v = decide(p, kp, h, res);
    ++verdicts_[static_cast<std::size_t>(v)];
    minutes_.gauge(live_);
    if (++since_sweep_ == kSweepEvery) {
        since_sweep_ = 0;
        sweep(kSweepSlots);
    }
    return v;
}

Verdict NlbShard::decide(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NlbResult& res) {
    std::size_t node = cfg_->nodes.size();
    for (std::size_t z = 0; z < cfg_->nodes.size(); ++z)
        if (cfg_->nodes[z] == p.dst_ip) node = z;
    if (node == cfg_->nodes.size()) return Verdict::drop_not_routed;
    bool listening = false;
    for (const auto& [port, proto] : cfg_->listeners) listening |= port == p.dst_port && proto == p.proto;
    if (!listening) return Verdict::drop_no_listener;
    minutes_.add(static_cast<std::size_t>(NlbMetric::processed_packets));
    minutes_.add(static_cast<std::size_t>(NlbMetric::processed_bytes), p.length);
    const bool tcp = p.proto == proto::tcp;
    const TcpFlagClass cls = tcp_flag_class(p.tcp_flags);
    if (tcp && cls == TcpFlagClass::rst) minutes_.add(static_cast<std::size_t>(NlbMetric::tcp_client_reset_count));

    std::size_t slot = table_.find(kp.key, h);
    if (slot != FlowTable::npos && (table_.record(slot).flags & kAlias)) slot = FlowTable::npos;
    if (slot != FlowTable::npos && cfg_->timeouts.expired(table_.record(slot), p.ts)) {
        close(slot);  // UDP: the next packet is a new flow, perhaps to a new target
        slot = FlowTable::npos;
    }
    if (slot == FlowTable::npos) return open(p, node, kp, h, res);

    FlowRecord& r = table_.record(slot);
    const std::uint32_t t = target_of(r);
    const NlbTarget& target = (*targets_)[t];
    const bool drained = target.drain_deadline != ~std::uint64_t{0} && p.ts > target.drain_deadline;
    if (cfg_->terminate && (!target.healthy || drained || !target.registered)) {
        // The flow's target is gone: the client learns it with an RST.
        close(slot);
        if (!tcp) return Verdict::drop_no_target;
        minutes_.add(static_cast<std::size_t>(NlbMetric::tcp_elb_reset_count));
        return Verdict::reset;
    }
    // The balancer sees one direction only, so it cannot follow the handshake
    // as conntrack does: a flow is open from its SYN until it idles out, and a
    // client's RST ends it once forwarded.
    if (tcp && cls != TcpFlagClass::syn) r.state = static_cast<std::uint8_t>(TcpState::established);
    const bool ends = tcp && cls == TcpFlagClass::rst;
    r.last_ts = std::max(r.last_ts, p.ts);
    ++r.packets[0];
    r.bytes[0] += p.length;
    const bool snat = alias_of(r) != kNoAlias;
    res = NlbResult{target.ip, p.dst_ip, t, target.port, snat ? snat_port_of(r) : std::uint16_t{0}, true, snat};
    if (ends) close(slot);
    return Verdict::forward;
}

std::uint32_t NlbShard::choose(const Packet& p, std::size_t node) const {
    const std::vector<std::uint32_t>& table = (*tables_)[node];
    if (table.empty()) return kNoTarget;
    // The flow hash over protocol, addresses and ports, and for a TCP SYN the
    // initial sequence number (when the batch carries one), as NLB hashes.
    const HashKey& k = cfg_->flow_key;
    const std::uint64_t a = p.src_ip | static_cast<std::uint64_t>(p.dst_ip) << 32;
    const std::uint64_t b = p.src_port | static_cast<std::uint64_t>(p.dst_port) << 16 |
                            static_cast<std::uint64_t>(p.proto) << 32;
    const std::uint64_t seq = p.proto == proto::tcp ? p.seq : 0;
    const std::uint64_t h = mix_mul(mix_mul(a ^ k.k[0], b ^ k.k[1]) ^ seq ^ k.k[2], k.k[3] | 1);
    return table[h % table.size()];
}

__attribute__((noinline)) Verdict NlbShard::open(const Packet& p, std::size_t node, const KeyedPacket& kp, std::uint64_t h, NlbResult& res) {
    const bool tcp = p.proto == proto::tcp;
    if (tcp && tcp_flag_class(p.tcp_flags) != TcpFlagClass::syn) {
        // A segment of a flow the balancer does not know: reset, as NLB does.
        minutes_.add(static_cast<std::size_t>(NlbMetric::tcp_elb_reset_count));
        return Verdict::reset;
    }
    const std::uint32_t t = choose(p, node);
    if (t == kNoTarget) return Verdict::drop_no_target;
    const NlbTarget& target = (*targets_)[t];
    if (table_.size() + 2 > table_.capacity()) {
        sweep(kFullSweep);
        if (table_.size() + 2 > table_.capacity()) return Verdict::drop_table_full;
    }

    std::uint64_t alias = kNoAlias;
    std::uint16_t snat_port = 0;
    const std::uint64_t count_key = DestinationCounts::key_of(static_cast<std::uint8_t>(node), target.ip, target.port, p.proto);
    if (!cfg_->preserve_client_ip) {
        // Source NAT to the node's address: ports of this shard's slice, at most
        // its share of 55,000 per (node, target).
        const std::uint32_t limit = (cfg_->per_target + cfg_->queues - 1) / cfg_->queues;
        const std::uint32_t slice = (kPorts - 1 - index_) / cfg_->queues + 1;
        bool found = false;
        if (snat_counts_.count(count_key) < limit) {
            auto free = [&](std::uint16_t port) {
                Packet out = p;
                out.src_ip = p.dst_ip, out.src_port = port, out.dst_ip = target.ip, out.dst_port = target.port;
                const FlowKey k = flow_key_of(out).key;
                return table_.find(k, table_.hash(k)) == FlowTable::npos;
            };
            auto port_at = [&](std::uint64_t k) { return static_cast<std::uint16_t>(kFirstPort + index_ + cfg_->queues * k); };
            for (unsigned i = 0; i < kRandomProbes && !found; ++i) found = free(snat_port = port_at(random() % slice));
            const std::uint64_t start = random() % slice;
            for (std::uint64_t k = 0; k < slice && !found; ++k) found = free(snat_port = port_at((start + k) % slice));
        }
        if (!found) {
            minutes_.add(static_cast<std::size_t>(NlbMetric::port_allocation_error_count));
            return Verdict::drop_no_port;
        }
    }
    const std::size_t slot = table_.insert(kp.key, h);
    if (!cfg_->preserve_client_ip) {
        Packet out = p;
        out.src_ip = p.dst_ip, out.src_port = snat_port, out.dst_ip = target.ip, out.dst_port = target.port;
        const FlowKey k = flow_key_of(out).key;
        alias = table_.insert(k, table_.hash(k));
        FlowRecord& a = table_.record(static_cast<std::size_t>(alias));
        a.state = 0, a.flags = kAlias, a.timeout_class = 0, a.first_ts = a.last_ts = p.ts;
        a.bytes[0] = a.bytes[1] = 0, a.packets[0] = a.packets[1] = 0, a.ext = slot;
        snat_counts_.add(count_key);
    }
    FlowRecord& r = table_.record(slot);
    r.state = tcp ? static_cast<std::uint8_t>(TcpState::syn_sent) : 0;
    r.flags = kp.from_lo ? flow_flag::orig_lo : 0;
    r.timeout_class = timeout_class(r.proto, r.state, r.flags);
    r.first_ts = r.last_ts = p.ts;
    r.bytes[0] = p.length, r.bytes[1] = 0;
    r.packets[0] = 1, r.packets[1] = snat_port;
    r.ext = t | alias << 32;
    ++live_;
    minutes_.add(static_cast<std::size_t>(NlbMetric::new_flow_count));
    res = NlbResult{target.ip, p.dst_ip, t, target.port, snat_port, true, !cfg_->preserve_client_ip};
    return Verdict::forward;
}

void NlbShard::close(std::size_t slot) {
    const FlowRecord& r = table_.record(slot);
    if (alias_of(r) != kNoAlias) {
        const NlbTarget& target = (*targets_)[target_of(r)];
        const std::uint32_t node_ip = (r.flags & flow_flag::orig_lo) ? r.ip_hi : r.ip_lo;
        std::size_t node = 0;
        for (std::size_t z = 0; z < cfg_->nodes.size(); ++z)
            if (cfg_->nodes[z] == node_ip) node = z;
        snat_counts_.remove(DestinationCounts::key_of(static_cast<std::uint8_t>(node), target.ip, target.port, r.proto));
        table_.erase(static_cast<std::size_t>(alias_of(r)));
    }
    table_.erase(slot);
    --live_;
}

void NlbShard::sweep(std::size_t slots) {
    table_.sweep(
        cursor_, slots,
        [&](std::size_t slot) {
            const FlowRecord& r = table_.record(slot);
            if (!(r.flags & kAlias) && cfg_->timeouts.expired(r, now_)) close(slot);
        },
        [] {});
}

void NlbShard::expire(std::uint64_t now) {
    now_ = std::max(now_, now);
    for (std::size_t slot = 0; slot < table_.slots(); ++slot) {
        if (!table_.occupied(slot)) continue;
        const FlowRecord& r = table_.record(slot);
        if (!(r.flags & kAlias) && cfg_->timeouts.expired(r, now)) close(slot);
    }
}

void NlbShard::count_targets(std::vector<std::uint64_t>& out) const {
    for (std::size_t slot = 0; slot < table_.slots(); ++slot) {
        if (!table_.occupied(slot) || (table_.record(slot).flags & kAlias)) continue;
        const std::uint32_t t = target_of(table_.record(slot));
        if (t < out.size()) ++out[t];
    }
}

NetworkLoadBalancer::NetworkLoadBalancer(const NlbConfig& cfg)
    : cfg_(cfg),
      tables_(cfg.nodes.size()),
      rss_(kSpecRssKey, round_robin_indirection(cfg.queues ? cfg.queues : 1), FragmentHash::whole_datagram) {
    if (cfg.capacity == 0) throw std::invalid_argument("capacity must be positive");
    if (cfg.queues < 1 || cfg.queues > 128) throw std::invalid_argument("queues must be in 1..128");
    if (cfg.nodes.empty() || cfg.nodes.size() > 255) throw std::invalid_argument("zones must hold 1 to 255 nodes");
    if (cfg.listeners.empty()) throw std::invalid_argument("listeners must not be empty");
    const std::size_t per_shard = (cfg.capacity + cfg.queues - 1) / cfg.queues;
    shards_.reserve(cfg.queues);
    for (unsigned s = 0; s < cfg.queues; ++s) shards_.emplace_back(s, per_shard, cfg_, targets_, tables_);
}

void NetworkLoadBalancer::set_table(std::size_t node, std::vector<std::uint32_t> table) {
    if (node >= tables_.size()) throw std::invalid_argument("no such node");
    for (std::uint32_t t : table)
        if (t >= targets_.size()) throw std::invalid_argument("table names a target that does not exist");
    tables_[node] = std::move(table);
}

void NetworkLoadBalancer::process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts,
                                  std::uint32_t* targets, unsigned threads) {
    if (n > 0xffffffffULL) throw std::invalid_argument("a batch may hold at most 2^32 - 1 packets");
    if (n == 0) return;
    if (!started_) {
        cfg_.start_minute = earliest_minute(in, n);
        started_ = true;
    }
    const unsigned workers = std::max(1U, std::min(threads, cfg_.queues));
    run_sharded(
        dispatch_, shards_, grouped_, workers, in, n,
        [&](std::size_t begin, std::size_t end, std::uint16_t* ids) {
            rss_shards(rss_, cfg_.queues, in, begin, end, ids);
        },
        [&](NlbShard& shard, std::size_t i, const KeyedPacket& kp, std::uint64_t h) {
            NlbOutcome o{};
            o.verdict = shard.handle(in[i], kp, h, o.result);
            return o;
        },
        [&](std::size_t i, const NlbOutcome& o) {
            if (out != in) out[i] = in[i];  // copied as it is decided: one pass over the batch
            if (o.result.rewrite) {
                out[i].dst_ip = o.result.dst_ip, out[i].dst_port = o.result.dst_port;
                if (o.result.snat) out[i].src_ip = o.result.src_ip, out[i].src_port = o.result.src_port;
            }
            verdicts[i] = static_cast<std::uint8_t>(o.verdict);
            targets[i] = o.result.target;
        });
}

void NetworkLoadBalancer::expire(std::uint64_t now) {
    for (auto& s : shards_) s.expire(now);
}

std::vector<NlbMinute> NetworkLoadBalancer::metrics() const { return metrics_of<NlbMinute>(shards_); }

std::array<std::uint64_t, kVerdictCount> NetworkLoadBalancer::verdicts() const { return verdicts_of(shards_); }

std::vector<std::uint64_t> NetworkLoadBalancer::flows_per_target() const {
    std::vector<std::uint64_t> out(targets_.size(), 0);
    for (const auto& s : shards_) s.count_targets(out);
    return out;
}

std::size_t NetworkLoadBalancer::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) n += s.flows();
    return n;
}

}  // namespace hp
