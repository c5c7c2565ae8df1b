// What a mesh simulation is given, as plain values: where the client and server
// tasks run, the network's latency by placement, each endpoint's service time and
// queue, the balancer's rules, the load and the down intervals. The Python layer
// (hyperplane/mesh) builds these from a placement; check() refuses a bad one with
// std::invalid_argument naming the field first (ValueError in Python).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace hp::mesh {

// Where a task runs: indices of its host and its availability zone.
struct Place {
    std::uint32_t host = 0;
    std::uint32_t az = 0;
};

// How far a client is from an endpoint; the index into the per-tier arrays.
enum Tier : std::uint8_t { kSameHost = 0, kSameAz = 1, kCrossAz = 2 };

inline Tier tier_of(const Place& a, const Place& b) {
    if (a.az != b.az) return kCrossAz;
    return a.host == b.host ? kSameHost : kSameAz;
}

struct Endpoint {
    Place place;
    double median_ns = 2e6;  // service time: lognormal(median, sigma) x slow
    double sigma = 0.5;
    double slow = 1.0;
    std::uint32_t concurrency = 16;    // requests served at once
    std::uint32_t queue_limit = 1000;  // requests waiting beyond those; more are refused
};

struct Network {
    std::array<double, 3> one_way_ns{50e3, 250e3, 1.2e6};  // median one-way latency by tier
    double jitter_sigma = 0.3;                             // lognormal shape of each one-way delay
};

// The balancer families. Choice covers random, least-request, P2C peak-EWMA,
// locality-EWMA and users' own compositions of the same parameters.
enum class Kind : std::uint8_t { kChoice = 0, kRoundRobin = 1, kZoneAware = 2, kHostLocal = 3 };
enum class Metric : std::uint8_t { kNone = 0, kPending = 1, kPeakEwma = 2 };

struct BalancerSpec {
    Kind kind = Kind::kChoice;
    std::uint32_t choices = 2;  // endpoints sampled per pick (Choice)
    bool distinct = true;       // samples without replacement (tower's P2C) or with (Envoy's least-request)
    Metric metric = Metric::kPeakEwma;
    bool near_first = false;  // sample the client's own zone, then one probe elsewhere (locality-EWMA)
    std::array<double, 3> tier_weight{1.0, 1.0, 1.0};  // cost multiplier by tier
    bool placement_prior = false;                      // a new endpoint's RTT estimate is its tier's network RTT
    double default_rtt_ns = 30e6;                      // else this (linkerd2-proxy's 30 ms)
    double decay_ns = 10e9;                            // peak-EWMA decay time (10 s)
    std::uint32_t min_cluster_size = 6;                // zone-aware: fewer healthy upstream hosts, no zone routing
    double panic_threshold = 0.0;                      // healthy share below which all hosts are used (Envoy: 0.5)
};

struct Load {
    double rps = 1000.0;
    std::int64_t duration_ns = 1'000'000'000;
    std::uint64_t seed = 1;
    std::int64_t timeout_ns = 1'000'000'000;  // per attempt
    std::uint32_t retries = 2;                // further attempts after a timed-out or failed one
    std::uint32_t request_bytes = 1024;
    std::uint32_t response_bytes = 4096;
    std::int64_t health_delay_ns = 5'000'000'000;  // down -> seen unhealthy by the balancers, and back
    bool refuse_when_down = false;                 // a down endpoint refuses at once (else it drops: timeouts)
};

// A task down from start to end: an endpoint, or a client when `client`.
struct Down {
    std::uint32_t index = 0;
    bool client = false;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
};

struct Result {
    std::uint64_t sent = 0, completed = 0, timed_out = 0, failed = 0;  // requests
    std::uint64_t attempts = 0, retries = 0, attempt_timeouts = 0, attempt_failures = 0;
    std::uint64_t cross_az_bytes = 0;
    std::array<std::uint64_t, 3> tier_attempts{0, 0, 0};
    std::vector<double> latency_s;                 // each completed request, arrival to final response
    std::vector<std::uint64_t> endpoint_attempts;  // attempts sent to each endpoint
    std::vector<std::uint64_t> endpoint_served;    // responses each endpoint completed
    std::uint64_t events = 0;
};

void check(const std::vector<Place>& clients, const std::vector<Endpoint>& endpoints, const Network& net,
           const BalancerSpec& spec, const Load& load, const std::vector<Down>& down);

}  // namespace hp::mesh
