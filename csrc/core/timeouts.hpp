// How long an idle connection lives, by what it is: TCP by state, UDP by
// whether it became a stream, ICMP echo, and every other protocol.
#pragma once

#include <array>
#include <cstdint>

#include "table/flow_table.hpp"
#include "core/packet.hpp"
#include "core/tcp_state.hpp"

namespace hp {

// Index 1..9 are TcpState values; 0 is unused (no record is in state none).
enum class TimeoutClass : std::uint8_t { udp = 10, udp_stream = 11, icmp = 12, other = 13 };
inline constexpr std::size_t kTimeoutClasses = 14;

// The class a record's state and flags put it in.
inline std::uint8_t timeout_class(std::uint8_t proto, std::uint8_t state, std::uint8_t flags) {
    switch (proto) {
        case proto::tcp:
            return state;
        case proto::udp:
            return static_cast<std::uint8_t>((flags & flow_flag::stream) ? TimeoutClass::udp_stream
                                                                         : TimeoutClass::udp);
        case proto::icmp:
            return static_cast<std::uint8_t>(TimeoutClass::icmp);
        default:
            return static_cast<std::uint8_t>(TimeoutClass::other);
    }
}

struct Timeouts {
    std::array<std::uint64_t, kTimeoutClasses> ns{};

    // The last instant the connection is alive: idle for its timeout or more, it
    // has timed out (AWS: a NAT gateway connection "idle for 350 seconds or more
    // times out"; Linux's nf_ct_is_expired() likewise once the timeout is
    // reached). It has expired at any later time.
    std::uint64_t deadline(const FlowRecord& r) const {
        const std::uint64_t t = ns[r.timeout_class];
        if (t == 0) return r.last_ts == 0 ? 0 : r.last_ts - 1;
        return r.last_ts > ~std::uint64_t{0} - t ? ~std::uint64_t{0} : r.last_ts + (t - 1);
    }
    // The instant it times out: its timeout after its last packet.
    std::uint64_t timed_out_at(const FlowRecord& r) const {
        const std::uint64_t d = deadline(r);
        return d == ~std::uint64_t{0} ? d : d + 1;
    }
    bool expired(const FlowRecord& r, std::uint64_t now) const { return now > deadline(r); }
};

}  // namespace hp
