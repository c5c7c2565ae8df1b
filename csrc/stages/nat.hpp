// A NAT gateway with AWS NAT Gateway semantics: sources in private networks
// leave through a set of public addresses, replies find their way back, and
// every limit is a counted verdict.
//
// Each connection is two records in its shard's flow table: the main record,
// keyed by the private tuple, holding state, times, counters and the
// translation; and an alias keyed by the public tuple (as the reply arrives),
// holding the main record's slot. Shards own slices of every public address's
// ports (port p belongs to shard (p - 1024) % queues), so an outbound
// connection takes a port from its own shard's slice and the reply, sharded by
// its destination port, arrives where the connection lives.
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
#include "metrics/per_minute.hpp"
#include "core/ipv4_network.hpp"
#include "core/packet.hpp"
#include "hash/rss.hpp"
#include "core/timeouts.hpp"
#include "limits/scaling_limit.hpp"
#include "counters.gen.hpp"
#include "verdict.gen.hpp"

namespace hp {

using NatMinute = PerMinute<kNatMetricCount>::Row;

struct NatConfig : StageConfig {
    static constexpr bool kMetered = true;
    std::vector<std::uint32_t> public_ips;
    std::vector<Ipv4Network> private_networks;
    std::uint32_t per_destination = 55000;  // per public address and (dst ip, dst port, proto)
    // A fleet node's gateway is slice `port_slice` of `port_slices` sharing the public addresses:
    // its shards give out only that slice's ports (table/port_slice.hpp), and its share of the
    // per-destination limit, so a reply's port names the node as well as the shard.
    unsigned port_slice = 0, port_slices = 1;
    // The gateway's limits: from base_* scaling up to max_* (limits/scaling_limit.hpp); 0: none.
    double base_pps = 0, max_pps = 0;
    double base_bps = 0, max_bps = 0;
};

// How a packet crosses the gateway, decided before it reaches a shard.
enum class NatPath : std::uint8_t { outbound, inbound, not_routed };

// A packet's rewrite, written per shard and applied in batch order.
struct NatRewrite {
    std::uint32_t ip;
    std::uint16_t port;
    std::uint8_t what;  // 0: none, 1: source, 2: destination, 3: destination and ICMP identifier, 4: the RST sent back
};

struct NatOutcome {
    NatRewrite rewrite;
    Verdict verdict;
};

// One row of NatGateway::connections().
struct NatConnection {
    std::uint64_t first_ts, last_ts;
    std::uint64_t bytes_out, bytes_in;
    std::uint32_t packets_out, packets_in;
    std::uint32_t private_ip, remote_ip, public_ip;
    std::uint16_t private_port, remote_port, public_port, shard;
    std::uint8_t proto, state;
    std::uint8_t unused[2];  // named, so the rows handed to numpy carry no indeterminate padding
};
static_assert(sizeof(NatConnection) == 64, "NatConnection has no padding");

// A connection's main record's extension: where its alias is and what it was translated to.
struct NatExt {
    std::uint32_t alias;  // the slot of the alias keyed by the public tuple
    std::uint16_t public_port;
    std::uint8_t public_ip;  // index into NatConfig::public_ips
};

class alignas(64) NatShard : public FlowShard<NatShard> {
public:
    NatShard(unsigned index, std::size_t capacity, const NatConfig& cfg);

    // A reply finds its alias first: fetch the connection the alias points to. A packet with
    // no connection may open one: fetch its destination's count under the address it would get.
    void follow(const KeyedPacket& kp, std::uint64_t h) const;
    Verdict handle(const Packet& p, NatPath path, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw);
    void sweep(std::size_t slots);

    void expire(std::uint64_t now);
    void append_rows(std::vector<NatConnection>& out) const;
    void export_rows(std::vector<StateRecord>& out) const;
    // Adds the connection `s` (its first packet `origin`) with its translation, or says why not.
    Imported import_row(const StateRecord& s, const Packet& origin);
    void prefetch_import(const StateRecord& s, const Packet& origin) const;
    void add_metrics(std::vector<NatMinute>& out) const;
    void restore_metrics(const std::vector<NatMinute>& rows) { minutes_.add_rows(rows); }
    // The shard's current minute (~0 before its first packet), and resuming a copy there.
    std::uint64_t minute_position() const { return minutes_.started() ? minutes_.current() : ~std::uint64_t{0}; }
    void resume_minute(std::uint64_t m) {
        if (m != ~std::uint64_t{0}) minutes_.resume(static_cast<std::size_t>(m));
    }
    std::size_t connections() const { return table_.size() / 2; }

private:
    Verdict outbound(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw);
    Verdict inbound(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw);
    Verdict open(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw);
    bool port_free(std::uint8_t ip_index, std::uint16_t port, const Packet& p);
    void close(std::size_t main_slot, bool timed_out);
    // Closes every connection timed out at `now`, unless the bound says none can be.
    void reclaim(std::uint64_t now);
    void new_minute(std::uint64_t ts);
    static bool counts_active(const FlowRecord& r);  // ActiveConnectionCount counts TCP connections
    void note_deadline(const FlowRecord& r, std::uint64_t destination);
    std::uint64_t destination_of(const FlowRecord& r) const;
    void count(NatMetric m, std::uint64_t amount = 1) { minutes_.add(static_cast<std::size_t>(m), amount); }

    const NatConfig* cfg_;
    DestinationCounts destinations_;
    ScalingLimit pps_, bits_;
    PerMinute<kNatMetricCount> minutes_;
    // Port choice draws from a generator seeded by this and the connection's hash, so the
    // port a connection gets depends on its tuple and the ports taken, not on history: a
    // stage that imported another's connections chooses as that stage would have.
    std::uint64_t port_seed_;
    PortSlice ports_;
    std::size_t live_tcp_ = 0;
    std::uint32_t per_destination_;
    // No connection held times out at or before earliest_ (a lower bound on every
    // deadline, rebuilt exactly by reclaim()): a timed-out connection's place in
    // the per-destination limit and its port are free the moment it times out.
    std::uint64_t earliest_ = ~std::uint64_t{0};
};

class NatGateway : public ShardedStage<NatShard, NatConfig, NatOutcome> {
public:
    explicit NatGateway(const NatConfig& cfg);

    // `out` receives the packets as they leave (a copy of `in`, rewritten); it may be `in`.
    void process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts, unsigned threads);
    std::vector<NatConnection> connections() const { return rows<NatConnection>(); }
    std::vector<NatMinute> metrics() const { return ShardedStage::metrics<NatMinute>(); }

private:
    // The packet's path; for a reply, also its shard (the owner of its port).
    NatPath path_of(const Packet& p, std::uint16_t& shard) const;

    std::vector<NatPath> paths_;
};

}  // namespace hp
