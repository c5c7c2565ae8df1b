"""Moving connections between stages: export_state() / import_state(), pickling and copies.

The property is the one the fleet's failover rests on (docs/fleet.md): a stage that imports
another's connections at some point of a trace decides the rest of the trace exactly as the
exporting stage does, packet for packet (verdicts and rewritten packets), for NAT, the load
balancer and conntrack. Traces are drawn by hypothesis; replies answer what the gateway sent, so
they reach the connections whose translations moved."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.stage import STATE_DTYPE, ShardedStage
from hyperplane.verdict import Verdict

S = 1_000_000_000
TCP, UDP, ICMP = 6, 17, 1
SYN, SYNACK, ACK, FINACK, RST = 0x02, 0x12, 0x10, 0x11, 0x04
CLIENTS = [hp.ip(f"10.0.0.{k}") for k in range(1, 5)]
SERVERS = [hp.ip("198.51.100.7"), hp.ip("198.51.100.8")]
NODE = "192.0.2.10"

# One outbound packet: (gap in ms, client, client port index, server, proto, tcp flags).
outbound = st.tuples(st.sampled_from([0, 1, 50, 1000, 200_000, 400_000]), st.integers(0, 3), st.integers(0, 3),
                     st.integers(0, 1), st.sampled_from([TCP, TCP, UDP, ICMP]),
                     st.sampled_from([SYN, SYN, ACK, FINACK, RST]))
chunks = st.lists(st.tuples(st.lists(outbound, min_size=1, max_size=12), st.lists(st.booleans(), max_size=12)),
                  min_size=2, max_size=6)


def make_batch(rows: list[tuple[int, int, int, int, int, int, int]]) -> np.ndarray:
    """(ts ns, src, sport, dst, dport, proto, flags) rows, sorted by time."""
    out = hp.empty(len(rows))
    for i, (ts, src, sport, dst, dport, proto, flags) in enumerate(sorted(rows, key=lambda r: r[0])):
        out[i] = (ts, src, dst, sport, dport, 100, proto, flags, 0, 0, 0, 1000 + i)
    return out


def client_rows(spec: list[tuple[int, int, int, int, int, int]], t: int, dst_ip: int | None = None,
                dst_port: int | None = None) -> tuple[list[tuple[int, int, int, int, int, int, int]], int]:
    rows = []
    for gap, c, p, s, proto, flags in spec:
        t += gap * 1_000_000
        dport = (8 << 8) if proto == ICMP else (dst_port if dst_port is not None else 443)
        rows.append((t, CLIENTS[c], 40000 + p, SERVERS[s] if dst_ip is None else dst_ip, dport, proto,
                     flags if proto == TCP else 0))
    return rows, t


def replies(sent: np.ndarray, verdict: np.ndarray, which: list[bool], t: int) -> list[tuple[int, ...]]:
    """The far side answering some of the forwarded packets (an ICMP echo reply keeps the identifier)."""
    rows: list[tuple[int, ...]] = []
    for k, (p, v) in enumerate(zip(sent, verdict)):
        if k < len(which) and which[k] and v == Verdict.FORWARD:
            icmp = int(p["proto"]) == ICMP
            flags = {SYN: SYNACK}.get(int(p["tcp_flags"]), ACK) if int(p["proto"]) == TCP else 0
            rows.append((t + k + 1, int(p["dst_ip"]), 0 if icmp else int(p["dst_port"]), int(p["src_ip"]),
                         int(p["src_port"]), int(p["proto"]), flags))
    return rows


def run_split(make: Callable[[], ShardedStage[Any]], trace: list[Any], split: int, how: str,
              answer: bool, **dst: int) -> None:
    """Runs `trace` on one stage throughout and, from chunk `split` on, on a second that took the
    first's state there (`how`: import into a fresh stage, pickle, deepcopy); both must agree."""
    a = make()
    b: ShardedStage[Any] | None = None
    t = 0
    last: tuple[np.ndarray, np.ndarray] | None = None
    for j, (spec, which) in enumerate(trace):
        if j == split:
            if how == "import":
                b = make()
                state = a.export_state()
                assert state.dtype == STATE_DTYPE and len(state) == len(a)
                result = b.import_state(state)
                assert result.imported == len(state) and result.table_full == result.conflict == 0
            else:
                b = pickle.loads(pickle.dumps(a)) if how == "pickle" else copy.deepcopy(a)
                assert b.counters == a.counters
            assert len(b) == len(a)
            np.testing.assert_array_equal(np.sort(b.export_state()), np.sort(a.export_state()))
        rows, t = client_rows(spec, t, **dst)
        if answer and last is not None:
            rows += replies(last[0], last[1], which, t)
        t += 10 * 1_000_000
        batch = make_batch(rows)
        pa, va = a.process(batch)[:2]
        if b is not None:
            pb, vb = b.process(batch)[:2]
            np.testing.assert_array_equal(vb, va)
            np.testing.assert_array_equal(pb, pa)
        last = (pa, va)
    assert b is not None
    if how != "import":
        assert b.counters == a.counters
        if hasattr(a, "metrics"):
            for name, series in a.metrics.items():
                np.testing.assert_array_equal(b.metrics[name], series)


def nat() -> NatGateway:
    return NatGateway(["203.0.113.10", "203.0.113.11"], ["10.0.0.0/16"], queues=3, threads=2, limits=False, seed=7)


def nlb() -> NetworkLoadBalancer:
    return NetworkLoadBalancer([(443, "tcp"), (443, "udp")], [("10.1.0.5:443", "a"), ("10.1.0.6:443", "a")],
                               {"a": NODE}, queues=2, threads=2, seed=7, tcp_idle_timeout=350, udp_timeout=120)


def conntrack() -> hp.ConnTrack:
    return hp.ConnTrack(10_000, queues=3, threads=2, seed=7)


HOWS = ["import", "pickle", "deepcopy"]


@pytest.mark.parametrize("how", HOWS)
@settings(max_examples=40, deadline=None)
@given(trace=chunks, split=st.integers(0, 5))
def test_nat_after_import_as_if_uninterrupted(how: str, trace: list[Any], split: int) -> None:
    run_split(nat, trace, min(split, len(trace) - 1), how, answer=True)


@pytest.mark.parametrize("how", HOWS)
@settings(max_examples=40, deadline=None)
@given(trace=chunks, split=st.integers(0, 5))
def test_nlb_after_import_as_if_uninterrupted(how: str, trace: list[Any], split: int) -> None:
    run_split(nlb, trace, min(split, len(trace) - 1), how, answer=False, dst_ip=hp.ip(NODE), dst_port=443)


@pytest.mark.parametrize("how", HOWS)
@settings(max_examples=40, deadline=None)
@given(trace=chunks, split=st.integers(0, 5))
def test_conntrack_after_import_as_if_uninterrupted(how: str, trace: list[Any], split: int) -> None:
    run_split(conntrack, trace, min(split, len(trace) - 1), how, answer=True)


def opened(stage: ShardedStage[Any], n: int) -> np.ndarray:
    rows = [(k, CLIENTS[k % 4], 1024 + k, SERVERS[0], 443, TCP, SYN) for k in range(n)]
    return stage.process(make_batch(rows))[1]


def test_source_nat_flows_keep_their_ports() -> None:
    def make() -> NetworkLoadBalancer:
        return NetworkLoadBalancer([(443, "tcp")], [("10.1.0.5:443", "a")], {"a": NODE}, preserve_client_ip=False,
                                   queues=2, threads=1, seed=3)
    a, b = make(), make()
    rows = [(k, CLIENTS[k % 4], 1024 + k, hp.ip(NODE), 443, TCP, SYN) for k in range(40)]
    a.process(make_batch(rows))
    assert b.import_state(a.export_state()).imported == 40
    later = make_batch([(10**6 + k, c, p, d, dp, TCP, ACK) for k, (_, c, p, d, dp, _, _) in enumerate(rows)])
    pa, va, ta = a.process(later)
    pb, vb, tb = b.process(later)
    np.testing.assert_array_equal(pb, pa)
    assert (vb == Verdict.FORWARD).all() and (va == vb).all() and (ta == tb).all()


def test_capacity_exhaustion_is_counted() -> None:
    a = NatGateway(["203.0.113.10"], ["10.0.0.0/16"], limits=False, seed=1)
    opened(a, 50)
    small = NatGateway(["203.0.113.10"], ["10.0.0.0/16"], limits=False, capacity=20, seed=1)
    result = small.import_state(a.export_state())
    assert result.imported == 20 and result.table_full == 30 and len(small) == 20
    ct = hp.ConnTrack(10, seed=1)
    assert hp.ConnTrack(100, seed=1).import_state(np.zeros(0, STATE_DTYPE)).imported == 0
    big = hp.ConnTrack(1000, seed=1)
    opened(big, 100)
    r = ct.import_state(big.export_state())
    assert r.imported == len(ct) and r.imported + r.table_full == 100 and r.table_full > 0


def test_bindings_another_gateway_cannot_keep_are_conflicts() -> None:
    a = NatGateway(["203.0.113.10"], ["10.0.0.0/16"], limits=False, seed=1)
    opened(a, 10)
    other = NatGateway(["203.0.113.99"], ["10.0.0.0/16"], limits=False, seed=1)
    assert other.import_state(a.export_state()).conflict == 10 and len(other) == 0
    again = a.import_state(a.export_state())  # the same connections: each replaces itself
    assert again.imported == again.replaced == 10 and len(a) == 10


def test_imported_arrays_are_checked() -> None:
    ct = conntrack()
    opened(ct, 5)
    state = ct.export_state()
    with pytest.raises(TypeError, match="state"):
        ct.import_state(hp.empty(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state"):
        ct.import_state([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="state must be 1-D"):
        ct.import_state(state.reshape(1, -1))
    bad = state.copy()
    bad[2]["flags"] |= 0x08  # an alias record is never a connection
    with pytest.raises(ValueError, match=r"state\[2\]: flags"):
        ct.import_state(bad)
    bad = state.copy()
    bad[1]["ip_lo"], bad[1]["ip_hi"] = bad[1]["ip_hi"], bad[1]["ip_lo"]
    with pytest.raises(ValueError, match=r"state\[1\]: ip_lo"):
        ct.import_state(bad)
    bad = state.copy()
    bad[0]["state"] = 42
    with pytest.raises(ValueError, match=r"state\[0\]: state"):
        ct.import_state(bad)
    fresh = conntrack()
    assert fresh.import_state(state[::2]).imported == 3  # a strided view is accepted
    assert len(fresh) == 3


def test_the_ena_interface_still_refuses_to_copy() -> None:
    iface = hp.ena.Interface("c5.large", direction="in", seed=1)
    with pytest.raises(TypeError, match="do not pickle or copy"):
        pickle.dumps(iface)
