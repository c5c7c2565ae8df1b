#include "stages/nat.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/tcp_reset.hpp"

namespace hp {
namespace {

constexpr std::uint8_t kEstablished = 0x10;  // a record flag beyond flow_flag's: counted in ConnectionEstablishedCount

std::uint32_t orig_ip(const FlowRecord& r) { return (r.flags & flow_flag::orig_lo) ? r.ip_lo : r.ip_hi; }
std::uint16_t orig_port(const FlowRecord& r) { return (r.flags & flow_flag::orig_lo) ? r.port_lo : r.port_hi; }
std::uint32_t other_ip(const FlowRecord& r) { return (r.flags & flow_flag::orig_lo) ? r.ip_hi : r.ip_lo; }
std::uint16_t other_port(const FlowRecord& r) { return (r.flags & flow_flag::orig_lo) ? r.port_hi : r.port_lo; }

// A TCP connection closed gracefully (FIN both ways, or RST) does not count as an idle timeout.
bool closed_gracefully(const FlowRecord& r) {
    if (r.proto != proto::tcp) return false;
    const auto s = static_cast<TcpState>(r.state);
    return s == TcpState::last_ack || s == TcpState::time_wait || s == TcpState::close;
}

void apply(Packet& p, const NatRewrite& rw) {
    switch (rw.what) {
        case 1:
            p.src_ip = rw.ip, p.src_port = rw.port;
            break;
        case 2:
            p.dst_ip = rw.ip, p.dst_port = rw.port;
            break;
        case 3:
            p.dst_ip = rw.ip, p.src_port = rw.port;
            break;
        case 4:
            p = rst_reply(p);
            break;
        default:
            break;
    }
}

}  // namespace

NatShard::NatShard(unsigned index, std::size_t capacity, const NatConfig& cfg)
    : FlowShard(index, 2 * capacity, cfg.key),
      cfg_(&cfg),
      destinations_(capacity, cfg.key),
      minutes_(&cfg.start_minute, static_cast<std::size_t>(NatMetric::active_connection_count)),
      port_seed_(splitmix(cfg.seed ^ splitmix(index))),
      ports_(cfg.port_slice * cfg.queues + index, cfg.port_slices * cfg.queues),
      per_destination_((cfg.per_destination + cfg.queues * cfg.port_slices - 1) / (cfg.queues * cfg.port_slices)) {
    // A shard enforces its share of the gateway's limits; buckets hold 1 ms of
    // traffic, and at least one packet (or one jumbo frame of bits).
    const double q = cfg.queues;
    if (cfg.max_pps > 0) pps_ = ScalingLimit(cfg.base_pps / q, cfg.max_pps / q, 1.0);
    if (cfg.max_bps > 0) bits_ = ScalingLimit(cfg.base_bps / q, cfg.max_bps / q, 9001.0 * 8);
}

void NatShard::follow(const KeyedPacket& kp, std::uint64_t h) const {
    const std::size_t slot = table_.find(kp.key, h);
    if (slot != FlowTable::npos) {
        if (is_alias(table_.record(slot))) prefetch(&table_.record(main_slot_of(table_.record(slot))));
        return;
    }
    // As open() will ask: the source's first public address, toward the packet's destination.
    const std::uint32_t lo = static_cast<std::uint32_t>(kp.key.ips), hi = static_cast<std::uint32_t>(kp.key.ips >> 32);
    const auto port_lo = static_cast<std::uint16_t>(kp.key.rest),
               port_hi = static_cast<std::uint16_t>(kp.key.rest >> 16);
    const auto protocol = static_cast<std::uint8_t>(kp.key.rest >> 32);
    const std::uint32_t src = kp.from_lo ? lo : hi, dst = kp.from_lo ? hi : lo;
    const std::uint16_t dst_port = protocol == proto::icmp ? 0 : (kp.from_lo ? port_hi : port_lo);
    const auto first_ip = static_cast<std::uint8_t>(splitmix(src ^ cfg_->seed) % cfg_->public_ips.size());
    destinations_.prefetch(DestinationCounts::key_of(first_ip, dst, dst_port, protocol));
}

__attribute__((always_inline)) inline Verdict NatShard::handle(const Packet& p, NatPath path, const KeyedPacket& kp,
                                                               std::uint64_t h, NatRewrite& rw) {
    advance(p.ts);
    if (minutes_.leaving(p.ts)) new_minute(p.ts);
    minutes_.advance(p.ts);
    const Verdict v = path == NatPath::outbound  ? outbound(p, kp, h, rw)
                      : path == NatPath::inbound ? inbound(p, kp, h, rw)
                                                 : Verdict::drop_not_routed;
    if (v != Verdict::forward) count(NatMetric::packets_drop_count);
    minutes_.gauge(live_tcp_);
    return counted(v);
}

namespace {

// What the gateway refuses before it looks for a connection, in AWS's terms:
// only TCP, UDP and ICMP echo cross it; TCP and ICMP fragments are dropped.
Verdict admit(const Packet& p, std::uint8_t echo_type) {
    if (p.proto == proto::icmp) {
        if (icmp_type(p) != echo_type) return Verdict::drop_protocol;
    } else if (p.proto != proto::tcp && p.proto != proto::udp) {
        return Verdict::drop_protocol;
    }
    if ((p.flags & packet_flag::fragment) && p.proto != proto::udp) return Verdict::drop_fragment;
    return Verdict::forward;
}

}  // namespace

Verdict NatShard::outbound(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw) {
    count(NatMetric::packets_in_from_source);
    count(NatMetric::bytes_in_from_source, p.length);
    if (const Verdict v = admit(p, kIcmpEchoRequest); v != Verdict::forward) return v;
    if (!pps_.take(p.ts, 1) || !bits_.take(p.ts, 8.0 * p.length)) return Verdict::drop_rate_limit;

    std::size_t slot = table_.find(kp.key, h);
    if (slot != FlowTable::npos && cfg_->timeouts.expired(table_.record(slot), p.ts)) {
        close(slot, true);
        slot = FlowTable::npos;
    }
    // An ICMP error about a connection is translated with it and changes nothing of it (Linux's
    // conntrack: RELATED); one about no connection opens none.
    const bool related = (p.flags & packet_flag::icmp_error) != 0;
    if (slot == FlowTable::npos) return related ? Verdict::drop_invalid : open(p, kp, h, rw);

    FlowRecord& r = table_.record(slot);
    if (related) {
        const NatExt x = r.ext_as<NatExt>();
        rw = NatRewrite{cfg_->public_ips[x.public_ip], x.public_port, 1};
        count(NatMetric::packets_out_to_destination);
        count(NatMetric::bytes_out_to_destination, p.length);
        return Verdict::forward;
    }
    if (p.proto == proto::tcp) {
        const auto from = static_cast<TcpState>(r.state);
        const TcpState to = tcp_transition(false, tcp_flag_class(p.tcp_flags), from);
        if (to == TcpState::invalid) return Verdict::drop_invalid;
        if (to == TcpState::syn_sent && (from == TcpState::time_wait || from == TcpState::close)) {
            close(slot, false);  // a new connection on a finished one's tuple
            return open(p, kp, h, rw);
        }
        if (to != TcpState::ignore) {
            r.state = static_cast<std::uint8_t>(to);
            if (to == TcpState::established && !(r.flags & kEstablished)) {
                r.flags |= kEstablished;
                count(NatMetric::connection_established_count);
            }
        }
    }
    if (r.flags & flow_flag::seen_reply) r.flags |= flow_flag::stream;
    r.last_ts = std::max(r.last_ts, p.ts);
    if (const std::uint8_t c = timeout_class(r.proto, r.state, r.flags); c != r.timeout_class) {
        r.timeout_class = c;  // a new state may move the deadline earlier
        note_deadline(r, destination_of(r));
    }
    ++r.packets[0];
    r.bytes[0] += p.length;
    const NatExt x = r.ext_as<NatExt>();
    rw = NatRewrite{cfg_->public_ips[x.public_ip], x.public_port, 1};
    count(NatMetric::packets_out_to_destination);
    count(NatMetric::bytes_out_to_destination, p.length);
    return Verdict::forward;
}

bool NatShard::port_free(std::uint8_t ip_index, std::uint16_t port, const Packet& p) {
    Packet translated = p;
    translated.src_ip = cfg_->public_ips[ip_index];
    translated.src_port = port;
    const FlowKey k = flow_key_of(translated).key;
    const std::size_t alias = table_.find(k, table_.hash(k));
    if (alias == FlowTable::npos) return true;
    // A connection that has timed out holds its port no longer.
    const std::size_t main = main_slot_of(table_.record(alias));
    if (!cfg_->timeouts.expired(table_.record(main), p.ts)) return false;
    close(main, true);
    return true;
}

__attribute__((noinline)) Verdict NatShard::open(const Packet& p, const KeyedPacket& kp, std::uint64_t h,
                                                 NatRewrite& rw) {
    const bool tcp = p.proto == proto::tcp;
    // Only a SYN opens a TCP connection; anything else from inside without one
    // (it timed out, or never was) is answered with an RST.
    if (tcp && tcp_flag_class(p.tcp_flags) != TcpFlagClass::syn) {
        rw.what = 4;  // the packet that leaves is the RST sent back
        return Verdict::reset;
    }
    count(NatMetric::connection_attempt_count);

    // A source keeps to one public address while that address has ports toward
    // the destination; the others take over when it runs out.
    const std::size_t ips = cfg_->public_ips.size();
    const std::uint16_t dst_port = p.proto == proto::icmp ? 0 : p.dst_port;
    const std::size_t first_ip = static_cast<std::size_t>(splitmix(p.src_ip ^ cfg_->seed) % ips);
    std::uint8_t ip_index = 0;
    std::uint16_t port = 0;
    bool found = false;
    SplitMix random(port_seed_ ^ h);
    for (std::size_t j = 0; j < ips && !found; ++j) {
        ip_index = static_cast<std::uint8_t>((first_ip + j) % ips);
        const std::uint64_t destination = DestinationCounts::key_of(ip_index, p.dst_ip, dst_port, p.proto);
        if (destinations_.count(destination) >= per_destination_) {
            // At the limit: connections that have timed out give their places back first.
            if (p.ts > destinations_.earliest(destination)) reclaim(p.ts);
            if (destinations_.count(destination) >= per_destination_) continue;
        }
        found = ports_.find([&](std::uint16_t candidate) { return port_free(ip_index, candidate, p); }, random, port);
    }
    if (!found) {
        count(NatMetric::error_port_allocation);
        return Verdict::drop_no_port;
    }
    if (table_.size() + 2 > table_.capacity()) {
        reclaim(p.ts);
        if (table_.size() + 2 > table_.capacity()) return Verdict::drop_table_full;
    }

    Packet translated = p;
    translated.src_ip = cfg_->public_ips[ip_index];
    translated.src_port = port;
    const FlowKey alias_key = flow_key_of(translated).key;
    const std::size_t slot = table_.insert(kp.key, h);
    const std::size_t alias = insert_alias(table_, alias_key, slot, p.ts);

    const FlowRecord& r =
        open_record(slot, p, kp.from_lo, tcp ? static_cast<std::uint8_t>(TcpState::syn_sent) : std::uint8_t{0},
                    NatExt{static_cast<std::uint32_t>(alias), port, ip_index});

    const std::uint64_t destination = DestinationCounts::key_of(ip_index, p.dst_ip, dst_port, p.proto);
    destinations_.add(destination, cfg_->timeouts.deadline(r));
    earliest_ = std::min(earliest_, cfg_->timeouts.deadline(r));
    if (tcp) {
        ++live_tcp_;
    } else {
        count(NatMetric::connection_established_count);
    }
    rw = NatRewrite{translated.src_ip, port, 1};
    count(NatMetric::packets_out_to_destination);
    count(NatMetric::bytes_out_to_destination, p.length);
    return Verdict::forward;
}

Verdict NatShard::inbound(const Packet& p, const KeyedPacket& kp, std::uint64_t h, NatRewrite& rw) {
    count(NatMetric::packets_in_from_destination);
    count(NatMetric::bytes_in_from_destination, p.length);
    if (const Verdict v = admit(p, kIcmpEchoReply); v != Verdict::forward)
        return v == Verdict::drop_protocol && p.proto == proto::icmp ? Verdict::drop_unsolicited : v;
    if (!pps_.take(p.ts, 1) || !bits_.take(p.ts, 8.0 * p.length)) return Verdict::drop_rate_limit;

    const std::size_t alias = table_.find(kp.key, h);
    if (alias == FlowTable::npos || !is_alias(table_.record(alias))) return Verdict::drop_unsolicited;
    const std::size_t slot = main_slot_of(table_.record(alias));
    FlowRecord& r = table_.record(slot);
    if (cfg_->timeouts.expired(r, p.ts)) {
        close(slot, true);
        return Verdict::drop_unsolicited;
    }
    const std::uint8_t how = p.proto == proto::icmp ? 3 : 2;
    if (p.flags & packet_flag::icmp_error) {  // RELATED: translated, the connection left as it is
        rw = NatRewrite{orig_ip(r), orig_port(r), how};
        count(NatMetric::packets_out_to_source);
        count(NatMetric::bytes_out_to_source, p.length);
        return Verdict::forward;
    }
    if (p.proto == proto::tcp) {
        const auto from = static_cast<TcpState>(r.state);
        const TcpState to = tcp_transition(true, tcp_flag_class(p.tcp_flags), from);
        // The far side cannot open a connection through the gateway, not even
        // on the tuple of a finished one.
        if (to == TcpState::invalid || (to == TcpState::syn_sent && from != TcpState::syn_sent))
            return Verdict::drop_invalid;
        if (to != TcpState::ignore) {
            r.state = static_cast<std::uint8_t>(to);
            if (to == TcpState::established && !(r.flags & kEstablished)) {
                r.flags |= kEstablished;
                count(NatMetric::connection_established_count);
            }
        }
    }
    r.flags |= flow_flag::seen_reply;
    r.last_ts = std::max(r.last_ts, p.ts);
    if (const std::uint8_t c = timeout_class(r.proto, r.state, r.flags); c != r.timeout_class) {
        r.timeout_class = c;
        note_deadline(r, destination_of(r));
    }
    ++r.packets[1];
    r.bytes[1] += p.length;
    rw = NatRewrite{orig_ip(r), orig_port(r), how};
    count(NatMetric::packets_out_to_source);
    count(NatMetric::bytes_out_to_source, p.length);
    return Verdict::forward;
}

std::uint64_t NatShard::destination_of(const FlowRecord& r) const {
    const std::uint16_t dst_port = r.proto == proto::icmp ? 0 : other_port(r);
    return DestinationCounts::key_of(r.ext_as<NatExt>().public_ip, other_ip(r), dst_port, r.proto);
}

void NatShard::note_deadline(const FlowRecord& r, std::uint64_t destination) {
    const std::uint64_t d = cfg_->timeouts.deadline(r);
    earliest_ = std::min(earliest_, d);
    destinations_.note(destination, d);
}

void NatShard::close(std::size_t slot, bool timed_out) {
    const FlowRecord& r = table_.record(slot);
    const NatExt x = r.ext_as<NatExt>();
    destinations_.remove(destination_of(r));
    if (r.proto == proto::tcp) --live_tcp_;
    // AWS: a connection "transitions to idle if it was not closed gracefully and there was no
    // activity for the last 350 seconds"; one that closed (FIN both ways, RST) just ends.
    if (timed_out && !closed_gracefully(r))
        minutes_.add_at(static_cast<std::size_t>(NatMetric::idle_timeout_count), cfg_->timeouts.timed_out_at(r));
    table_.erase(x.alias);
    table_.erase(slot);
}

void NatShard::reclaim(std::uint64_t now) {
    if (now <= earliest_) return;
    // One pass: every timed-out connection closed, every bound rebuilt from the live ones.
    destinations_.forget_deadlines();
    earliest_ = ~std::uint64_t{0};
    for (std::size_t slot = 0; slot < table_.slots(); ++slot) {
        if (!table_.occupied(slot) || is_alias(table_.record(slot))) continue;
        const FlowRecord& r = table_.record(slot);
        if (cfg_->timeouts.expired(r, now))
            close(slot, true);
        else
            note_deadline(r, destination_of(r));
    }
}

bool NatShard::counts_active(const FlowRecord& r) { return r.proto == proto::tcp; }

void NatShard::new_minute(std::uint64_t ts) {
    // ActiveConnectionCount through the minutes without packets, then only the
    // connections alive when the new minute starts go on.
    const std::size_t m = minutes_.minute_of(ts);
    carry_gauge(minutes_, minutes_.current() + 1, m, cfg_->timeouts, counts_active);
    reclaim(minutes_.start_ns(m));
}

void NatShard::sweep(std::size_t slots) {
    sweep_timed_out(slots, cfg_->timeouts, [&](std::size_t slot) { close(slot, true); });
}

void NatShard::expire(std::uint64_t now) {
    if (minutes_.started())
        carry_gauge(minutes_, minutes_.current() + 1, minutes_.minute_of(now) + 1, cfg_->timeouts, counts_active);
    expire_timed_out(now, cfg_->timeouts, [&](std::size_t slot) { close(slot, true); });
}

void NatShard::append_rows(std::vector<NatConnection>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        const NatExt x = r.ext_as<NatExt>();
        NatConnection c{};
        c.first_ts = r.first_ts, c.last_ts = r.last_ts;
        c.bytes_out = r.bytes[0], c.bytes_in = r.bytes[1];
        c.packets_out = r.packets[0], c.packets_in = r.packets[1];
        c.private_ip = orig_ip(r), c.private_port = orig_port(r);
        c.remote_ip = other_ip(r), c.remote_port = r.proto == proto::icmp ? 0 : other_port(r);
        c.public_ip = cfg_->public_ips[x.public_ip], c.public_port = x.public_port;
        c.shard = static_cast<std::uint16_t>(index_);
        c.proto = r.proto, c.state = r.state;
        out.push_back(c);
    });
}

void NatShard::add_metrics(std::vector<NatMinute>& out) const { minutes_.add_to(out); }

void NatShard::export_rows(std::vector<StateRecord>& out) const {
    for_each_connection([&](const FlowRecord& r) {
        StateRecord s = state_of(r);
        const NatExt x = r.ext_as<NatExt>();
        s.bind_ip = cfg_->public_ips[x.public_ip], s.bind_port = x.public_port;
        out.push_back(s);
    });
}

void NatShard::prefetch_import(const StateRecord& s, const Packet& origin) const {
    Packet translated = origin;
    translated.src_ip = s.bind_ip, translated.src_port = s.bind_port;
    table_.prefetch_record(table_.hash(key_of(s)));
    table_.prefetch_record(table_.hash(flow_key_of(translated).key));
}

Imported NatShard::import_row(const StateRecord& s, const Packet& origin) {
    // The translation must be one this gateway could have made here: one of its addresses, a
    // port of this shard's slice (where the replies arrive), a source it translates.
    const auto& ips = cfg_->public_ips;
    const auto ip = std::find(ips.begin(), ips.end(), s.bind_ip);
    bool private_source = false;
    for (const Ipv4Network& net : cfg_->private_networks) private_source |= net.contains(origin.src_ip);
    if (ip == ips.end() || !ports_.owns(s.bind_port) || !private_source) return Imported::conflict;
    const auto ip_index = static_cast<std::uint8_t>(ip - ips.begin());

    const KeyedPacket kp = flow_key_of(origin);
    const std::uint64_t h = table_.hash(kp.key);
    Packet translated = origin;
    translated.src_ip = s.bind_ip, translated.src_port = s.bind_port;
    const FlowKey alias_key = flow_key_of(translated).key;
    const std::size_t held = table_.find(kp.key, h);
    const std::size_t alias_held = table_.find(alias_key, table_.hash(alias_key));
    if (held != FlowTable::npos && is_alias(table_.record(held))) return Imported::conflict;
    // The public tuple is taken, unless by the connection this row replaces.
    if (alias_held != FlowTable::npos &&
        (held == FlowTable::npos || table_.record(held).ext_as<NatExt>().alias != alias_held))
        return Imported::conflict;
    if (held != FlowTable::npos) close(held, false);
    if (table_.size() + 2 > table_.capacity()) return Imported::table_full;

    const std::size_t slot = table_.insert(kp.key, h);
    const std::size_t alias = insert_alias(table_, alias_key, slot, s.last_ts);
    FlowRecord& r = table_.record(slot);
    restore_record(r, s);
    r.set_ext(NatExt{static_cast<std::uint32_t>(alias), s.bind_port, ip_index});
    const std::uint64_t destination = destination_of(r);
    destinations_.add(destination, cfg_->timeouts.deadline(r));
    earliest_ = std::min(earliest_, cfg_->timeouts.deadline(r));
    if (r.proto == proto::tcp) ++live_tcp_;
    return held != FlowTable::npos ? Imported::replaced : Imported::added;
}

NatGateway::NatGateway(const NatConfig& cfg) : ShardedStage(cfg, kSpecRssKey) {
    if (cfg.public_ips.empty() || cfg.public_ips.size() > 255)
        throw std::invalid_argument("public_ips must hold 1 to 255 addresses");
    if (cfg.per_destination == 0) throw std::invalid_argument("per_destination must be positive");
    if (cfg.port_slices < 1 || cfg.port_slice >= cfg.port_slices || cfg.port_slices * cfg.queues > 4096)
        throw std::invalid_argument("port_slice must be (k, n) with 0 <= k < n and n * queues <= 4096");
    if ((cfg.max_pps > 0 && !(cfg.base_pps > 0 && cfg.base_pps <= cfg.max_pps)) ||
        (cfg.max_bps > 0 && !(cfg.base_bps > 0 && cfg.base_bps <= cfg.max_bps)))
        throw std::invalid_argument("a limit's base must be positive and at most its maximum");
    shards_.reserve(cfg_.queues);
    for (unsigned s = 0; s < cfg_.queues; ++s) shards_.emplace_back(s, per_shard(), cfg_);
}

NatPath NatGateway::path_of(const Packet& p, std::uint16_t& shard) const {
    for (std::uint32_t ip : cfg_.public_ips) {
        if (p.dst_ip != ip) continue;
        // The reply's destination port (ICMP: its identifier) names the shard
        // that gave it out.
        const std::uint16_t port = p.proto == proto::icmp ? p.src_port : p.dst_port;
        shard = static_cast<std::uint16_t>(PortSlice::owner(port, cfg_.queues * cfg_.port_slices) % cfg_.queues);
        return NatPath::inbound;
    }
    for (const Ipv4Network& net : cfg_.private_networks)
        if (net.contains(p.src_ip)) return NatPath::outbound;
    return NatPath::not_routed;
}

void NatGateway::process(const Packet* in, std::size_t n, Packet* out, std::uint8_t* verdicts, unsigned threads) {
    paths_.resize(n);
    NatPath* paths = paths_.data();
    run(
        in, n, threads,
        // Outbound packets go to their RSS queue's shard; replies to the shard
        // that owns their port (path_of overrides the queue for them).
        [&](std::size_t begin, std::size_t end, std::uint16_t* ids) {
            rss_assign(in, begin, end, ids);
            for (std::size_t i = begin; i < end; ++i) paths[i] = path_of(in[i], ids[i]);
        },
        [&](NatShard& shard, std::size_t i, const KeyedPacket& kp, std::uint64_t h) {
            NatOutcome o{};
            o.verdict = shard.handle(in[i], paths[i], kp, h, o.rewrite);
            return o;
        },
        [&](std::size_t i, const NatOutcome& o) {
            if (out != in) out[i] = in[i];  // copied as it is decided: one pass over the batch
            apply(out[i], o.rewrite);
            verdicts[i] = static_cast<std::uint8_t>(o.verdict);
        });
}

}  // namespace hp
