#include "stages/ena_interface.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace hp {
namespace {

// A bucket's depth: `window_ns` at its rate, but at least two of its largest
// packets (a packet, or an MTU's worth of bits). With one, a packet sent at
// exactly the allowed rate whose timestamp was rounded down to the nanosecond
// would find the bucket a fraction short. A packet larger than the depth still
// passes: it waits until the bucket has been full for as long as the excess takes.
uint128 depth_units(std::uint64_t rate, std::uint64_t window_ns, std::uint64_t largest_cost_units) {
    const uint128 window = static_cast<uint128>(rate) * window_ns;
    const uint128 floor = static_cast<uint128>(largest_cost_units) * 2;
    return std::max(window, floor);
}

bool in_any(const std::vector<Ipv4Network>& nets, std::uint32_t ip) {
    for (const auto& n : nets)
        if (n.contains(ip)) return true;
    return false;
}

}  // namespace

// ---- DelayHistogram ---------------------------------------------------------------------

std::uint64_t DelayHistogram::upper(std::size_t i) {
    if (i < kExact) return i;
    const std::size_t j = i - kExact;
    const unsigned e = static_cast<unsigned>(j / kSteps) + 1;
    const std::uint64_t lower = static_cast<std::uint64_t>(j % kSteps + kSteps) << e;
    return lower + ((std::uint64_t{1} << e) - 1);  // no overflow at the top bucket
}

std::uint64_t DelayHistogram::quantile(double q) const {
    if (count_ == 0) return 0;
    const double want = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_));
    const std::uint64_t rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(want), 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::clamp(upper(i), min_, max_);
    }
    return max_;
}

// ---- FlowBuckets ------------------------------------------------------------------------

FlowBuckets::FlowBuckets(BucketShape shape, std::size_t slots, const HashKey& key)
    : shape_(shape), key_(key), slots_(slots), set_mask_(slots / kWays - 1) {
    if (slots < kWays || (slots & (slots - 1)))
        throw std::invalid_argument("flow_slots must be a power of two of at least 4");
}

uint128& FlowBuckets::state(const Packet& p, std::uint64_t now) {
    // AWS: a flow is a 5-tuple for TCP and UDP, and source, destination and
    // protocol for everything else. Fragments hash as the NIC sees them, on addresses.
    const bool ports = rss_hashes_ports(p, FragmentHash::addresses);
    const std::uint64_t ips = p.src_ip | static_cast<std::uint64_t>(p.dst_ip) << 32;
    const std::uint64_t rest = (ports ? (p.src_port | static_cast<std::uint64_t>(p.dst_port) << 16) : 0) |
                               static_cast<std::uint64_t>(p.proto) << 32 | std::uint64_t{1} << 40;
    const std::uint64_t h = flow_hash(FlowKey{ips, rest}, key_);
    Slot* set = &slots_[static_cast<std::size_t>(h >> 32 & set_mask_) * kWays];
    for (std::size_t w = 0; w < kWays; ++w)
        if (set[w].rest == rest && set[w].ips == ips) return set[w].v;
    // A free slot, or one whose bucket is full again (holding nothing a new one would not);
    // failing both, the bucket nearest to full, whose remaining debt is forgiven.
    const uint128 full_before = static_cast<uint128>(now) * shape_.rate;
    Slot* victim = nullptr;
    for (std::size_t w = 0; w < kWays && !victim; ++w)
        if (set[w].rest == 0 || set[w].v <= full_before) victim = &set[w];
    if (!victim) {
        victim = std::min_element(set, set + kWays, [](const Slot& a, const Slot& b) { return a.v < b.v; });
        ++evicted_;
    }
    victim->ips = ips, victim->rest = rest, victim->v = 0;
    return victim->v;
}

// ---- EnaInterface -----------------------------------------------------------------------

EnaInterface::EnaInterface(const EnaConfig& cfg)
    : cfg_(cfg),
      rss_(cfg.rss_key, round_robin_indirection(cfg.queues ? cfg.queues : 1)),
      latency_(cfg.latency_ns, cfg.latency_seed) {
    if (cfg.queues < 1 || cfg.queues > 128) throw std::invalid_argument("queues must be in 1..128");
    if (cfg.window_ns == 0) throw std::invalid_argument("the burst window must be positive");
    if (cfg.burst_bps > cfg.baseline_bps && cfg.baseline_bps == 0)
        throw std::invalid_argument("a burst rate needs a baseline rate");
    if (!(cfg.initial_credits >= 0.0 && cfg.initial_credits <= 1.0))
        throw std::invalid_argument("initial credits must be a fraction in [0, 1]");
    if (cfg.direction == EnaDirection::both && cfg.instance.empty())
        throw std::invalid_argument("both directions need the instance's addresses");
    if (cfg.mtu == 0) throw std::invalid_argument("mtu must be positive");

    const std::uint64_t one = kUnitsPerToken, bits = std::uint64_t{cfg.mtu} * 8 * kUnitsPerToken;
    if (cfg.pps) pps_ = Allowance(cfg.pps, depth_units(cfg.pps, cfg.window_ns, one));
    if (cfg.link_local_pps)
        link_local_ = Allowance(cfg.link_local_pps, depth_units(cfg.link_local_pps, cfg.window_ns, one));
    if (cfg.baseline_bps) {
        // Credits: what bursting at burst_bps drains for credit_ns, (burst - baseline) * time.
        const bool bursts = cfg.burst_bps > cfg.baseline_bps;
        const uint128 credits = bursts ? static_cast<uint128>(cfg.burst_bps - cfg.baseline_bps) * cfg.credit_ns : 0;
        for (int d = 0; d < 2; ++d) {
            sustained_window_[d] = depth_units(cfg.baseline_bps, cfg.window_ns, bits);
            sustained_[d] = Allowance(cfg.baseline_bps, sustained_window_[d] + credits);
            if (bursts) peak_[d] = Allowance(cfg.burst_bps, depth_units(cfg.burst_bps, cfg.window_ns, bits));
        }
    }
    if (cfg.flow_bps) {
        const BucketShape shape{cfg.flow_bps, depth_units(cfg.flow_bps, cfg.window_ns, bits)};
        flows_ = std::make_unique<FlowBuckets>(shape, cfg.flow_slots, cfg.key);
    }
    if (cfg.conntrack) {
        // One shard: the allowance is the instance's, so no queue fills before the others.
        ConnTrackConfig ct;
        ct.capacity = cfg.conntrack, ct.queues = 1, ct.timeouts = cfg.timeouts, ct.key = cfg.key;
        ct_ = std::make_unique<ConnTrack>(ct);
    }
    for (auto& q : waiting_) q.reserve(cfg.queue_depth);
    for (auto* v : {&queue_stats_.rx_cnt, &queue_stats_.rx_bytes, &queue_stats_.tx_cnt, &queue_stats_.tx_bytes})
        v->assign(cfg.queues, 0);
}

EnaInterface::Path EnaInterface::path_of(const Packet& p) const {
    if (in_any(cfg_.link_local, p.dst_ip)) return Path::link_local_request;
    if (in_any(cfg_.link_local, p.src_ip)) return Path::link_local_reply;
    switch (cfg_.direction) {
        case EnaDirection::in:
            return Path::inbound;
        case EnaDirection::out:
            return Path::outbound;
        case EnaDirection::both:
            break;
    }
    if (in_any(cfg_.instance, p.src_ip)) return Path::outbound;
    if (in_any(cfg_.instance, p.dst_ip)) return Path::inbound;
    return Path::not_routed;
}

// The interface comes up with its first packet: buckets full, credits as configured.
void EnaInterface::start(std::uint64_t now) {
    started_ = true;
    pps_.start(now, pps_.shape().depth);
    if (shared_pps_) shared_pps_->start(now);
    link_local_.start(now, link_local_.shape().depth);
    for (int d = 0; d < 2; ++d) {
        peak_[d].start(now, peak_[d].shape().depth);
        const uint128 credits = sustained_[d].shape().depth - sustained_window_[d];
        const auto initial = static_cast<uint128>(cfg_.initial_credits * static_cast<double>(credits));
        sustained_[d].start(now, sustained_window_[d] + std::min(initial, credits));
    }
}

void EnaInterface::track(const Packet* pkts, std::size_t n) {
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) m += paths_[i] == Path::inbound || paths_[i] == Path::outbound;
    ct_verdicts_.resize(m);
    if (m == n) {
        ct_->process(pkts, n, ct_verdicts_.data(), 1);
        return;
    }
    // Link-local and unrouted packets never reach the tracker: gather the others.
    tracked_.resize(m);
    for (std::size_t i = 0, j = 0; i < n; ++i)
        if (paths_[i] == Path::inbound || paths_[i] == Path::outbound) tracked_[j++] = pkts[i];
    ct_->process(tracked_.data(), m, ct_verdicts_.data(), 1);
}

void EnaInterface::deliver(const Packet& p, std::uint16_t q, bool rx, std::uint64_t wait, std::uint8_t& verdict,
                           std::uint64_t& delay) {
    verdict = static_cast<std::uint8_t>(Verdict::forward);
    ++verdicts_[static_cast<std::size_t>(Verdict::forward)];
    delay = latency_.of(p) + wait;
    waits_.add(wait);
    delays_.add(delay);
    ++(rx ? queue_stats_.rx_cnt : queue_stats_.tx_cnt)[q];
    (rx ? queue_stats_.rx_bytes : queue_stats_.tx_bytes)[q] += p.length;
}

void EnaInterface::process(const Packet* pkts, std::size_t n, std::uint8_t* verdicts, std::uint64_t* delay_ns) {
    paths_.resize(n);
    for (std::size_t i = 0; i < n; ++i) paths_[i] = path_of(pkts[i]);
    if (ct_) track(pkts, n);
    // RSS over the whole batch: the batch hash is several times faster than one packet at a time.
    queue_ids_.resize(n);
    rss_.queue(pkts, n, queue_ids_.data());

    constexpr std::uint64_t one = kUnitsPerToken;
    const auto later = std::greater<std::uint64_t>();  // waiting_ is a min-heap of departures
    std::size_t tracked = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Packet& p = pkts[i];
        const std::uint64_t t = p.ts > now_ ? p.ts : now_;
        now_ = t;
        if (!started_) start(t);
        auto drop = [&](Verdict v) {
            verdicts[i] = static_cast<std::uint8_t>(v);
            ++verdicts_[static_cast<std::size_t>(v)];
            delay_ns[i] = 0;
        };
        const Path path = paths_[i];
        if (path == Path::not_routed) {
            drop(Verdict::drop_not_routed);
            continue;
        }
        if (path == Path::link_local_reply) {
            deliver(p, queue_ids_[i], true, 0, verdicts[i], delay_ns[i]);
            continue;
        }
        if (path == Path::link_local_request) {
            // AWS documents linklocal_allowance_exceeded as packets dropped, not queued.
            if (!link_local_.has(t, one)) {
                count(EnaCounter::linklocal_allowance_exceeded);
                drop(Verdict::drop_linklocal_allowance);
                continue;
            }
            link_local_.take(t, one);
            deliver(p, queue_ids_[i], false, 0, verdicts[i], delay_ns[i]);
            continue;
        }
        if (ct_ && ct_verdicts_[tracked++] == static_cast<std::uint8_t>(Verdict::drop_table_full)) {
            count(EnaCounter::conntrack_allowance_exceeded);
            drop(Verdict::drop_table_full);
            continue;
        }

        // The packet leaves when every bucket it needs holds its tokens. `over`
        // has a bit per allowance that holds it back; the one that holds it
        // longest names the drop if the queue is full (pps, then bandwidth, then
        // the flow's, on a tie).
        const int d = path == Path::inbound ? 0 : 1;
        const std::uint64_t bits = static_cast<std::uint64_t>(p.length) * 8 * kUnitsPerToken;
        std::uint64_t depart = t;
        unsigned over = 0, binding = 0;
        auto hold = [&](std::uint64_t ready, unsigned which) {
            over |= 1U << which;
            if (ready > depart) depart = ready, binding = which;
        };
        Allowance& pps = shared_pps_ ? shared_pps_->at(side_, t) : pps_;
        if (!pps.has(t, one)) hold(pps.ready(t, one), 0);
        if (!peak_[d].has(t, bits) || !sustained_[d].has(t, bits))
            hold(std::max(peak_[d].ready(t, bits), sustained_[d].ready(t, bits)), 1);
        uint128* flow = nullptr;
        if (flows_) {
            flow = &flows_->state(p, t);
            if (!flows_->shape().has(*flow, t, bits)) hold(flows_->shape().ready(*flow, t, bits), 2);
        }
        if (over) {
            // ENA counts a packet over an allowance whether it is queued or dropped.
            if (over & 1U) count(EnaCounter::pps_allowance_exceeded);
            if (over & 2U) count(d == 0 ? EnaCounter::bw_in_allowance_exceeded : EnaCounter::bw_out_allowance_exceeded);
            if (over & 4U) count(EnaCounter::flow_allowance_exceeded);
            auto& q = waiting_[d];
            while (!q.empty() && q.front() <= t) {
                std::pop_heap(q.begin(), q.end(), later);
                q.pop_back();
            }
            if (q.size() >= cfg_.queue_depth) {
                constexpr Verdict reasons[2][3] = {
                    {Verdict::drop_pps_allowance, Verdict::drop_bw_in_allowance, Verdict::drop_flow_allowance},
                    {Verdict::drop_pps_allowance, Verdict::drop_bw_out_allowance, Verdict::drop_flow_allowance}};
                drop(reasons[d][binding]);
                continue;
            }
            q.push_back(depart);
            std::push_heap(q.begin(), q.end(), later);
        }
        // Tokens are taken at arrival: a waiting packet holds its place in every bucket.
        pps.take(t, one);
        if (shared_pps_) shared_pps_->took(side_, t);
        peak_[d].take(t, bits);
        sustained_[d].take(t, bits);
        if (flow) flows_->shape().take(*flow, t, bits);
        deliver(p, queue_ids_[i], d == 0, depart - t, verdicts[i], delay_ns[i]);
    }
    if (shared_pps_) shared_pps_->done();
}

void EnaInterface::share_pps(EnaInterface& other) {
    if (&other == this) throw std::invalid_argument("an interface cannot share its allowance with itself");
    if (started_ || other.started_) throw std::invalid_argument("share the pps allowance before the first packet");
    if (cfg_.pps != other.cfg_.pps || cfg_.window_ns != other.cfg_.window_ns)
        throw std::invalid_argument("interfaces sharing a pps allowance must have the same one");
    if (!cfg_.pps) return;
    shared_pps_ = other.shared_pps_ = std::make_shared<SharedAllowance>(cfg_.pps, pps_.shape().depth);
    side_ = 0, other.side_ = 1;
}

void EnaInterface::expire(std::uint64_t now) {
    if (ct_) ct_->expire(now);
}

std::uint64_t EnaInterface::conntrack_available() const {
    if (!ct_) return 0;
    const std::size_t used = ct_->size();
    return used >= cfg_.conntrack ? 0 : cfg_.conntrack - used;
}

double EnaInterface::credits_bits(bool inbound) const {
    const int d = inbound ? 0 : 1;
    const uint128 credits = sustained_[d].shape().depth - sustained_window_[d];
    if (!started_) return static_cast<double>(credits) * cfg_.initial_credits / kUnitsPerToken;
    const uint128 held = sustained_[d].held(now_);
    return held <= sustained_window_[d] ? 0.0 : static_cast<double>(held - sustained_window_[d]) / kUnitsPerToken;
}

}  // namespace hp
