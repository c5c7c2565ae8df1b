// The balancers, inside the simulation so a pick costs nanoseconds. One object
// holds every client's own view (each client task runs its own proxy): its
// in-flight count and peak-EWMA estimate per endpoint, its round-robin counters
// and, for zone-aware routing, its zone's routing state. Health changes are rare
// and rebuild the candidate lists; picks only read them.
//
// Rules followed (quoted in docs/mesh.md):
// - peak EWMA as tower/linkerd2-proxy: cost = estimate x (pending + 1); a sample
//   above the estimate replaces it, else estimate = estimate*w + rtt*(1-w) with
//   w = exp(-elapsed/decay); reading the cost first decays it towards 0 the same way;
//   P2C samples two distinct endpoints and keeps the first on a tie.
// - least-request as Envoy's: choice_count samples with replacement, fewest active wins.
// - zone-aware as Envoy's: no zone routing below min_cluster_size healthy upstream
//   hosts or in panic; local zone directly when its upstream share is at least the
//   local cluster's, else that ratio of requests locally and the rest by residual
//   capacity, in Envoy's units of 1/10000.
// - locality-EWMA (ours): the P2C peak-EWMA rule over the client's own zone, new
//   endpoints starting at their tier's network RTT, ties to the nearer tier; then one
//   probe of a random endpoint: if it is in another zone and its estimate times the
//   cross-zone weight is below the local choice's, it is taken instead.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "mesh/random.hpp"
#include "mesh/spec.hpp"

namespace hp::mesh {

class Balancer {
public:
    Balancer(const BalancerSpec& spec, const std::vector<Place>& clients, const std::vector<Place>& endpoints,
             const Network& net);

    // The balancers' view of health (what health checks have reported): rebuilds the lists.
    void set_health(const std::vector<std::uint8_t>& endpoint_healthy, const std::vector<std::uint8_t>& client_healthy);
    // An endpoint discovered again after being unhealthy starts from the prior (tower's Change::Insert).
    void rediscover(std::uint32_t endpoint, std::int64_t now);

    std::uint32_t pick(std::uint32_t client, std::int64_t now, Rng& rng);
    void sent(std::uint32_t client, std::uint32_t endpoint) { ++pending_[at(client, endpoint)]; }
    // The response (or timeout) of an attempt sent at `sent_at`: pending - 1, RTT observed.
    void done(std::uint32_t client, std::uint32_t endpoint, std::int64_t sent_at, std::int64_t now);

    // For tests and reports.
    double cost(std::uint32_t client, std::uint32_t endpoint, std::int64_t now);
    double estimate(std::uint32_t client, std::uint32_t endpoint) const { return rtt_[at(client, endpoint)]; }
    std::uint32_t pending(std::uint32_t client, std::uint32_t endpoint) const { return pending_[at(client, endpoint)]; }
    const std::vector<std::uint32_t>& last_candidates() const { return last_; }
    // Zone-aware state of a client's zone: 0 no zone routing, 1 panic, 2 direct, 3 residual;
    // and the share of requests kept local, in 1/10000.
    std::uint32_t zone_mode(std::uint32_t client) const;
    std::uint32_t zone_local_share(std::uint32_t client) const;
    Tier tier(std::uint32_t client, std::uint32_t endpoint) const {
        return static_cast<Tier>(tier_[at(client, endpoint)]);
    }

private:
    std::size_t at(std::uint32_t c, std::uint32_t e) const { return static_cast<std::size_t>(c) * n_endpoints_ + e; }
    void decay(std::size_t i, std::int64_t now);
    double metric(std::uint32_t c, std::uint32_t e, std::int64_t now);
    std::uint32_t pick_choice(std::uint32_t c, std::int64_t now, Rng& rng);
    std::uint32_t sample(std::uint32_t c, std::int64_t now, Rng& rng, const std::uint32_t* pool, std::uint32_t n);
    std::uint32_t pick_local(std::uint32_t c, std::int64_t now, Rng& rng);
    std::uint32_t pick_zone(std::uint32_t c, Rng& rng);
    std::uint32_t round_robin(std::uint32_t& counter, const std::uint32_t* list, std::uint32_t n);
    void rebuild_zones(const std::vector<std::uint8_t>& endpoint_healthy,
                       const std::vector<std::uint8_t>& client_healthy, bool upstream_panic);

    struct List {
        std::uint32_t offset = 0, size = 0;
    };
    struct ZoneState {
        std::uint32_t mode = 0;               // 0 off, 1 panic, 2 direct, 3 residual
        std::uint32_t local_share = 0;        // 1/10000
        std::vector<std::uint64_t> residual;  // cumulative residual capacity by zone
    };

    BalancerSpec spec_;
    std::uint32_t n_clients_, n_endpoints_, n_zones_;
    std::vector<Place> clients_, endpoints_;
    std::vector<std::uint8_t> tier_;
    std::vector<std::uint32_t> pending_;
    std::vector<double> rtt_;
    std::vector<std::int64_t> stamp_;
    std::array<double, 3> prior_{};
    std::vector<std::uint32_t> active_;    // healthy endpoints, or all in panic
    std::vector<std::uint32_t> near_idx_;  // per client: its nearest healthy tier
    std::vector<List> near_;
    std::vector<std::uint32_t> rr_;        // per client (round robin), per client x zone (zone-aware)
    std::vector<std::uint32_t> zone_idx_;  // active endpoints grouped by zone
    std::vector<List> zone_list_;
    std::vector<ZoneState> zone_state_;  // per client zone
    std::vector<std::uint32_t> last_;
};

}  // namespace hp::mesh
