#include "stages/conntrack.hpp"

#include <algorithm>

namespace hp {
namespace {

constexpr std::size_t kRoomGroups = 4;  // groups searched for a victim when full

bool assured(const FlowRecord& r) {
    if (r.proto == proto::tcp) {
        const auto s = static_cast<TcpState>(r.state);
        return s != TcpState::syn_sent && s != TcpState::syn_recv && s != TcpState::syn_sent2;
    }
    return r.flags & flow_flag::stream;
}

}  // namespace

ConnTrackShard::ConnTrackShard(unsigned index, std::size_t capacity, const ConnTrackConfig& cfg)
    : FlowShard(index, capacity, cfg.key), cfg_(&cfg) {}

// The hot path is inlined into the pipeline; creating a connection is not.
__attribute__((always_inline)) inline Verdict ConnTrackShard::handle(const Packet& p, const KeyedPacket& kp,
                                                                     std::uint64_t h) {
    return counted(track(p, kp, h));
}

__attribute__((always_inline)) inline Verdict ConnTrackShard::track(const Packet& p, const KeyedPacket& kp,
                                                                    std::uint64_t h) {
    const std::uint64_t now = p.ts;
    advance(now);
    const bool tcp = p.proto == proto::tcp;
    const TcpFlagClass cls = tcp_flag_class(p.tcp_flags);
    if (p.proto == proto::icmp) {
        const std::uint8_t type = icmp_type(p);
        if (type != kIcmpEchoRequest && type != kIcmpEchoReply) {
            if (p.flags & packet_flag::tracked_only) return Verdict::drop_unsolicited;
            count(CtEvent::untracked);
            return Verdict::forward;
        }
    }

    std::size_t slot = table_.find(kp.key, h);
    if (slot != FlowTable::npos && cfg_->timeouts.expired(table_.record(slot), now)) {
        remove(slot, CtEvent::expired);
        slot = FlowTable::npos;
    }
    if (slot == FlowTable::npos) {
        if (p.flags & packet_flag::tracked_only) return Verdict::drop_unsolicited;
        if (tcp) {
            if (cls == TcpFlagClass::syn) return create(p, kp, h, static_cast<std::uint8_t>(TcpState::syn_sent));
            if (cls == TcpFlagClass::ack && cfg_->loose)
                return create(p, kp, h, static_cast<std::uint8_t>(TcpState::established));
            return Verdict::drop_invalid;
        }
        if (p.proto == proto::icmp && icmp_type(p) == kIcmpEchoReply) return Verdict::drop_invalid;
        return create(p, kp, h, 0);
    }

    FlowRecord& r = table_.record(slot);
    const bool reply = kp.from_lo != static_cast<bool>(r.flags & flow_flag::orig_lo);
    if (tcp) {
        const auto from = static_cast<TcpState>(r.state);
        const TcpState to = tcp_transition(reply, cls, from);
        if (to == TcpState::invalid) return Verdict::drop_invalid;
        if (to == TcpState::ignore) {
            count(CtEvent::ignored);
            return Verdict::forward;
        }
        if (to == TcpState::syn_sent && (from == TcpState::time_wait || from == TcpState::close)) {
            // A new connection on a finished one's tuple: Linux destroys the old
            // entry and tracks the SYN as the first packet of a new one.
            remove(slot, CtEvent::reopened);
            return create(p, kp, h, static_cast<std::uint8_t>(TcpState::syn_sent));
        }
        r.state = static_cast<std::uint8_t>(to);
    }
    // A reply marks the flow replied; the originator speaking again after a
    // reply makes it a stream. Computed, not branched: directions alternate.
    const std::uint8_t replied = r.flags & flow_flag::seen_reply;
    r.flags = static_cast<std::uint8_t>(r.flags | (reply ? flow_flag::seen_reply : (replied ? flow_flag::stream : 0)));
    r.last_ts = std::max(r.last_ts, now);
    const std::size_t dir = reply ? 1 : 0;
    ++r.packets[dir];
    r.bytes[dir] += p.length;
    // A refresh only moves the deadline later; a new state may move it earlier.
    const std::uint8_t timeouts = timeout_class(r.proto, r.state, r.flags);
    if (timeouts != r.timeout_class) {
        r.timeout_class = timeouts;
        note_deadline(r);
    }
    count(CtEvent::tracked);
    return Verdict::forward;
}

__attribute__((noinline)) Verdict ConnTrackShard::create(const Packet& p, const KeyedPacket& kp, std::uint64_t h,
                                                         std::uint8_t state) {
    std::size_t slot = table_.insert(kp.key, h);
    if (slot == FlowTable::npos) {
        if (!make_room(h, p.ts)) {
            // Expired connections may lie anywhere: sweep a stretch, but only
            // when the bound says one can have expired, so a flood against a
            // table of live connections is refused at the cost of a compare.
            if (p.ts <= next_deadline_) return Verdict::drop_table_full;
            sweep(kFullSweep);
            if (table_.size() >= table_.capacity()) return Verdict::drop_table_full;
        }
        slot = table_.insert(kp.key, h);
    }
    note_deadline(open_record(slot, p, kp.from_lo, state, std::uint64_t{0}));
    count(CtEvent::created);
    return Verdict::forward;
}

bool ConnTrackShard::make_room(std::uint64_t h, std::uint64_t now) {
    // Near the new key's home, as Linux looks in the new entry's bucket: an
    // expired connection first, else (with early drop) the oldest unconfirmed one.
    std::size_t victim = FlowTable::npos;
    std::size_t g = table_.home(h);
    for (std::size_t k = 0; k < kRoomGroups; ++k, g = table_.next(g)) {
        for (std::size_t slot = g * FlowTable::kGroupSlots; slot < (g + 1) * FlowTable::kGroupSlots; ++slot) {
            if (!table_.occupied(slot)) continue;
            const FlowRecord& r = table_.record(slot);
            if (cfg_->timeouts.expired(r, now)) {
                remove(slot, CtEvent::expired);
                return true;
            }
            if (cfg_->early_drop && !assured(r) &&
                (victim == FlowTable::npos || r.last_ts < table_.record(victim).last_ts))
                victim = slot;
        }
    }
    if (victim == FlowTable::npos) return false;
    remove(victim, CtEvent::early_drop);
    return true;
}

void ConnTrackShard::remove(std::size_t slot, CtEvent why) {
    count(why);
    table_.erase(slot);
}

void ConnTrackShard::note_deadline(const FlowRecord& r) {
    const std::uint64_t d = cfg_->timeouts.deadline(r);
    next_deadline_ = std::min(next_deadline_, d);
    round_deadline_ = std::min(round_deadline_, d);
}

void ConnTrackShard::sweep(std::size_t slots) {
    table_.sweep(
        cursor_, slots,
        [&](std::size_t slot) {
            const std::uint64_t d = cfg_->timeouts.deadline(table_.record(slot));
            if (now_ > d)
                remove(slot, CtEvent::expired);
            else
                round_deadline_ = std::min(round_deadline_, d);
        },
        [&] {
            // A full round saw every connection, or noted it when it changed.
            next_deadline_ = round_deadline_;
            round_deadline_ = ~std::uint64_t{0};
        });
}

void ConnTrackShard::expire(std::uint64_t now) {
    expire_timed_out(now, cfg_->timeouts, [&](std::size_t slot) { remove(slot, CtEvent::expired); });
}

void ConnTrackShard::append_rows(std::vector<FlowInfo>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        const bool lo = r.flags & flow_flag::orig_lo;
        FlowInfo f{};
        f.first_ts = r.first_ts, f.last_ts = r.last_ts;
        f.bytes_orig = r.bytes[0], f.bytes_reply = r.bytes[1];
        f.packets_orig = r.packets[0], f.packets_reply = r.packets[1];
        f.orig_src_ip = lo ? r.ip_lo : r.ip_hi;
        f.orig_dst_ip = lo ? r.ip_hi : r.ip_lo;
        f.orig_src_port = lo ? r.port_lo : r.port_hi;
        f.orig_dst_port = lo ? r.port_hi : r.port_lo;
        f.reply_src_ip = f.orig_dst_ip, f.reply_dst_ip = f.orig_src_ip;
        f.reply_src_port = f.orig_dst_port, f.reply_dst_port = f.orig_src_port;
        f.shard = static_cast<std::uint16_t>(index_);
        f.proto = r.proto, f.state = r.state;
        f.replied = (r.flags & flow_flag::seen_reply) ? 1 : 0;
        f.stream = (r.flags & flow_flag::stream) ? 1 : 0;
        out.push_back(f);
    });
}

void ConnTrackShard::export_rows(std::vector<StateRecord>& out) const {
    for_each_connection([&](const FlowRecord& r) { out.push_back(state_of(r)); });
}

Imported ConnTrackShard::import_row(const StateRecord& s, const Packet& origin) {
    const KeyedPacket kp = flow_key_of(origin);
    const std::uint64_t h = table_.hash(kp.key);
    const std::size_t held = table_.find(kp.key, h);
    if (held != FlowTable::npos) table_.erase(held);
    const std::size_t slot = table_.insert(kp.key, h);
    if (slot == FlowTable::npos) return Imported::table_full;
    FlowRecord& r = table_.record(slot);
    restore_record(r, s);
    r.ext = 0;
    note_deadline(r);
    return held != FlowTable::npos ? Imported::replaced : Imported::added;
}

ConnTrack::ConnTrack(const ConnTrackConfig& cfg) : ShardedStage(cfg, symmetric_rss_key()) {
    shards_.reserve(cfg_.queues);
    for (unsigned s = 0; s < cfg_.queues; ++s) shards_.emplace_back(s, per_shard(), cfg_);
}

void ConnTrack::process(const Packet* pkts, std::size_t n, std::uint8_t* verdicts, unsigned threads) {
    run(
        pkts, n, threads,
        [&](std::size_t begin, std::size_t end, std::uint16_t* ids) { rss_assign(pkts, begin, end, ids); },
        [&](ConnTrackShard& shard, std::size_t i, const KeyedPacket& kp, std::uint64_t h) {
            return shard.handle(pkts[i], kp, h);
        },
        [&](std::size_t i, Verdict v) { verdicts[i] = static_cast<std::uint8_t>(v); });
}

ConnTrackCounters ConnTrack::counters() const {
    ConnTrackCounters total;
    total.verdicts = verdicts();
    for (const auto& s : shards_)
        for (std::size_t e = 0; e < kCtEventCount; ++e) total.events[e] += s.events()[e];
    return total;
}

std::size_t ConnTrack::memory_bytes() const {
    std::size_t n = 0;
    for (const auto& s : shards_) n += s.table().memory_bytes();
    return n;
}

}  // namespace hp
