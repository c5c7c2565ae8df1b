// A connection's second key. A stage that rewrites a tuple (NAT's public
// side, the load balancer's source NAT) must find the connection again from
// the rewritten tuple: it inserts an alias record under that key, in the same
// table, holding only the slot of the connection's main record. An alias is
// never a connection of its own: sweeps and listings skip it, and it is
// erased with its connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "table/flow_table.hpp"

namespace hp {

struct AliasExt {
    std::uint64_t main;  // the slot of the connection's main record
};

inline bool is_alias(const FlowRecord& r) { return r.flags & flow_flag::alias; }
inline std::size_t main_slot_of(const FlowRecord& alias) {
    return static_cast<std::size_t>(alias.ext_as<AliasExt>().main);
}

// Inserts the alias `k` of the connection at `main` (the table has room, `k` is absent); its slot.
inline std::size_t insert_alias(FlowTable& table, const FlowKey& k, std::size_t main, std::uint64_t ts) {
    const std::size_t slot = table.insert(k, table.hash(k));
    FlowRecord& a = table.record(slot);
    a.state = 0, a.flags = flow_flag::alias, a.timeout_class = 0;
    a.first_ts = a.last_ts = ts;
    a.bytes[0] = a.bytes[1] = 0, a.packets[0] = a.packets[1] = 0;
    a.set_ext(AliasExt{main});
    return slot;
}

}  // namespace hp
