"""Connection tracking: life cycles as packet tables, timeouts, a full table, threads, a model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane.conntrack import FLOW_RECORD_BYTES, ConnTrack, TcpState, Timeouts
from hyperplane.verdict import Verdict

from .checks import assert_conserved
from .conntrack_model import Model

S = 1_000_000_000  # ns per second
A, B = hp.ip("10.0.0.1"), hp.ip("198.51.100.7")
SYN, SYNACK, ACK, FIN, FINACK, RST, PSHACK = 0x02, 0x12, 0x10, 0x01, 0x11, 0x04, 0x18
OUT, IN = "out", "in"  # A:40000 -> B:80, and back
F, INV = Verdict.FORWARD, Verdict.DROP_INVALID


def batch(rows: Sequence[tuple[float, str, int, int]], proto: int = 6) -> np.ndarray:
    """Rows of (time s, direction, tcp flags, length) between A:40000 and B:80."""
    pkts = hp.empty(len(rows))
    for i, (t, direction, flags, length) in enumerate(rows):
        src, dst, sport, dport = (A, B, 40000, 80) if direction == OUT else (B, A, 80, 40000)
        pkts[i] = (round(t * S), src, dst, sport, dport, length, proto, flags, 0, 0, 0, 0)
    return pkts


def conserved(ct: ConnTrack, verdicts: np.ndarray) -> None:
    assert_conserved(ct.counters, verdicts)


def run(rows: Sequence[tuple[float, str, int, int]], proto: int = 6, **kwargs: object) -> tuple[ConnTrack, np.ndarray]:
    ct = ConnTrack(1000, seed=1, **kwargs)  # type: ignore[arg-type]
    res = ct.process(batch(rows, proto))
    conserved(ct, res.verdict)
    return ct, res.verdict


LIFECYCLES = [
    (
        "handshake, data, orderly close",
        [(0, OUT, SYN, 60), (0.001, IN, SYNACK, 60), (0.002, OUT, ACK, 40), (0.003, OUT, PSHACK, 500),
         (0.004, IN, ACK, 40), (0.005, OUT, FINACK, 40), (0.006, IN, FINACK, 40), (0.007, OUT, ACK, 40)],
        [F] * 8,
        TcpState.TIME_WAIT,
    ),
    ("SYN only", [(0, OUT, SYN, 60)], [F], TcpState.SYN_SENT),
    ("SYN then SYN|ACK", [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60)], [F, F], TcpState.SYN_RECV),
    ("handshake", [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40)], [F, F, F], TcpState.ESTABLISHED),
    ("reset by the server", [(0, OUT, SYN, 60), (0.1, IN, RST, 40)], [F, F], TcpState.CLOSE),
    ("ACK before any SYN|ACK is invalid", [(0, OUT, SYN, 60), (0.1, OUT, ACK, 40)], [F, INV], TcpState.SYN_SENT),
    ("SYN|ACK from the client is invalid", [(0, OUT, SYN, 60), (0.1, OUT, SYNACK, 60)], [F, INV], TcpState.SYN_SENT),
    ("bare ACK picked up mid-stream (loose)", [(0, OUT, ACK, 40), (0.1, IN, ACK, 40)], [F, F], TcpState.ESTABLISHED),
    ("SYN|ACK with no connection", [(0, IN, SYNACK, 60)], [INV], None),
    ("RST with no connection", [(0, OUT, RST, 40)], [INV], None),
    ("FIN with no connection", [(0, OUT, FIN, 40)], [INV], None),
    ("server closes first",
     [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40), (0.3, IN, FINACK, 40), (0.4, OUT, ACK, 40)],
     [F] * 5, TcpState.CLOSE_WAIT),
    ("both FINs, no last ACK",
     [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40), (0.3, OUT, FINACK, 40), (0.4, IN, FINACK, 40)],
     [F] * 5, TcpState.LAST_ACK),
    ("retransmitted SYN|ACK is ignored",
     [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40), (0.3, IN, SYNACK, 60)],
     [F] * 4, TcpState.ESTABLISHED),
    ("simultaneous open", [(0, OUT, SYN, 60), (0.1, IN, SYN, 60)], [F, F], TcpState.SYN_SENT2),
]


@pytest.mark.parametrize("description,rows,verdicts,state", LIFECYCLES, ids=[c[0] for c in LIFECYCLES])
def test_tcp_lifecycle(description: str, rows: list[tuple[float, str, int, int]], verdicts: list[Verdict],
                       state: TcpState | None) -> None:
    ct, got = run(rows)
    assert list(got) == verdicts
    flows = ct.flows()
    if state is None:
        assert len(flows) == 0
        return
    assert len(flows) == 1
    f = flows[0]
    assert TcpState(f["state"]) == state
    assert (f["orig_src_ip"], f["orig_src_port"], f["orig_dst_ip"], f["orig_dst_port"]) == (
        (A, 40000, B, 80) if rows[0][1] == OUT else (B, 80, A, 40000))
    assert (f["reply_src_ip"], f["reply_dst_ip"]) == (f["orig_dst_ip"], f["orig_src_ip"])
    # Accounted: every forwarded packet but those the state machine ignored (as Linux does).
    forwarded = [r for r, v in zip(rows, verdicts) if v == F]
    assert f["packets_orig"] + f["packets_reply"] == len(forwarded) - ct.counters["ignored"]
    if not ct.counters["ignored"]:
        orig_dir = rows[0][1]
        assert f["packets_orig"] == sum(1 for r in forwarded if r[1] == orig_dir)
        assert f["bytes_reply"] == sum(r[3] for r in forwarded if r[1] != orig_dir)


def test_strict_mode_drops_bare_ack() -> None:
    ct, got = run([(0, OUT, ACK, 40), (0.1, OUT, SYN, 60)], loose=False)
    assert list(got) == [INV, F] and ct.counters["invalid"] == 1


def test_reopen_after_time_wait() -> None:
    rows = [(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40), (0.3, OUT, FINACK, 40),
            (0.4, IN, FINACK, 40), (0.5, OUT, ACK, 40), (1.0, OUT, SYN, 60)]
    ct, got = run(rows)
    assert list(got) == [F] * 7
    assert ct.counters["reopened"] == 1 and ct.counters["created"] == 2
    (f,) = ct.flows()
    assert TcpState(f["state"]) == TcpState.SYN_SENT and f["first_ts"] == 1 * S and f["packets_orig"] == 1


@pytest.mark.parametrize(
    "timeouts,rows,proto,created,expired",
    [
        # UDP one way: alive 1 ns before 30 s idle; at exactly 30 s it has timed out, as Linux's
        # nf_ct_is_expired() has it (the timeout reached) and AWS words it ("idle for ... or more").
        (Timeouts.linux(), [(0, OUT, 0, 100), (29.999999999, OUT, 0, 100)], 17, 1, 0),
        (Timeouts.linux(), [(0, OUT, 0, 100), (30, OUT, 0, 100)], 17, 2, 1),
        # A stream (reply, then the originator again) lives 120 s on Linux, 180 s under AWS.
        (Timeouts.linux(), [(0, OUT, 0, 100), (1, IN, 0, 100), (2, OUT, 0, 100), (122.5, OUT, 0, 100)], 17, 2, 1),
        (Timeouts.aws_sg(), [(0, OUT, 0, 100), (1, IN, 0, 100), (2, OUT, 0, 100), (122.5, OUT, 0, 100)], 17, 1, 0),
        # One request and its reply is not a stream: still 30 s.
        (Timeouts.aws_sg(), [(0, OUT, 0, 100), (1, IN, 0, 100), (31.5, OUT, 0, 100)], 17, 2, 1),
        # TCP: SYN_SENT lives 120 s; a closed (RST) connection 10 s.
        (Timeouts.linux(), [(0, OUT, SYN, 60), (119.999999999, OUT, SYN, 60)], 6, 1, 0),
        (Timeouts.linux(), [(0, OUT, SYN, 60), (120, OUT, SYN, 60)], 6, 2, 1),
        (Timeouts.linux(), [(0, OUT, SYN, 60), (120.5, OUT, SYN, 60)], 6, 2, 1),
        (Timeouts.linux(), [(0, OUT, SYN, 60), (1, IN, RST, 40), (11.5, OUT, SYN, 60)], 6, 2, 1),
        # Other protocols (GRE, 47): 600 s by address pair.
        (Timeouts.linux(), [(0, OUT, 0, 100), (599.5, IN, 0, 100), (1200.5, OUT, 0, 100)], 47, 2, 1),
        (Timeouts.linux().replace(other=5), [(0, OUT, 0, 100), (5.5, OUT, 0, 100)], 47, 2, 1),
    ],
)
def test_timeouts_at_the_boundary(timeouts: Timeouts, rows: list[tuple[float, str, int, int]], proto: int,
                                  created: int, expired: int) -> None:
    ct, got = run(rows, proto=proto, timeouts=timeouts)
    assert (got == F).all()
    assert (ct.counters["created"], ct.counters["expired"]) == (created, expired)


def test_expire_sweeps_by_packet_time() -> None:
    ct, _ = run([(0, OUT, 0, 100)], proto=17)
    ct.expire(30 * S - 1)
    assert len(ct) == 1
    ct.expire(30 * S)
    assert len(ct) == 0 and ct.counters["expired"] == 1


def icmp(rows: list[tuple[float, str, int]]) -> np.ndarray:
    """(time, direction, ICMP type) for echo identifier 7 between A and B."""
    pkts = hp.empty(len(rows))
    for i, (t, direction, icmp_type) in enumerate(rows):
        src, dst = (A, B) if direction == OUT else (B, A)
        pkts[i] = (round(t * S), src, dst, 7, icmp_type << 8, 84, 1, 0, 0, 0, 0, 0)
    return pkts


def test_icmp_echo() -> None:
    ct = ConnTrack(100, seed=1)
    got = ct.process(icmp([(0, OUT, 8), (0.1, IN, 0), (0.2, IN, 0), (0.3, OUT, 3), (0.4, IN, 8)])).verdict
    assert list(got) == [F, F, F, F, F]
    c = ct.counters
    assert (c["created"], c["tracked"], c["untracked"]) == (2, 2, 1)
    other = ConnTrack(100, seed=1)
    assert list(other.process(icmp([(0, IN, 0)])).verdict) == [INV]  # a reply nobody asked for
    conserved(other, np.array([INV], dtype=np.uint8))


def test_tracked_only_continues_connections_but_opens_none() -> None:
    """PacketFlag.TRACKED_ONLY (a security group's refusal): a packet may continue a tracked
    connection, in either direction, and never opens one (DROP_UNSOLICITED, nothing created)."""
    pkts = batch([(0, OUT, SYN, 60), (0.1, IN, SYNACK, 60), (0.2, OUT, ACK, 40)])
    pkts["flags"][[1, 2]] = int(hp.PacketFlag.TRACKED_ONLY)
    lone = batch([(0.3, IN, SYN, 60), (0.4, IN, ACK, 40)])
    lone["flags"] = int(hp.PacketFlag.TRACKED_ONLY)
    lone["src_port"] = [81, 82]
    ct = ConnTrack(100, seed=1)
    v = ct.process(np.concatenate([pkts, lone])).verdict
    assert list(v) == [F, F, F, Verdict.DROP_UNSOLICITED, Verdict.DROP_UNSOLICITED]
    assert len(ct.flows()) == 1
    ping = icmp([(0.3, IN, 3)])
    ping["flags"] = int(hp.PacketFlag.TRACKED_ONLY)
    assert list(ct.process(ping).verdict) == [Verdict.DROP_UNSOLICITED]  # untracked ICMP is refused too


def syns(n: int, start: int = 0, t0: float = 0.0) -> np.ndarray:
    pkts = hp.empty(n)
    pkts["ts"] = round(t0 * S) + np.arange(n)
    pkts["src_ip"] = hp.ip("10.1.0.0") + start + np.arange(n)
    pkts["dst_ip"] = B
    pkts["src_port"], pkts["dst_port"] = 40000, 80
    pkts["proto"], pkts["tcp_flags"], pkts["length"] = 6, SYN, 60
    return pkts


def test_table_full_at_exactly_capacity() -> None:
    ct = ConnTrack(100, seed=3)
    got = ct.process(syns(150)).verdict
    assert (got[:100] == F).all() and (got[100:] == Verdict.DROP_TABLE_FULL).all()
    assert ct.counters["table_full"] == 50 and len(ct) == 100
    conserved(ct, got)


def test_early_drop_evicts_unconfirmed_only() -> None:
    ct = ConnTrack(100, seed=3, early_drop=True)
    got = ct.process(syns(150)).verdict
    assert (got == F).all() and ct.counters["early_drop"] == 50 and len(ct) == 100
    # Established connections are never evicted for a flood.
    est = ConnTrack(100, seed=3, early_drop=True)
    hs = syns(100)
    replies = hs.copy()
    replies["src_ip"], replies["dst_ip"] = hs["dst_ip"], hs["src_ip"]
    replies["src_port"], replies["dst_port"], replies["tcp_flags"] = 80, 40000, SYNACK
    acks = hs.copy()
    acks["tcp_flags"] = ACK
    est.process(np.concatenate([hs, replies, acks]))
    flood = est.process(syns(20, start=1000, t0=1)).verdict
    assert (flood == Verdict.DROP_TABLE_FULL).all() and est.counters["early_drop"] == 0


def test_expired_connections_make_room() -> None:
    ct = ConnTrack(100, seed=3, timeouts=Timeouts.linux().replace(tcp_syn_sent=1))
    ct.process(syns(100))
    later = ct.process(syns(100, start=500, t0=5)).verdict
    assert (later == F).all() and ct.counters["expired"] >= 100 - len(later) and len(ct) <= 100


@pytest.mark.parametrize("queues", [1, 3, 8])
def test_results_do_not_depend_on_threads(queues: int) -> None:
    trace = hp.traffic.merge(
        hp.traffic.synthetic(flows=2000, packets=30_000, seed=11),
        hp.traffic.syn_flood(3000, seed=12, target="198.19.0.9"),
    )
    results = []
    for threads in (1, 2, 4):
        ct = ConnTrack(4000, queues=queues, seed=5, threads=threads, early_drop=True)
        first = ct.process(trace[:10_000]).verdict
        second = ct.process(trace[10_000:]).verdict
        flows = np.sort(ct.flows(), order=["shard", "orig_src_ip", "orig_src_port", "orig_dst_ip", "orig_dst_port"])
        results.append((np.concatenate([first, second]), flows, ct.counters))
        conserved(ct, results[-1][0])
    for other in results[1:]:
        np.testing.assert_array_equal(other[0], results[0][0])
        np.testing.assert_array_equal(other[1], results[0][1])
        assert other[2] == results[0][2]


def test_chunks_equal_one_call() -> None:
    trace = hp.traffic.synthetic(flows=500, packets=8000, seed=2)
    whole = ConnTrack(1000, queues=4, seed=9)
    v_whole = whole.process(trace).verdict
    parts = ConnTrack(1000, queues=4, seed=9)
    v_parts = np.concatenate([parts.process(c).verdict for c in np.array_split(trace, 7)])
    np.testing.assert_array_equal(v_whole, v_parts)
    assert whole.counters == parts.counters


def test_both_directions_share_a_shard() -> None:
    trace = hp.traffic.synthetic(flows=3000, packets=20_000, seed=4)
    ct = ConnTrack(10_000, queues=8, seed=1)
    ct.process(trace)
    assert len(ct) == 3000  # one record per flow: replies found the originator's shard
    shards = ct.shard_of(trace)
    assert len(np.unique(shards)) == 8


def test_keyed_hash_spreads_crafted_collisions() -> None:
    """Flows crowded into a few groups under one key are spread under another."""
    trace = hp.traffic.syn_flood(20_000, seed=8)
    a = ConnTrack(40_000, seed=1)
    a.process(trace)
    b = ConnTrack(40_000, seed=2)
    b.process(trace)
    # The shard/slot layout differs with the key, the tracked content does not.
    fa, fb = a.flows(), b.flows()
    assert not np.array_equal(fa["orig_src_ip"], fb["orig_src_ip"])
    assert np.array_equal(np.sort(fa["orig_src_ip"]), np.sort(fb["orig_src_ip"]))


def test_record_size_and_memory() -> None:
    assert FLOW_RECORD_BYTES == 64
    ct = ConnTrack(1_000_000, queues=4, seed=1)
    assert 64 * 1_000_000 < ct.memory_bytes < 1.35 * 65 * 1_000_000


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"capacity": 0}, ValueError, "capacity"),
        ({"capacity": 10, "queues": 0}, ValueError, "queues"),
        ({"capacity": 10, "queues": 129}, ValueError, "queues"),
        ({"capacity": 10, "timeouts": {"udp": 3}}, TypeError, "timeouts"),
        ({"capacity": 10, "threads": 0}, ValueError, "threads"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        ConnTrack(**kwargs)  # type: ignore[arg-type]


def test_bad_timeouts() -> None:
    with pytest.raises(ValueError, match="udp"):
        Timeouts.linux().replace(udp=-1)
    with pytest.raises(ValueError, match="unknown timeouts"):
        Timeouts.linux().replace(udp_forever=1)


def test_bad_arrays() -> None:
    ct = ConnTrack(10)
    with pytest.raises(TypeError, match="batch"):
        ct.process(np.zeros(3, dtype=np.uint32))
    with pytest.raises(ValueError, match="batch must be C-contiguous"):
        ct.process(hp.empty(6)[::2])
    with pytest.raises(TypeError, match="verdict_out"):
        ct.process(hp.empty(3), verdict_out=np.zeros(3, dtype=np.int32))  # type: ignore[arg-type]
    readonly = np.zeros(3, dtype=np.uint8)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="verdict_out is read-only"):
        ct.process(hp.empty(3), verdict_out=readonly)
    with pytest.raises(TypeError, match="out must have dtype hyperplane.PACKET_DTYPE"):
        ct.process(hp.empty(3), out=np.zeros(3, dtype=np.uint8))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="now_ns"):
        ct.expire(-1)


# A packet the model and the core both take: a small address space so flows meet.
packet_rows = st.tuples(
    st.integers(0, 3),            # client
    st.integers(0, 1),            # server
    st.sampled_from([6, 6, 6, 17, 1, 47]),
    st.sampled_from([SYN, SYNACK, ACK, FIN, FINACK, RST, PSHACK, 0]),
    st.booleans(),                # reply direction
    st.integers(0, 40_000),       # ms since the previous packet
    st.sampled_from([0, 8, 3]),   # ICMP type
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(packet_rows, max_size=60), queues=st.sampled_from([1, 4]), loose=st.booleans())
def test_matches_reference_model(rows: list[tuple[int, int, int, int, bool, int, int]], queues: int,
                                 loose: bool) -> None:
    timeouts = Timeouts.linux().replace(tcp_syn_sent=20, tcp_established=90, tcp_close=5, tcp_time_wait=30,
                                        udp=10, udp_stream=40, icmp=15, other=25)
    pkts = hp.empty(len(rows))
    ts = 0
    for i, (client, server, proto, flags, reply, gap_ms, icmp_type) in enumerate(rows):
        ts += gap_ms * 1_000_000
        c, s = (hp.ip("10.0.0.1") + client, 1000 + client), (hp.ip("198.51.100.1") + server, 80)
        (src, sport), (dst, dport) = (s, c) if reply else (c, s)
        if proto == 1:
            sport, dport = 7 + client, icmp_type << 8
        pkts[i] = (ts, src, dst, sport, dport, 100, proto, flags if proto == 6 else 0, 0, 0, 0, 0)
    model = Model(timeouts, loose=loose)
    expected = [model.packet(int(p["ts"]), int(p["src_ip"]), int(p["dst_ip"]), int(p["src_port"]),
                             int(p["dst_port"]), int(p["proto"]), int(p["tcp_flags"])) for p in pkts]
    ct = ConnTrack(1000, queues=queues, timeouts=timeouts, loose=loose, seed=1, threads=2)
    got = ct.process(pkts).verdict
    assert list(got) == expected
    conserved(ct, got)
    for name, value in model.counters.items():
        if name != "expired":  # the core also sweeps in the background
            assert ct.counters[name] == value, name
    # Compare what is live at the end: the core may have swept some the model still holds.
    ct.expire(ts)
    model_live = {k: c for k, c in model.conns.items() if not (ts > c.last_ts and ts - c.last_ts > model.timeout_ns(c))}
    model.conns = model_live
    got_flows = {
        ((int(f["orig_src_ip"]), int(f["orig_src_port"])), (int(f["orig_dst_ip"]), int(f["orig_dst_port"])),
         int(f["proto"]), TcpState(f["state"]) if f["proto"] == 6 else 0, bool(f["replied"]), bool(f["stream"]),
         (int(f["packets_orig"]), int(f["packets_reply"])), int(f["first_ts"]), int(f["last_ts"]))
        for f in ct.flows()
    }
    assert got_flows == model.flows()
