#include "tcp_state.hpp"

namespace hp {
namespace {

constexpr TcpState sNO = TcpState::none, sSS = TcpState::syn_sent, sSR = TcpState::syn_recv,
                   sES = TcpState::established, sFW = TcpState::fin_wait, sCW = TcpState::close_wait,
                   sLA = TcpState::last_ack, sTW = TcpState::time_wait, sCL = TcpState::close,
                   sS2 = TcpState::syn_sent2, sIV = TcpState::invalid, sIG = TcpState::ignore;

// [direction][packet class][state], columns sNO sSS sSR sES sFW sCW sLA sTW sCL sS2.
// Linux's table; docs/conntrack.md explains each row.
constexpr TcpState kTransitions[2][6][kTcpStates] = {
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

}  // namespace

TcpState tcp_transition(bool reply, TcpFlagClass cls, TcpState from) {
    return kTransitions[reply ? 1 : 0][static_cast<unsigned>(cls)][static_cast<unsigned>(from)];
}

}  // namespace hp
