// One connection as a stage exports it (export_state) and imports it
// (import_state): the flow record's key, state, times and counts, with the
// stage's extension decoded from slots and indices into what they name (the
// public address and port a NAT connection was translated to, the target and
// source-NAT port of a load-balancer flow). Slots mean nothing in another
// table, so an import rebuilds them (aliases, per-destination counts, bounds)
// from these fields; a stage of the same configuration that imports a
// connection then decides its packets as the one that exported it would.
// 64 bytes, as a flow record: moving a million connections moves 64 MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/flow_key.hpp"
#include "core/packet.hpp"
#include "core/tcp_state.hpp"
#include "core/timeouts.hpp"
#include "table/alias.hpp"
#include "table/flow_table.hpp"

namespace hp {

struct StateRecord {
    std::uint32_t ip_lo, ip_hi;  // the key, as a flow record holds it
    std::uint16_t port_lo, port_hi;
    std::uint8_t proto, state, flags, timeout_class;
    std::uint64_t first_ts, last_ts;
    std::uint64_t bytes_orig, bytes_reply;
    std::uint32_t packets_orig, packets_reply;
    std::uint32_t bind_ip;    // NAT: the public address; NLB: the target's address; else 0
    std::uint16_t bind_port;  // NAT: the public port; NLB: the source-NAT port (0 without); else 0
    std::uint16_t target;     // NLB: the target's index; else 0
};
static_assert(sizeof(StateRecord) == 64, "a state record has no padding");

// What import_state did with its rows: each is counted once.
struct ImportCounts {
    std::uint64_t imported = 0;    // added (including those that replaced one with the same key)
    std::uint64_t replaced = 0;    // of those, how many replaced a connection the stage held
    std::uint64_t table_full = 0;  // no room: the stage's capacity, counted as its packets would be
    std::uint64_t conflict = 0;    // the binding cannot be kept here (its port, address or target)
};

enum class Imported : std::uint8_t { added, replaced, table_full, conflict };

inline void count_import(ImportCounts& c, Imported what) {
    switch (what) {
        case Imported::replaced:
            ++c.replaced;
            [[fallthrough]];
        case Imported::added:
            ++c.imported;
            break;
        case Imported::table_full:
            ++c.table_full;
            break;
        case Imported::conflict:
            ++c.conflict;
            break;
    }
}

// The flags a connection's record may carry (an alias is never exported).
inline constexpr std::uint8_t kStateFlags = flow_flag::orig_lo | flow_flag::seen_reply | flow_flag::stream | 0x10;

// A record's common fields as a state row (the stage adds its binding).
inline StateRecord state_of(const FlowRecord& r) {
    StateRecord s{};
    s.ip_lo = r.ip_lo, s.ip_hi = r.ip_hi, s.port_lo = r.port_lo, s.port_hi = r.port_hi;
    s.proto = r.proto, s.state = r.state, s.flags = r.flags, s.timeout_class = r.timeout_class;
    s.first_ts = r.first_ts, s.last_ts = r.last_ts;
    s.bytes_orig = r.bytes[0], s.bytes_reply = r.bytes[1];
    s.packets_orig = r.packets[0], s.packets_reply = r.packets[1];
    return s;
}

// The row's common fields into a record whose key is in place (the timeout class as exported:
// a stage may keep one its state alone would not give, as the load balancer keeps a flow's).
inline void restore_record(FlowRecord& r, const StateRecord& s) {
    r.state = s.state, r.flags = s.flags;
    r.timeout_class = s.timeout_class;
    r.first_ts = s.first_ts, r.last_ts = s.last_ts;
    r.bytes[0] = s.bytes_orig, r.bytes[1] = s.bytes_reply;
    r.packets[0] = s.packets_orig, r.packets[1] = s.packets_reply;
}

inline FlowKey key_of(const StateRecord& s) { return FlowKey::of(s.ip_lo, s.ip_hi, s.port_lo, s.port_hi, s.proto); }

// The connection's first direction as a packet (originator to responder): what RSS and the
// stage's own placement read to find the shard that holds it.
inline Packet origin_packet(const StateRecord& s) {
    Packet p{};
    const bool lo = s.flags & flow_flag::orig_lo;
    p.ts = s.last_ts;
    p.src_ip = lo ? s.ip_lo : s.ip_hi, p.dst_ip = lo ? s.ip_hi : s.ip_lo;
    p.src_port = lo ? s.port_lo : s.port_hi, p.dst_port = lo ? s.port_hi : s.port_lo;
    p.proto = s.proto;
    if (s.proto == proto::icmp) p.dst_port = static_cast<std::uint16_t>(kIcmpEchoRequest << 8);
    return p;
}

// Throws std::invalid_argument naming `what`[i] and its field when row i could not have been
// exported by a stage: a key not in its canonical order, unknown flags or state, times reversed.
inline void check_state_row(const StateRecord& s, std::size_t i, const char* what) {
    const auto fail = [&](const char* field, const std::string& why) {
        throw std::invalid_argument(std::string(what) + "[" + std::to_string(i) + "]: " + field + " " + why);
    };
    if (s.flags & ~kStateFlags) fail("flags", "holds bits no connection carries: " + std::to_string(s.flags));
    if (s.proto == proto::tcp ? (s.state == 0 || s.state >= kTcpStates) : s.state != 0)
        fail("state",
             "is not a state of a protocol " + std::to_string(s.proto) + " connection: " + std::to_string(s.state));
    if (s.first_ts > s.last_ts) fail("first_ts", "is after last_ts");
    if (s.timeout_class >= kTimeoutClasses)
        fail("timeout_class", "is not a timeout class: " + std::to_string(s.timeout_class));
    if (s.proto == proto::icmp && !(s.flags & flow_flag::orig_lo)) fail("flags", "an ICMP echo's requester is ip_lo");
    const KeyedPacket kp = flow_key_of(origin_packet(s));
    const FlowKey k = key_of(s);
    if (kp.key.ips != k.ips || kp.key.rest != k.rest || kp.from_lo != static_cast<bool>(s.flags & flow_flag::orig_lo))
        fail("ip_lo",
             "and the key's other fields are not a key the engine builds (lower endpoint first, "
             "ports 0 for protocols without them, an ICMP identifier in both ports)");
}

}  // namespace hp
