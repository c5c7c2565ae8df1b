"""A small pure-Python model of connection tracking, the reference the core is held to.

Unbounded (no capacity), one table, lazy expiry on lookup: for traces that never
fill the table, the core's verdicts, states and counters must match it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperplane.conntrack import TcpState, Timeouts
from hyperplane.verdict import Verdict

NO, SS, SR, ES, FW, CW, LA, TW, CL, S2 = range(10)
IV, IG = "invalid", "ignore"
# Linux's tcp_conntracks[direction][class][state]; classes: syn synack fin ack rst none.
TCP_TABLE = {
    False: [
        [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
        [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
        [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
        [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        [IV] * 10,
    ],
    True: [
        [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
        [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
        [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
        [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        [IV] * 10,
    ],
}


def flag_class(flags: int) -> int:
    if flags & 0x04:
        return 4
    if flags & 0x02:
        return 1 if flags & 0x10 else 0
    if flags & 0x01:
        return 2
    if flags & 0x10:
        return 3
    return 5


@dataclass
class Conn:
    orig: tuple[int, int]  # (ip, port) of the originator
    proto: int
    state: int
    last_ts: int
    first_ts: int
    seen_reply: bool = False
    stream: bool = False
    packets: list[int] = field(default_factory=lambda: [0, 0])


@dataclass
class Model:
    timeouts: Timeouts
    loose: bool = True
    conns: dict[tuple[object, ...], Conn] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def timeout_ns(self, c: Conn) -> int:
        t = self.timeouts.as_ns()
        if c.proto == 6:
            return int(t[c.state])
        if c.proto == 17:
            return int(t[11] if c.stream else t[10])
        return int(t[12] if c.proto == 1 else t[13])

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def packet(self, ts: int, src: int, dst: int, sport: int, dport: int, proto: int, flags: int) -> Verdict:
        if proto == 1:
            icmp_type = dport >> 8
            if icmp_type not in (0, 8):
                self.count("untracked")
                return Verdict.FORWARD
            dport = sport
        elif proto not in (6, 17):
            sport = dport = 0
        a, b = (src, sport), (dst, dport)
        # ICMP echo: the requester first (a ping each way is two connections); else the lower endpoint.
        key = ((b, a) if icmp_type == 0 else (a, b)) + (proto,) if proto == 1 else (min(a, b), max(a, b), proto)
        c = self.conns.get(key)
        if c is not None and ts >= c.last_ts and ts - c.last_ts >= self.timeout_ns(c):  # idle for it or more
            del self.conns[key]
            self.count("expired")
            c = None
        if c is None:
            if proto == 6:
                cls = flag_class(flags)
                if cls == 0:
                    return self.create(key, a, proto, SS, ts)
                if cls == 3 and self.loose:
                    return self.create(key, a, proto, ES, ts)
                return Verdict.DROP_INVALID
            if proto == 1 and icmp_type == 0:
                return Verdict.DROP_INVALID
            return self.create(key, a, proto, 0, ts)
        reply = a != c.orig
        if proto == 6:
            cls = flag_class(flags)
            to = TCP_TABLE[reply][cls][c.state]
            if to == IV:
                return Verdict.DROP_INVALID
            if to == IG:
                self.count("ignored")
                return Verdict.FORWARD
            if to == SS and c.state in (TW, CL):
                del self.conns[key]
                self.count("reopened")
                return self.create(key, a, proto, SS, ts)
            c.state = int(to)
        if reply:
            c.seen_reply = True
        elif c.seen_reply:
            c.stream = True
        c.last_ts = max(c.last_ts, ts)
        c.packets[reply] += 1
        self.count("tracked")
        return Verdict.FORWARD

    def create(self, key: tuple[object, ...], orig: tuple[int, int], proto: int, state: int, ts: int) -> Verdict:
        self.conns[key] = Conn(orig=orig, proto=proto, state=state, last_ts=ts, first_ts=ts, packets=[1, 0])
        self.count("created")
        return Verdict.FORWARD

    def flows(self) -> set[tuple[object, ...]]:
        return {
            (c.orig, k[0] if k[0] != c.orig else k[1], c.proto, TcpState(c.state) if c.proto == 6 else 0,
             c.seen_reply, c.stream, tuple(c.packets), c.first_ts, c.last_ts)
            for k, c in self.conns.items()
        }
