// The balancers' picks and their state (balancer.hpp says which rules each follows).
#include "mesh/balancer.hpp"

#include <algorithm>
#include <cmath>

namespace hp::mesh {

Balancer::Balancer(const BalancerSpec& spec, const std::vector<Place>& clients, const std::vector<Place>& endpoints,
                   const Network& net)
    : spec_(spec),
      n_clients_(static_cast<std::uint32_t>(clients.size())),
      n_endpoints_(static_cast<std::uint32_t>(endpoints.size())),
      n_zones_(0),
      clients_(clients),
      endpoints_(endpoints) {
    for (const auto& p : clients) n_zones_ = std::max(n_zones_, p.az + 1);
    for (const auto& p : endpoints) n_zones_ = std::max(n_zones_, p.az + 1);
    const std::size_t n = static_cast<std::size_t>(n_clients_) * n_endpoints_;
    tier_.resize(n);
    pending_.assign(n, 0);
    rtt_.resize(n);
    stamp_.assign(n, 0);
    for (int t = 0; t < 3; ++t) prior_[static_cast<std::size_t>(t)] = 2.0 * net.one_way_ns[static_cast<std::size_t>(t)];
    for (std::uint32_t c = 0; c < n_clients_; ++c)
        for (std::uint32_t e = 0; e < n_endpoints_; ++e) {
            const Tier t = tier_of(clients[c], endpoints[e]);
            tier_[at(c, e)] = t;
            rtt_[at(c, e)] = spec.placement_prior ? prior_[t] : spec.default_rtt_ns;
        }
    near_.resize(n_clients_);
    zone_state_.resize(n_zones_);
    rr_.assign(static_cast<std::size_t>(n_clients_) * (n_zones_ + 1), 0);
    // Each client's rotation starts at its own index, so clients do not move in step.
    for (std::uint32_t c = 0; c < n_clients_; ++c) rr_[static_cast<std::size_t>(c) * (n_zones_ + 1)] = c;
    last_.reserve(8);
    set_health(std::vector<std::uint8_t>(n_endpoints_, 1), std::vector<std::uint8_t>(n_clients_, 1));
}

void Balancer::set_health(const std::vector<std::uint8_t>& endpoint_healthy,
                          const std::vector<std::uint8_t>& client_healthy) {
    active_.clear();
    for (std::uint32_t e = 0; e < n_endpoints_; ++e)
        if (endpoint_healthy[e]) active_.push_back(e);
    const double healthy_share = n_endpoints_ ? static_cast<double>(active_.size()) / n_endpoints_ : 0.0;
    const bool panic = active_.empty() || healthy_share < spec_.panic_threshold;
    if (panic) {
        active_.clear();
        for (std::uint32_t e = 0; e < n_endpoints_; ++e) active_.push_back(e);
    }
    near_idx_.clear();
    for (std::uint32_t c = 0; c < n_clients_; ++c) {
        const auto offset = static_cast<std::uint32_t>(near_idx_.size());
        for (int want = 0; want < 3 && near_idx_.size() == offset; ++want)
            for (std::uint32_t e : active_)
                if (tier_[at(c, e)] <= want) near_idx_.push_back(e);
        near_[c] = {offset, static_cast<std::uint32_t>(near_idx_.size()) - offset};
    }
    rebuild_zones(endpoint_healthy, client_healthy, panic);
}

void Balancer::rebuild_zones(const std::vector<std::uint8_t>& endpoint_healthy,
                             const std::vector<std::uint8_t>& client_healthy, bool upstream_panic) {
    zone_idx_.clear();
    zone_list_.assign(n_zones_, {});
    for (std::uint32_t z = 0; z < n_zones_; ++z) {
        zone_list_[z].offset = static_cast<std::uint32_t>(zone_idx_.size());
        for (std::uint32_t e : active_)
            if (endpoints_[e].az == z) zone_idx_.push_back(e);
        zone_list_[z].size = static_cast<std::uint32_t>(zone_idx_.size()) - zone_list_[z].offset;
    }
    if (spec_.kind != Kind::kZoneAware) return;
    std::vector<std::uint64_t> up(n_zones_, 0), local(n_zones_, 0);
    std::uint64_t up_total = 0, local_total = 0, local_all = 0;
    std::uint32_t up_zones = 0;
    std::vector<std::uint8_t> zone_has_host(n_zones_, 0);
    for (std::uint32_t e = 0; e < n_endpoints_; ++e) {
        zone_has_host[endpoints_[e].az] = 1;
        if (endpoint_healthy[e]) ++up[endpoints_[e].az], ++up_total;
    }
    for (std::uint32_t z = 0; z < n_zones_; ++z) up_zones += zone_has_host[z];
    for (std::uint32_t c = 0; c < n_clients_; ++c) {
        ++local_all;
        if (client_healthy[c]) ++local[clients_[c].az], ++local_total;
    }
    const bool local_panic =
        local_total == 0 || static_cast<double>(local_total) / static_cast<double>(local_all) < spec_.panic_threshold;
    // Envoy's calculateLocalityPercentage: each locality's share of healthy hosts in 1/10000.
    std::vector<std::uint64_t> up_pct(n_zones_), local_pct(n_zones_);
    for (std::uint32_t z = 0; z < n_zones_; ++z) {
        up_pct[z] = up_total ? 10000 * up[z] / up_total : 0;
        local_pct[z] = local_total ? 10000 * local[z] / local_total : 0;
    }
    for (std::uint32_t z = 0; z < n_zones_; ++z) {
        ZoneState& s = zone_state_[z];
        s.residual.assign(n_zones_, 0);
        s.local_share = 0;
        if (upstream_panic) {
            s.mode = 1;
        } else if (up_zones < 2 || up[z] == 0 || local_panic || local[z] == 0 || up_total < spec_.min_cluster_size) {
            s.mode = 0;
        } else if (up_pct[z] >= local_pct[z]) {
            s.mode = 2;
            s.local_share = 10000;
        } else {
            s.mode = 3;
            s.local_share = static_cast<std::uint32_t>(up_pct[z] * 10000 / local_pct[z]);
            std::uint64_t acc = 0;
            for (std::uint32_t i = 0; i < n_zones_; ++i) {
                if (i != z && up_pct[i] > local_pct[i]) acc += up_pct[i] - local_pct[i];
                s.residual[i] = acc;
            }
        }
    }
}

void Balancer::rediscover(std::uint32_t endpoint, std::int64_t now) {
    for (std::uint32_t c = 0; c < n_clients_; ++c) {
        const std::size_t i = at(c, endpoint);
        rtt_[i] = spec_.placement_prior ? prior_[tier_[i]] : spec_.default_rtt_ns;
        stamp_[i] = now;
    }
}

void Balancer::decay(std::size_t i, std::int64_t now) {
    const std::int64_t elapsed = now - stamp_[i];
    if (elapsed > 0) {
        rtt_[i] *= std::exp(-static_cast<double>(elapsed) / spec_.decay_ns);
        stamp_[i] = now;
    }
}

double Balancer::metric(std::uint32_t c, std::uint32_t e, std::int64_t now) {
    const std::size_t i = at(c, e);
    const double w = spec_.tier_weight[tier_[i]];
    switch (spec_.metric) {
        case Metric::kNone:
            return 0.0;
        case Metric::kPending:
            return static_cast<double>(pending_[i]) * w;
        case Metric::kPeakEwma:
            decay(i, now);
            return rtt_[i] * static_cast<double>(pending_[i] + 1) * w;
    }
    return 0.0;
}

double Balancer::cost(std::uint32_t client, std::uint32_t endpoint, std::int64_t now) {
    return metric(client, endpoint, now);
}

void Balancer::done(std::uint32_t client, std::uint32_t endpoint, std::int64_t sent_at, std::int64_t now) {
    const std::size_t i = at(client, endpoint);
    if (pending_[i] > 0) --pending_[i];
    if (spec_.metric != Metric::kPeakEwma) return;
    const double sample = static_cast<double>(now - sent_at);
    if (rtt_[i] < sample) {
        rtt_[i] = sample;
    } else {
        const double w = std::exp(-static_cast<double>(std::max<std::int64_t>(now - stamp_[i], 0)) / spec_.decay_ns);
        rtt_[i] = rtt_[i] * w + sample * (1.0 - w);
    }
    stamp_[i] = std::max(stamp_[i], now);
}

std::uint32_t Balancer::round_robin(std::uint32_t& counter, const std::uint32_t* list, std::uint32_t n) {
    const std::uint32_t e = list[counter % n];
    ++counter;
    return e;
}

std::uint32_t Balancer::pick_choice(std::uint32_t c, std::int64_t now, Rng& rng) {
    if (spec_.near_first && zone_list_[clients_[c].az].size > 0) return pick_local(c, now, rng);
    return sample(c, now, rng, active_.data(), static_cast<std::uint32_t>(active_.size()));
}

std::uint32_t Balancer::sample(std::uint32_t c, std::int64_t now, Rng& rng, const std::uint32_t* pool,
                               std::uint32_t n) {
    last_.clear();
    std::uint32_t best = pool[rng.below(n)];
    last_.push_back(best);
    if (spec_.choices == 1 || spec_.metric == Metric::kNone) return best;
    double best_cost = metric(c, best, now);
    const std::uint32_t want = spec_.distinct ? std::min(spec_.choices, n) : spec_.choices;
    for (std::uint32_t k = 1; k < want; ++k) {
        std::uint32_t e = pool[rng.below(n)];
        if (spec_.distinct)
            while (std::find(last_.begin(), last_.end(), e) != last_.end()) e = pool[rng.below(n)];
        last_.push_back(e);
        const double cost_e = metric(c, e, now);
        // A tie goes to the nearer tier, else keeps the earlier sample (tower: `if aload <= bload`).
        if (cost_e < best_cost || (cost_e == best_cost && tier_[at(c, e)] < tier_[at(c, best)]))
            best = e, best_cost = cost_e;
    }
    return best;
}

std::uint32_t Balancer::pick_local(std::uint32_t c, std::int64_t now, Rng& rng) {
    const List& l = zone_list_[clients_[c].az];
    std::uint32_t best = sample(c, now, rng, zone_idx_.data() + l.offset, l.size);
    const auto n = static_cast<std::uint32_t>(active_.size());
    if (n == l.size || spec_.metric != Metric::kPeakEwma) return best;
    // One probe elsewhere: it wins only if its latency alone, weighted by its tier, beats the local
    // choice's. The client's own pending count says nothing of a far endpoint's load, so it is left out.
    const std::uint32_t f = active_[rng.below(n)];
    const std::size_t fi = at(c, f), bi = at(c, best);
    if (tier_[fi] != kCrossAz) return best;
    last_.push_back(f);
    decay(fi, now);
    if (rtt_[fi] * spec_.tier_weight[kCrossAz] < rtt_[bi] * spec_.tier_weight[tier_[bi]]) best = f;
    return best;
}

std::uint32_t Balancer::pick_zone(std::uint32_t c, Rng& rng) {
    const std::uint32_t z = clients_[c].az;
    const ZoneState& s = zone_state_[z];
    std::uint32_t& all_rr = rr_[static_cast<std::size_t>(c) * (n_zones_ + 1)];
    const auto n = static_cast<std::uint32_t>(active_.size());
    if (s.mode < 2) return round_robin(all_rr, active_.data(), n);
    std::uint32_t zone = z;
    if (s.mode == 3 && rng.below(10000) >= s.local_share) {
        const std::uint64_t total = s.residual.back();
        if (total == 0) return round_robin(all_rr, active_.data(), n);
        const std::uint64_t threshold = rng.next() % total;
        zone = 0;
        while (threshold >= s.residual[zone]) ++zone;
    }
    const List& l = zone_list_[zone];
    if (l.size == 0) return round_robin(all_rr, active_.data(), n);
    return round_robin(rr_[static_cast<std::size_t>(c) * (n_zones_ + 1) + 1 + zone], zone_idx_.data() + l.offset,
                       l.size);
}

std::uint32_t Balancer::pick(std::uint32_t c, std::int64_t now, Rng& rng) {
    switch (spec_.kind) {
        case Kind::kChoice:
            return pick_choice(c, now, rng);
        case Kind::kRoundRobin:
            return round_robin(rr_[static_cast<std::size_t>(c) * (n_zones_ + 1)], active_.data(),
                               static_cast<std::uint32_t>(active_.size()));
        case Kind::kZoneAware:
            return pick_zone(c, rng);
        case Kind::kHostLocal: {
            const List& l = near_[c];
            const std::uint32_t e = near_idx_[l.offset];
            if (tier_[at(c, e)] == kSameHost) return near_idx_[l.offset + rng.below(l.size)];
            return active_[rng.below(static_cast<std::uint32_t>(active_.size()))];
        }
    }
    return 0;
}

std::uint32_t Balancer::zone_mode(std::uint32_t client) const { return zone_state_[clients_[client].az].mode; }
std::uint32_t Balancer::zone_local_share(std::uint32_t client) const {
    return zone_state_[clients_[client].az].local_share;
}

}  // namespace hp::mesh
