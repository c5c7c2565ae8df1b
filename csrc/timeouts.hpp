// How long an idle connection lives, by what it is: TCP by state, UDP by
// whether it became a stream, ICMP echo, and every other protocol.
#pragma once

#include <array>
#include <cstdint>

#include "flow_table.hpp"
#include "packet.hpp"
#include "tcp_state.hpp"

namespace hp {

// Index 1..9 are TcpState values; 0 is unused (no record is in state none).
enum class TimeoutClass : std::uint8_t { udp = 10, udp_stream = 11, icmp = 12, other = 13 };
inline constexpr std::size_t kTimeoutClasses = 14;

struct Timeouts {
    std::array<std::uint64_t, kTimeoutClasses> ns{};

    std::uint64_t of(const FlowRecord& r) const {
        switch (r.proto) {
            case proto::tcp: return ns[r.state];
            case proto::udp:
                return ns[static_cast<unsigned>((r.flags & flow_flag::stream) ? TimeoutClass::udp_stream
                                                                             : TimeoutClass::udp)];
            case proto::icmp: return ns[static_cast<unsigned>(TimeoutClass::icmp)];
            default: return ns[static_cast<unsigned>(TimeoutClass::other)];
        }
    }
    // The last instant the connection is alive; it has expired at any later time.
    std::uint64_t deadline(const FlowRecord& r) const {
        const std::uint64_t t = of(r);
        return r.last_ts > ~std::uint64_t{0} - t ? ~std::uint64_t{0} : r.last_ts + t;
    }
    bool expired(const FlowRecord& r, std::uint64_t now) const { return now > deadline(r); }
};

}  // namespace hp
