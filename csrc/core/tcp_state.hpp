// TCP connection states and transitions, as Linux's conntrack defines them
// (net/netfilter/nf_conntrack_proto_tcp.c): the state seen from the middle of
// the path, not either endpoint's own state.
#pragma once

#include <cstdint>

namespace hp {

enum class TcpState : std::uint8_t {
    none = 0,
    syn_sent = 1,
    syn_recv = 2,
    established = 3,
    fin_wait = 4,
    close_wait = 5,
    last_ack = 6,
    time_wait = 7,
    close = 8,
    syn_sent2 = 9,  // simultaneous open
    // Not states: what the transition table says about a packet.
    invalid = 10,
    ignore = 11,
};

inline constexpr unsigned kTcpStates = 10;

enum class TcpFlagClass : std::uint8_t { syn, synack, fin, ack, rst, none };

inline TcpFlagClass tcp_flag_class(std::uint8_t flags) {
    constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10;
    if (flags & rst) return TcpFlagClass::rst;
    if (flags & syn) return (flags & ack) ? TcpFlagClass::synack : TcpFlagClass::syn;
    if (flags & fin) return TcpFlagClass::fin;
    if (flags & ack) return TcpFlagClass::ack;
    return TcpFlagClass::none;
}

namespace tcp_detail {

inline constexpr TcpState sNO = TcpState::none, sSS = TcpState::syn_sent, sSR = TcpState::syn_recv,
                          sES = TcpState::established, sFW = TcpState::fin_wait, sCW = TcpState::close_wait,
                          sLA = TcpState::last_ack, sTW = TcpState::time_wait, sCL = TcpState::close,
                          sS2 = TcpState::syn_sent2, sIV = TcpState::invalid, sIG = TcpState::ignore;

// [direction][packet class][state], columns sNO sSS sSR sES sFW sCW sLA sTW sCL sS2.
// Linux's table; docs/conntrack.md explains each row.
inline constexpr TcpState kTransitions[2][6][kTcpStates] = {
    {
        // original direction
        /* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
        /* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
        // reply direction
        /* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
        /* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

}  // namespace tcp_detail

// The next state for a packet of class `cls` travelling in direction `reply`
// (false: the direction of the connection's first packet) in state `from`.
inline TcpState tcp_transition(bool reply, TcpFlagClass cls, TcpState from) {
    return tcp_detail::kTransitions[reply ? 1 : 0][static_cast<unsigned>(cls)][static_cast<unsigned>(from)];
}

}  // namespace hp
