// Connection tracking, sharded by RSS queue: each shard owns a FlowTable and
// sees its packets in batch order, so a shard's result never depends on which
// thread ran it or how many there were.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/flow_shard.hpp"
#include "runtime/sharded_stage.hpp"
#include "table/flow_table.hpp"
#include "table/state_record.hpp"
#include "core/packet.hpp"
#include "hash/rss.hpp"
#include "core/timeouts.hpp"
#include "counters.gen.hpp"
#include "verdict.gen.hpp"

namespace hp {

struct ConnTrackCounters {
    VerdictCounts verdicts{};
    std::array<std::uint64_t, kCtEventCount> events{};
};

struct ConnTrackConfig : StageConfig {
    bool loose = true;        // pick up TCP connections mid-stream on a bare ACK, as Linux does
    bool early_drop = false;  // when full, evict the oldest unconfirmed connection
};

// One row of ConnTrack::flows().
struct FlowInfo {
    std::uint64_t first_ts, last_ts;
    std::uint64_t bytes_orig, bytes_reply;
    std::uint32_t packets_orig, packets_reply;
    std::uint32_t orig_src_ip, orig_dst_ip, reply_src_ip, reply_dst_ip;
    std::uint16_t orig_src_port, orig_dst_port, reply_src_port, reply_dst_port;
    std::uint16_t shard;
    std::uint8_t proto, state, replied, stream;
    std::uint8_t unused[2];  // named, so the rows handed to numpy carry no indeterminate padding
};
static_assert(sizeof(FlowInfo) == 72, "FlowInfo has no padding");

// Cache-line aligned: shards owned by different workers never share a line.
class alignas(64) ConnTrackShard : public FlowShard<ConnTrackShard> {
public:
    ConnTrackShard(unsigned index, std::size_t capacity, const ConnTrackConfig& cfg);

    Verdict handle(const Packet& p, const KeyedPacket& kp, std::uint64_t h);
    void sweep(std::size_t slots);
    void expire(std::uint64_t now);
    void append_rows(std::vector<FlowInfo>& out) const;
    void export_rows(std::vector<StateRecord>& out) const;
    Imported import_row(const StateRecord& s, const Packet& origin);
    void restore_events(const std::array<std::uint64_t, kCtEventCount>& events) {
        for (std::size_t e = 0; e < kCtEventCount; ++e) events_[e] += events[e];
    }
    std::size_t connections() const { return table_.size(); }
    const std::array<std::uint64_t, kCtEventCount>& events() const { return events_; }

private:
    Verdict track(const Packet& p, const KeyedPacket& kp, std::uint64_t h);
    Verdict create(const Packet& p, const KeyedPacket& kp, std::uint64_t h, std::uint8_t state);
    bool make_room(std::uint64_t h, std::uint64_t now);
    void remove(std::size_t slot, CtEvent why);
    void note_deadline(const FlowRecord& r);
    void count(CtEvent e) { ++events_[static_cast<std::size_t>(e)]; }

    const ConnTrackConfig* cfg_;
    std::array<std::uint64_t, kCtEventCount> events_{};
    // No connection held expires before next_deadline_: while the table is full
    // and now <= next_deadline_, a new connection is refused without a search.
    // The sweep rebuilds the bound each time it goes round the table.
    std::uint64_t next_deadline_ = ~std::uint64_t{0};
    std::uint64_t round_deadline_ = ~std::uint64_t{0};
};

class ConnTrack : public ShardedStage<ConnTrackShard, ConnTrackConfig, Verdict> {
public:
    explicit ConnTrack(const ConnTrackConfig& cfg);

    void process(const Packet* pkts, std::size_t n, std::uint8_t* verdicts, unsigned threads);
    std::vector<FlowInfo> flows() const { return rows<FlowInfo>(); }
    ConnTrackCounters counters() const;
    void restore_events(const std::array<std::uint64_t, kCtEventCount>& events) { shards_[0].restore_events(events); }

    std::size_t capacity() const { return cfg_.capacity; }
    std::size_t memory_bytes() const;

    // The shard of each packet: its RSS queue under a symmetric key, so both
    // directions meet, with fragments placed as their whole datagram would be.
    void shards(const Packet* pkts, std::size_t n, std::uint16_t* out) const { rss_.queue(pkts, n, out); }
};

}  // namespace hp
