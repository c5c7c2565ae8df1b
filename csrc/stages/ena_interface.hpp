// What an EC2 instance's ENA interface does to traffic: spread it over queues
// (RSS), hold it to the instance type's allowances, queue what exceeds them
// and drop what the queue cannot hold, and add latency.
//
// Allowances are token buckets in packet time (allowance.hpp): packets per
// second (in and out together), bandwidth in and bandwidth out (each a peak
// bucket at the burst rate and a sustained bucket at the baseline rate whose
// depth holds the network I/O credits), bandwidth per flow, packets per second
// to link-local services, and connections tracked (a ConnTrack of the type's
// size). A packet that finds a bucket short waits in its direction's queue
// until every bucket it needs has its tokens; a packet that would find the
// queue full is dropped. ENA's counters count both ("queued or dropped").
//
// One interface is one sequence of events in time: its allowances are shared
// by every packet, so a batch runs on one thread, in order. See docs/ena.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "limits/allowance.hpp"
#include "limits/path_latency.hpp"
#include "limits/shared_allowance.hpp"
#include "stages/conntrack.hpp"
#include "core/flow_key.hpp"
#include "core/ipv4_network.hpp"
#include "core/packet.hpp"
#include "hash/rss.hpp"
#include "core/timeouts.hpp"
#include "counters.gen.hpp"
#include "verdict.gen.hpp"

namespace hp {

// Which packets are inbound: all, none, or those to the instance's addresses.
enum class EnaDirection : std::uint8_t { in, out, both };

struct EnaConfig {
    unsigned queues = 1;
    RssKey rss_key = kSpecRssKey;
    EnaDirection direction = EnaDirection::in;
    std::vector<Ipv4Network> instance;    // direction both: src here is outbound, dst here inbound
    std::vector<Ipv4Network> link_local;  // services answered by the card (DNS, IMDS, Time Sync)
    std::uint64_t pps = 0;                // each allowance: 0 means none
    std::uint64_t baseline_bps = 0;
    std::uint64_t burst_bps = 0;   // above baseline_bps: credits let traffic burst to it
    std::uint64_t credit_ns = 0;   // credits last this long at the burst rate when full
    double initial_credits = 1.0;  // the fraction of the credits held at the first packet
    std::uint64_t flow_bps = 0;
    std::uint64_t link_local_pps = 0;
    std::uint64_t window_ns = 1'000'000;  // every bucket's depth: this long at its rate, or two packets
    std::uint32_t mtu = 9001;             // the largest packet (IP bytes) the bit buckets are sized for
    std::size_t queue_depth = 1024;       // packets waiting per direction; 0: drop instead of queue
    std::size_t conntrack = 0;            // connections; 0: no tracking
    Timeouts timeouts{};
    HashKey key{};
    std::uint64_t latency_ns = 0;    // the latency class: each flow's latency is below it
    std::uint64_t latency_seed = 0;  // draws each flow's latency (limits/path_latency.hpp)
    std::size_t flow_slots = 4096;   // per-flow buckets held at once (a power of two, >= 4)
};

// Queueing delays: exact below 128 ns, above in 64 linear steps per power of two
// (HdrHistogram's layout), so a quantile is within 1/64 of the truth, clamped to
// the smallest and largest values seen, in 30 KB whatever the number of packets.
class DelayHistogram {
public:
    static constexpr std::size_t kExact = 128, kSteps = 64;
    static constexpr std::size_t kBuckets = kExact + 57 * kSteps;

    void add(std::uint64_t v) {
        ++counts_[index(v)];
        ++count_;
        if (v > max_) max_ = v;
        if (v < min_) min_ = v;
    }
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return count_ ? max_ : 0; }
    std::uint64_t zeros() const { return counts_[0]; }
    // The smallest value v with at least a fraction q of the values <= v (0 when empty).
    std::uint64_t quantile(double q) const;

    static std::size_t index(std::uint64_t v) {
        if (v < kExact) return static_cast<std::size_t>(v);
        const unsigned e = static_cast<unsigned>(63 - __builtin_clzll(v)) - 6;  // v >> e in [64, 128)
        return kExact + (e - 1) * kSteps + static_cast<std::size_t>((v >> e) - kSteps);
    }
    static std::uint64_t upper(std::size_t i);  // the largest value bucket i holds

private:
    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t count_ = 0, max_ = 0, min_ = ~std::uint64_t{0};
};

// Bandwidth buckets per flow (a directed 5-tuple; a 3-tuple for protocols
// without ports, as AWS defines a flow), in a fixed set-associative table. A
// bucket that is full holds nothing a fresh one would not, so its slot is free:
// only flows that sent within about a window of their rate occupy the table.
class FlowBuckets {
public:
    FlowBuckets(BucketShape shape, std::size_t slots, const HashKey& key);

    // The bucket state of `p`'s flow at `now`, claiming a slot if it has none.
    uint128& state(const Packet& p, std::uint64_t now);
    const BucketShape& shape() const { return shape_; }
    // Flows whose bucket was in debt when a newcomer took its slot (the debt is forgiven).
    std::uint64_t evicted() const { return evicted_; }

private:
    static constexpr std::size_t kWays = 4;
    struct Slot {
        std::uint64_t ips = 0, rest = 0;  // rest: ports | proto << 32 | 1 << 40 (in use)
        uint128 v = 0;
    };
    BucketShape shape_;
    HashKey key_;
    std::vector<Slot> slots_;
    std::size_t set_mask_;
    std::uint64_t evicted_ = 0;
};

struct EnaQueueStats {
    std::vector<std::uint64_t> rx_cnt, rx_bytes, tx_cnt, tx_bytes;  // ENA's queue_N_* names
};

class EnaInterface {
public:
    explicit EnaInterface(const EnaConfig& cfg);
    EnaInterface(const EnaInterface&) = delete;
    EnaInterface& operator=(const EnaInterface&) = delete;

    // Verdicts and delays (latency plus queueing; 0 for a dropped packet) of `n`
    // packets in order of time; a packet older than one before it counts as
    // arriving with it (time only moves forward).
    void process(const Packet* pkts, std::size_t n, std::uint8_t* verdicts, std::uint64_t* delay_ns);
    void expire(std::uint64_t now);

    const std::array<std::uint64_t, kEnaCounterCount>& counters() const { return counters_; }
    std::uint64_t conntrack_available() const;
    const std::array<std::uint64_t, kVerdictCount>& verdicts() const { return verdicts_; }
    const EnaQueueStats& queue_stats() const { return queue_stats_; }
    const DelayHistogram& waits() const { return waits_; }
    const DelayHistogram& delays() const { return delays_; }  // latency plus wait, per forwarded packet
    // Burst credits held (bits) at the latest packet's time, inbound and outbound.
    double credits_bits(bool inbound) const;
    std::uint64_t flow_evictions() const { return flows_ ? flows_->evicted() : 0; }
    std::size_t connections() const { return ct_ ? ct_->size() : 0; }
    const EnaConfig& config() const { return cfg_; }
    // From now on this interface and `other` (the same ENI's other direction, as a separate
    // interface) take their packets-per-second tokens from one bucket (shared_allowance.hpp).
    // Both must have the same pps allowance and neither may have seen a packet yet.
    void share_pps(EnaInterface& other);
    void queues(const Packet* pkts, std::size_t n, std::uint16_t* out) const { rss_.queue(pkts, n, out); }
    // Each packet's flow latency (limits/path_latency.hpp), without any wait.
    void latencies(const Packet* pkts, std::size_t n, std::uint64_t* out) const {
        for (std::size_t i = 0; i < n; ++i) out[i] = latency_.of(pkts[i]);
    }

private:
    enum class Path : std::uint8_t { inbound, outbound, link_local_request, link_local_reply, not_routed };
    Path path_of(const Packet& p) const;
    void start(std::uint64_t now);
    // Runs the tracker over the batch's inbound and outbound packets; their verdicts in ct_verdicts_.
    void track(const Packet* pkts, std::size_t n);
    void count(EnaCounter c) { ++counters_[static_cast<std::size_t>(c)]; }
    void deliver(const Packet& p, std::uint16_t queue, bool rx, std::uint64_t wait, std::uint8_t& verdict,
                 std::uint64_t& delay);

    EnaConfig cfg_;
    Rss rss_;
    std::unique_ptr<ConnTrack> ct_;
    std::unique_ptr<FlowBuckets> flows_;
    Allowance pps_, link_local_;
    std::shared_ptr<SharedAllowance> shared_pps_;  // with the other direction's interface, if shared
    int side_ = 0;                                 // which side of shared_pps_ this interface is
    Allowance peak_[2], sustained_[2];             // [inbound, outbound]
    uint128 sustained_window_[2] = {0, 0};         // the sustained buckets' depth without the credits
    // Each direction's queue: the departure times of the packets waiting in it, a min-heap.
    std::vector<std::uint64_t> waiting_[2];
    bool started_ = false;
    std::uint64_t now_ = 0;
    std::array<std::uint64_t, kEnaCounterCount> counters_{};
    std::array<std::uint64_t, kVerdictCount> verdicts_{};
    EnaQueueStats queue_stats_;
    PathLatency latency_;
    DelayHistogram waits_, delays_;
    // Per batch, reused: each packet's path and queue, the tracker's input and verdicts.
    std::vector<Path> paths_;
    std::vector<std::uint16_t> queue_ids_;
    std::vector<Packet> tracked_;
    std::vector<std::uint8_t> ct_verdicts_;
};

}  // namespace hp
