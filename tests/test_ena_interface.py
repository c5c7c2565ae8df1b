"""The ENA interface: allowances as token buckets, queue then drop, counters, latency, RSS queues."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane.ena import instance_type
from hyperplane.ena.interface import COUNTERS, CREDIT_SECONDS_PER_VCPU, Interface
from hyperplane.verdict import Verdict

from .checks import assert_conserved

S, MS, US = 1_000_000_000, 1_000_000, 1_000
F = Verdict.FORWARD
TCP, UDP = 6, 17
INSTANCE = hp.ip("10.0.0.5")
PEER, PEER2 = hp.ip("198.51.100.7"), hp.ip("198.51.100.8")
DNS = hp.ip("169.254.169.253")
Row = tuple[int, int, int, int, int, int, int]


def packets(rows: Sequence[Row]) -> np.ndarray:
    """Rows of (ts ns, src ip, src port, dst ip, dst port, proto, IP length)."""
    out = hp.empty(len(rows))
    for i, (t, src, sport, dst, dport, proto, length) in enumerate(rows):
        out[i] = (t, src, dst, sport, dport, length, proto, 0, 0, 0, 0, 0)
    return out


def stream(n: int, rate_pps: float, *, start: int = 0, src: int = PEER, dst: int = INSTANCE, length: int = 100,
           flows: int = 1, proto: int = UDP) -> np.ndarray:
    """n packets evenly at rate_pps (ts rounded down to the ns), round-robin over `flows` source ports."""
    out = hp.empty(n)
    k = np.arange(n, dtype=np.uint64)
    out["ts"] = start + (k * np.uint64(S) / rate_pps).astype(np.uint64) if n else 0
    out["src_ip"], out["dst_ip"], out["proto"], out["length"] = src, dst, proto, length
    out["src_port"], out["dst_port"] = 10_000 + (np.arange(n) % flows), 80
    return out


def conserved(eni: Interface, verdict: np.ndarray, delay: np.ndarray | None = None) -> None:
    """packets = forwarded + every drop reason; the verdict array agrees with the tallies; every
    forwarded packet carries at least the latency model's floor (40 % of the class)."""
    assert_conserved(eni.verdict_counts, verdict)
    if delay is not None:
        assert (delay[verdict != F] == 0).all()
        assert (delay[verdict == F] >= int(0.4 * eni.allowances.latency_ns)).all()


def waits(eni: Interface, batch: np.ndarray, verdict: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """Each forwarded packet's wait in its queue: its delay less its flow's latency (0 if dropped)."""
    return np.where(verdict == F, delay - eni.flow_latency(batch), 0).astype(np.int64)


def eni_for(kind: str = "c5.large", **kwargs: Any) -> Interface:
    kwargs.setdefault("seed", 1)
    return Interface(kind, **kwargs)


# ---- catalog and names -------------------------------------------------------------------


def test_c5_large_takes_the_catalog_figures() -> None:
    eni = eni_for("c5.large", direction="in")
    a, t = eni.allowances, instance_type("c5.large")
    assert (a.pps, a.baseline_bps, a.burst_bps) == (550_000, 750_000_000, 10_000_000_000)
    assert (a.flow_bps, a.link_local_pps, a.conntrack, a.latency_ns) == (5_000_000_000, 1024, 131_072, 50_000)
    assert eni.queues == t.queues == 2
    assert a.credit_seconds == CREDIT_SECONDS_PER_VCPU * 2 == 390.0  # 6.5 minutes at 10 Gbps
    assert a.credit_bits == (10_000_000_000 - 750_000_000) * 390
    assert a.sustained_pps(1500) == 62_500 and a.sustained_pps(64) == 550_000  # bandwidth-, then pps-bound
    assert a.burst_pps(1500) == 550_000
    assert eni_for("c5.large", placement_group=True).allowances.flow_bps == 10_000_000_000
    # Fixed-rate types have no credits.
    c4 = eni_for("c4.8xlarge").allowances
    assert c4.burst_bps == c4.baseline_bps == 10_000_000_000 and c4.credit_bits == 0
    # A fresh instance holds all its credits, each way.
    assert eni_for("c5.large").credits == {"in": 3_607_500_000_000.0, "out": 3_607_500_000_000.0}


def test_counters_are_named_as_ena_names_them() -> None:
    eni = eni_for(direction="in")
    assert tuple(eni.counters) == COUNTERS == (
        "bw_in_allowance_exceeded", "bw_out_allowance_exceeded", "pps_allowance_exceeded",
        "conntrack_allowance_exceeded", "conntrack_allowance_available", "linklocal_allowance_exceeded",
    )
    assert eni.counters["conntrack_allowance_available"] == 131_072
    assert all(v == 0 for k, v in eni.counters.items() if k != "conntrack_allowance_available")


# ---- token-bucket arithmetic at the boundaries -------------------------------------------


@pytest.mark.parametrize("pps", [550_000, 3, 1_000_000, 999_983])
def test_exactly_the_allowed_rate_never_counts(pps: int) -> None:
    # Timestamps rounded down to the ns put each packet up to 1 ns early: the bucket's
    # depth (at least two packets) absorbs that, and integer arithmetic adds no error.
    eni = eni_for(direction="in", pps=pps, conntrack=False)
    batch = stream(min(pps * 2, 300_000), pps, length=64)
    _, v, d = eni.process(batch)
    assert (v == F).all() and (waits(eni, batch, v, d) == 0).all()
    assert eni.counters["pps_allowance_exceeded"] == 0
    conserved(eni, v, d)


def test_one_percent_over_counts_once_the_burst_is_spent() -> None:
    pps = 550_000
    eni = eni_for(direction="in", conntrack=False)  # depth: 1 ms at 550,000 pps = 550 packets
    batch = stream(200_000, pps * 1.01, length=64)
    _, v, d = eni.process(batch)
    waited = np.flatnonzero(waits(eni, batch, v, d) > 0)
    # n packets have arrived by ts_n = n / (1.01 r); the bucket lets r * ts + 550 through:
    # the first to wait is the first n with n + 1 > r * n / (1.01 r) + 550: n = 549 * 101.
    first = int(waited[0])
    t = int(batch["ts"][first])
    assert first + 1 > pps * t / S + 550 and first <= pps * t / S + 550 + 1
    assert abs(first - 549 * 101) <= 1
    # Then the queue fills (1024 packets) and what does not fit is dropped, all counted.
    dropped = np.flatnonzero(v != F)
    assert (v[dropped] == Verdict.DROP_PPS_ALLOWANCE).all() and dropped[0] > first + 1024
    assert eni.counters["pps_allowance_exceeded"] == len(waited) + len(dropped)
    conserved(eni, v, d)


def test_burst_then_refill() -> None:
    # 1000 pps with a 10 ms window: a bucket of 10 packets.
    eni = eni_for(direction="in", pps=1000, burst_window_us=10_000, conntrack=False)
    burst = stream(15, 1e12)  # 15 packets within 15 ps: all at ts 0
    _, v, d = eni.process(burst)
    assert (v == F).all()
    # Ten pass at once; the next five wait for the bucket's refill, one token per ms.
    np.testing.assert_array_equal(waits(eni, burst, v, d), [0] * 10 + [1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS])
    assert eni.counters["pps_allowance_exceeded"] == 5
    # The bucket is full again 15 ms after the burst (it lent 5 tokens ahead): a new burst
    # of 10 passes at once and the 11th waits a full token.
    second = stream(11, 1e12, start=15 * MS)
    _, v2, d2 = eni.process(second)
    np.testing.assert_array_equal(waits(eni, second, v2, d2), [0] * 10 + [MS])
    # One ns earlier it would not have been full: the 10th would wait 1 ns.
    early = eni_for(direction="in", pps=1000, burst_window_us=10_000, conntrack=False)
    early.process(burst)
    third = stream(10, 1e12, start=15 * MS - 1)
    _, v3, d3 = early.process(third)
    np.testing.assert_array_equal(waits(early, third, v3, d3), [0] * 9 + [1])
    conserved(eni, np.concatenate([v, v2]))


def test_separate_buckets_in_and_out() -> None:
    # 1 Mbit/s each way (no credits), pps and flow limits out of the way.
    eni = eni_for(direction="both", instance_ips=["10.0.0.5"], baseline_gbps=0.001, burst_gbps=0.001,
                  pps=10**7, conntrack=False, queue_depth_packets=100)
    inbound = stream(2000, 250, src=PEER, dst=INSTANCE, length=1000, flows=8)   # 2 Mbit/s in for 8 s
    outbound = stream(500, 62.5, src=INSTANCE, dst=PEER, length=1000, flows=8)  # 0.5 Mbit/s out
    trace = hp.traffic.merge(inbound, outbound)
    _, v, d = eni.process(trace)
    c = eni.counters
    assert c["bw_in_allowance_exceeded"] > 0 and c["bw_out_allowance_exceeded"] == 0
    out = trace["src_ip"] == INSTANCE
    w = waits(eni, trace, v, d)
    # Outbound never waits although inbound is twice over its allowance.
    assert (v[out] == F).all() and (w[out] == 0).all()
    # Inbound: a queue fills, then drops; what gets through is 1 Mbit/s plus the bucket and queue.
    inb = ~out
    assert (v[inb] == Verdict.DROP_BW_IN_ALLOWANCE).sum() > 0
    assert set(np.unique(v[inb])) <= {F, Verdict.DROP_BW_IN_ALLOWANCE}
    sent_bits = int(trace["length"][inb & (v == F)].sum()) * 8
    assert 8e6 <= sent_bits <= 8e6 + 1_000_000 + 100 * 8000 + 8000
    assert c["bw_in_allowance_exceeded"] == int((inb & ((v != F) | (w > 0))).sum())
    conserved(eni, v, d)


def test_link_local_limit_drops_without_queueing() -> None:
    eni = eni_for(direction="both", instance_ips=["10.0.0.0/24"], conntrack=False)
    queries = stream(4096, 2048, src=INSTANCE, dst=DNS, length=80, flows=50)  # 2048 pps for 2 s
    answers = stream(4096, 2048, start=100 * US, src=DNS, dst=INSTANCE, length=120, flows=50)
    imds = stream(10, 5, src=INSTANCE, dst=hp.ip("169.254.169.254"), start=3 * S)
    trace = hp.traffic.merge(queries, answers, imds)
    _, v, d = eni.process(trace)
    q = trace["dst_ip"] == DNS
    forwarded = int((v[q] == F).sum())
    # 1024 per second for 2 s, plus the bucket's depth (two packets), give or take the last one.
    assert abs(forwarded - (2 * 1024 + 2)) <= 1
    assert (v[q][v[q] != F] == Verdict.DROP_LINKLOCAL_ALLOWANCE).all()
    assert eni.counters["linklocal_allowance_exceeded"] == (v == Verdict.DROP_LINKLOCAL_ALLOWANCE).sum() > 0
    assert (waits(eni, trace, v, d) == 0).all()  # never queued
    assert (v[trace["src_ip"] == DNS] == F).all()  # answers are not held
    assert (v[trace["dst_ip"] == hp.ip("169.254.169.254")] == F).all()  # IMDS at 5 pps
    assert sum(c for k, c in eni.counters.items() if k.startswith(("bw", "pps"))) == 0
    conserved(eni, v, d)


@pytest.mark.parametrize("vpc_cidr,resolver", [("10.0.0.0/16", "10.0.0.2"), ("172.31.0.0/16", "172.31.0.2"),
                                               ("192.168.4.0/22", "192.168.4.2")])
def test_an_interface_in_a_vpc_limits_its_resolver(vpc_cidr: str, resolver: str) -> None:
    """AWS: queries to the Amazon DNS server "at the 169.254.169.253 IP address, or the reserved IP
    address at the base of the VPC network range 'plus two'" — both are link-local traffic, held
    to 1024 packets per second per interface. Given its VPC, the interface limits base + 2 by
    default; base + 3 is ordinary traffic."""
    assert hp.ena.vpc_resolver(vpc_cidr) == resolver
    eni = eni_for(direction="in", vpc_cidr=vpc_cidr, conntrack=False)
    _, v, _ = eni.process(stream(3000, 3000, src=INSTANCE, dst=hp.ip(resolver)))
    assert eni.counters["linklocal_allowance_exceeded"] == (v != F).sum() > 1000
    beside = eni_for(direction="in", vpc_cidr=vpc_cidr, conntrack=False)
    _, v, _ = beside.process(stream(3000, 3000, src=INSTANCE, dst=hp.ip(resolver) + 1))
    assert (v == F).all() and beside.counters["linklocal_allowance_exceeded"] == 0
    # Without the VPC the interface cannot know its resolver: the same queries pass.
    unaware = eni_for(direction="in", conntrack=False)
    _, v, _ = unaware.process(stream(3000, 3000, src=INSTANCE, dst=hp.ip(resolver)))
    assert (v == F).all()
    with pytest.raises(ValueError, match="vpc_cidr"):
        eni_for(vpc_cidr="10.0.0.0/33")


def test_without_instance_ips_every_packet_is_inbound() -> None:
    """Interface("c5.large") cannot tell directions: every packet is inbound (its docstring says so)."""
    eni = Interface("c5.large", seed=1, conntrack=False)
    assert eni.direction == "in"
    trace = hp.traffic.merge(stream(10, 1000, src=PEER, dst=INSTANCE), stream(10, 1000, src=INSTANCE, dst=PEER))
    _, v, _ = eni.process(trace)
    qs = eni.queue_stats
    assert (v == F).all() and qs["rx_cnt"].sum() == 20 and qs["tx_cnt"].sum() == 0


def test_vpc_resolver_counts_when_listed() -> None:
    eni = eni_for(direction="in", link_local=["169.254.169.0/24", "10.0.0.2"], conntrack=False)
    _, v, _ = eni.process(stream(3000, 3000, src=INSTANCE, dst=hp.ip("10.0.0.2")))
    assert eni.counters["linklocal_allowance_exceeded"] == (v != F).sum() > 1000


def test_per_flow_cap_holds_the_elephant_not_the_mice() -> None:
    eni = eni_for("c5.18xlarge", direction="in", pps=10**7, conntrack=100_000)
    elephant = hp.traffic.elephant(16_000, seed=1, gbps=8.0)  # 24 ms at 8 Gbps, over the 5 Gbps flow cap
    mice = hp.traffic.synthetic(flows=3000, packets=30_000, seed=2, duration_s=0.024)
    trace = hp.traffic.merge(elephant, mice)
    _, v, d = eni.process(trace)
    big = (trace["src_ip"] == elephant["src_ip"][0]) & (trace["src_port"] == elephant["src_port"][0])
    w = waits(eni, trace, v, d)
    assert (v[~big] == F).all() and (w[~big] == 0).all()  # mice are neither delayed nor dropped
    assert (v[big] == Verdict.DROP_FLOW_ALLOWANCE).sum() > 0
    assert set(np.unique(v[big])) <= {F, Verdict.DROP_FLOW_ALLOWANCE}
    assert eni.flow_allowance_exceeded == int((big & ((v != F) | (w > 0))).sum())
    assert all(c == 0 for k, c in eni.counters.items() if k != "conntrack_allowance_available")
    # What gets through leaves at 5 Gbps once the bucket and the queue are full.
    through = big & (v == F)
    depart = trace["ts"][through] + w[through]
    late = depart > depart[0] + 10 * MS
    bits = int(trace["length"][through][late].sum()) * 8
    span = int(depart[late][-1] - depart[late][0])
    assert bits / span == pytest.approx(5.0, rel=0.01)
    # In a cluster placement group the cap is 10 Gbps: the 8 Gbps elephant passes.
    pg = eni_for("c5.18xlarge", direction="in", pps=10**7, conntrack=100_000, placement_group=True)
    _, v2, _ = pg.process(trace)
    assert (v2 == F).all() and pg.flow_allowance_exceeded == 0
    conserved(eni, v, d)


def test_queue_then_drop_in_order() -> None:
    # pps 1000, bucket of 10 packets, queue of 5: a burst of 20 at one instant.
    eni = eni_for(direction="in", pps=1000, burst_window_us=10_000, queue_depth_packets=5, conntrack=False,
                  latency_us=0)
    _, v, d = eni.process(stream(20, 1e12))
    assert list(v) == [F] * 15 + [Verdict.DROP_PPS_ALLOWANCE] * 5
    np.testing.assert_array_equal(d[:15], [0] * 10 + [MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS])
    assert eni.counters["pps_allowance_exceeded"] == 10  # 5 queued + 5 dropped
    # 2.5 ms later two of the five have left: two more are queued, the third dropped.
    _, v2, d2 = eni.process(stream(3, 1e12, start=2_500_000))
    assert list(v2) == [F, F, Verdict.DROP_PPS_ALLOWANCE]
    np.testing.assert_array_equal(d2[:2], [3_500_000, 4_500_000])
    assert eni.counters["pps_allowance_exceeded"] == 13
    conserved(eni, np.concatenate([v, v2]), np.concatenate([d, d2]))


def test_queue_depth_zero_polices() -> None:
    eni = eni_for(direction="in", pps=1000, burst_window_us=10_000, queue_depth_packets=0, conntrack=False)
    _, v, d = eni.process(stream(12, 1e12))
    assert list(v) == [F] * 10 + [Verdict.DROP_PPS_ALLOWANCE] * 2
    assert eni.latency()["delayed"] == 0
    conserved(eni, v, d)


def test_pps_counts_both_directions_together() -> None:
    eni = eni_for(direction="both", instance_ips=["10.0.0.5"], pps=1000, burst_window_us=10_000, conntrack=False)
    ins = stream(6, 1e12, src=PEER, dst=INSTANCE)
    outs = stream(6, 1e12, src=INSTANCE, dst=PEER)
    both = hp.traffic.merge(ins, outs)
    _, v, d = eni.process(both)
    # Six in and six out share the ten tokens: the last two wait (each in its own queue).
    assert (v == F).all() and ((waits(eni, both, v, d) > 0).sum() == 2)
    assert eni.counters["pps_allowance_exceeded"] == 2


def test_conntrack_allowance() -> None:
    eni = eni_for(direction="in", conntrack=100)
    first = stream(150, 1000, flows=150)  # 150 new UDP flows
    _, v, _ = eni.process(first)
    assert (v[:100] == F).all() and (v[100:] == Verdict.DROP_TABLE_FULL).all()
    c = eni.counters
    assert c["conntrack_allowance_exceeded"] == 50 and c["conntrack_allowance_available"] == 0
    # Known flows still pass; new ones do not.
    _, v2, _ = eni.process(stream(150, 1000, flows=150, start=S))
    assert (v2[:100] == F).all() and (v2[100:] == Verdict.DROP_TABLE_FULL).all()
    # UDP connections time out after 30 s (security groups' default): room again.
    eni.expire(40 * S)
    assert eni.counters["conntrack_allowance_available"] == 100 and eni.connections == 0
    conserved(eni, np.concatenate([v, v2]))


def test_not_routed_when_neither_end_is_the_instance() -> None:
    eni = eni_for(instance_ips=["10.0.0.5/32"], conntrack=False)
    assert eni.direction == "both"
    _, v, d = eni.process(packets([(0, PEER, 1, PEER2, 2, UDP, 100), (1, PEER, 1, INSTANCE, 2, UDP, 100),
                                   (2, INSTANCE, 2, PEER, 1, UDP, 100)]))
    assert list(v) == [Verdict.DROP_NOT_ROUTED, F, F]
    conserved(eni, v, d)


# ---- burst credits ------------------------------------------------------------------------


def test_credits_burst_then_baseline() -> None:
    # c5.large with 10 ms of credits: 92.5 Mbit. At 5 Gbps in, they drain at 4.25 Gbps.
    eni = eni_for(direction="in", credit_seconds=0.01, pps=10**7, conntrack=False)
    assert eni.allowances.credit_bits == 92_500_000
    gbps, length = 5.0, 1500
    batch = stream(20_000, gbps * 1e9 / (length * 8), length=length, flows=16)  # 48 ms
    _, v, d = eni.process(batch)
    waited = np.flatnonzero((waits(eni, batch, v, d) > 0) | (v != F))
    onset = int(batch["ts"][waited[0]])
    # Credits plus the baseline bucket's own depth (1 ms: 0.75 Mbit), drained at 5 - 0.75 Gbps.
    expected = (92_500_000 + 750_000) / 4.25e9 * S
    assert onset == pytest.approx(expected, rel=0.002)
    assert eni.counters["bw_in_allowance_exceeded"] == len(waited)
    assert eni.credits["in"] == 0 and eni.credits["out"] == 92_500_000
    # Idle for 40 ms below the baseline: credits come back at 0.75 Gbps (30 Mbit), less
    # what the queue still owed when it went idle.
    after = int(batch["ts"][-1]) + 40 * MS
    _, v2, d2 = eni.process(stream(1, 1.0, start=after, length=40))
    assert 0 < eni.credits["in"] <= 30_000_000
    conserved(eni, np.concatenate([v, v2]), np.concatenate([d, d2]))


def test_fresh_and_empty_credits() -> None:
    flood = stream(5000, 2e9 / 12_000, length=1500, flows=16)  # 2 Gbps, above c5.large's 0.75
    full = eni_for(direction="in", conntrack=False)
    _, v, d = full.process(flood)
    assert full.counters["bw_in_allowance_exceeded"] == 0  # bursting on credits
    empty = eni_for(direction="in", conntrack=False, burst_credits=0.0)
    _, v2, d2 = empty.process(flood)
    assert empty.counters["bw_in_allowance_exceeded"] > 0  # held to 0.75 Gbps after 1 ms
    assert empty.credits["in"] == 0
    conserved(empty, v2, d2)


# ---- latency, queues, chunks -----------------------------------------------------------


def test_latency_spreads_below_the_class() -> None:
    """AWS gives a latency class ("under 50 µs" for C5; C3 100 µs) as a bound, not a value. The
    model (an estimate, docs/ena.md): each flow draws bound × (0.4 + 0.6·U³), so the median is
    near 0.475 × bound, p99 near 0.98 × bound, nothing above the bound, and a flow's packets
    all see the same latency (they stay in order)."""
    eni = eni_for("c3.large", direction="in", conntrack=False)  # 100 us class
    batch = stream(20_000, 20_000, flows=5000)  # 4 packets in each of 5,000 flows, never queued
    _, v, d = eni.process(batch)
    assert (v == F).all() and (d == eni.flow_latency(batch)).all()
    assert d.min() >= 40_000 and d.max() <= 100_000
    assert (d.reshape(4, 5000) == d[:5000]).all()  # each flow the same four times
    lat = eni.latency()
    assert 0.475 * 100_000 * 0.95 <= lat["p50"] <= 0.475 * 100_000 * 1.05
    assert 0.96 * 100_000 <= lat["p99"] <= 100_000 and lat["max"] <= 100_000
    assert lat["count"] == 20_000 and lat["delayed"] == 0
    # Another seed draws other latencies, from the same distribution.
    other = eni_for("c3.large", direction="in", conntrack=False, seed=2)
    assert (other.flow_latency(batch) != d).mean() > 0.9


def test_latency_is_the_flow_latency_plus_the_wait() -> None:
    # A burst that queues: the quantiles follow the exact ones within 1/64.
    eni = eni_for(direction="in", pps=100_000, conntrack=False)
    burst = stream(1100, 1e12)
    _, v, d = eni.process(burst)
    lat = eni.latency()
    fwd = d[v == F].astype(np.float64)
    for name, q in (("p50", 50), ("p99", 99), ("p999", 99.9)):
        exact = np.percentile(fwd, q, method="inverted_cdf")
        assert exact <= lat[name] <= exact + exact / 64 + 1, name
    assert lat["max"] == int(d.max()) and lat["count"] == (v == F).sum()
    assert lat["delayed"] == int((waits(eni, burst, v, d) > 0).sum()) > 0


def test_empty_latency() -> None:
    assert eni_for(direction="in").latency()["count"] == 0


def test_queue_stats_show_the_elephant() -> None:
    eni = eni_for("c5.4xlarge", direction="in", conntrack=False)  # 8 queues
    elephant = hp.traffic.elephant(5000, seed=3, gbps=2.0)
    mice = hp.traffic.synthetic(flows=4000, packets=40_000, seed=3, duration_s=0.03)
    trace = hp.traffic.merge(mice, elephant)
    _, v, _ = eni.process(trace)
    qs = eni.queue_stats
    assert set(qs) == {"rx_cnt", "rx_bytes", "tx_cnt", "tx_bytes"} and len(qs["rx_cnt"]) == 8
    assert qs["rx_cnt"].sum() == (v == F).sum() and qs["tx_cnt"].sum() == 0
    assert qs["rx_bytes"].sum() == trace["length"][v == F].sum()
    # RSS as hyperplane.Rss computes it, with the specification's key.
    queues = eni.queue_of(trace)
    np.testing.assert_array_equal(queues, hp.Rss(queues=8).queue(trace))
    np.testing.assert_array_equal(qs["rx_cnt"], np.bincount(queues[v == F], minlength=8))
    home = int(eni.queue_of(elephant[:1])[0])
    assert int(np.argmax(qs["rx_bytes"])) == home
    assert qs["rx_bytes"][home] > 2 * np.delete(qs["rx_bytes"], home).mean()


def test_chunks_give_the_same_result() -> None:
    trace = hp.traffic.merge(
        hp.traffic.synthetic(flows=500, packets=20_000, seed=4, duration_s=0.02, clients="10.0.0.0/16"),
        stream(300, 20_000, src=INSTANCE, dst=DNS),
    )
    kw: dict[str, Any] = {"instance_ips": ["10.0.0.0/16"], "pps": 400_000, "conntrack": 300,
                          "queue_depth_packets": 64, "baseline_gbps": 0.5, "burst_gbps": 0.6, "credit_seconds": 0.005}
    whole = eni_for(**kw)
    _, v, d = whole.process(trace)
    parts = eni_for(**kw)
    vs, ds = [], []
    for chunk in np.array_split(trace, 7):
        _, cv, cd = parts.process(chunk)
        vs.append(cv.copy())
        ds.append(cd.copy())
    np.testing.assert_array_equal(v, np.concatenate(vs))
    np.testing.assert_array_equal(d, np.concatenate(ds))
    assert whole.counters == parts.counters and whole.verdict_counts == parts.verdict_counts
    assert whole.latency() == parts.latency()
    assert len(set(np.unique(v))) >= 3  # the trace exercises several verdicts
    conserved(whole, v, d)


def test_out_arrays_are_reused() -> None:
    eni = eni_for(direction="in", conntrack=False)
    batch = stream(10, 100)
    verdict, delay = np.empty(10, np.uint8), np.empty(10, np.uint64)
    out, v, d = eni.process(batch, verdict_out=verdict, delay_out=delay)
    assert out is batch and v is verdict and d is delay


# ---- packet table ------------------------------------------------------------------------

# pps 1000 with a 2-packet bucket and a 1-packet queue; 1 Mbit/s each way and 0.5 Mbit/s
# per flow, their buckets two 9001-byte packets (c5.large's MTU) deep; link-local 1024 pps; no
# latency, so each delay is the wait alone.
SMALL: dict[str, Any] = {"pps": 1000, "burst_window_us": 1, "queue_depth_packets": 1, "baseline_gbps": 0.001,
                         "burst_gbps": 0.001, "single_flow_gbps": 0.0005, "latency_us": 0, "conntrack": False,
                         "instance_ips": ["10.0.0.5"]}
IN, OUT = (PEER, 1000, INSTANCE, 80, UDP), (INSTANCE, 80, PEER, 1000, UDP)
CASES: list[tuple[str, list[Row], list[Verdict], list[int]]] = [
    ("two at once pass (the bucket holds two)", [(0, *IN, 40), (0, *IN, 40)], [F, F], [0, 0]),
    ("the third waits a token (1 ms)", [(0, *IN, 40)] * 3, [F, F, F], [0, 0, MS]),
    ("the fourth finds the queue full", [(0, *IN, 40)] * 4, [F, F, F, Verdict.DROP_PPS_ALLOWANCE], [0, 0, MS, 0]),
    ("a millisecond later the bucket holds one", [(0, *IN, 40)] * 2 + [(MS, *IN, 40)], [F, F, F], [0, 0, 0]),
    ("out shares the pps bucket", [(0, *IN, 40), (0, *OUT, 40), (0, *OUT, 40)], [F, F, F], [0, 0, MS]),
    ("a jumbo burst over 1 Mbit/s waits for bits (72,008 of them: 72 ms)",
     [(0, PEER, 1, INSTANCE, 2, UDP, 9001), (0, PEER2, 1, INSTANCE, 2, UDP, 9001),
      (0, PEER, 3, INSTANCE, 4, UDP, 9001)],
     [F, F, F], [0, 0, 72_008_000]),
    ("one flow over 0.5 Mbit/s waits for its own bucket, then the queue is full",
     [(0, PEER, 9, INSTANCE, 9, UDP, 9001)] * 2 + [(1, PEER, 9, INSTANCE, 9, UDP, 9001),
                                                   (2, PEER, 9, INSTANCE, 9, UDP, 9001)],
     [F, F, F, Verdict.DROP_FLOW_ALLOWANCE], [0, 0, 144_015_999, 0]),
    ("a packet larger than a bucket still passes, after the bucket has been full long enough",
     [(0, PEER, 1, INSTANCE, 2, UDP, 40000)], [F], [351_968_000]),
    ("DNS beyond the link-local bucket (two deep) is dropped, not queued",
     [(0, INSTANCE, 5000, DNS, 53, UDP, 60)] * 3, [F, F, Verdict.DROP_LINKLOCAL_ALLOWANCE], [0, 0, 0]),
    ("neither end is the instance", [(0, PEER, 1, PEER2, 2, UDP, 40)], [Verdict.DROP_NOT_ROUTED], [0]),
    ("time never runs back", [(MS, *IN, 40)] * 2 + [(0, *IN, 40)], [F, F, F], [0, 0, MS]),
]


@pytest.mark.parametrize("description,rows,verdicts,delays", CASES, ids=[c[0] for c in CASES])
def test_packet_table(description: str, rows: list[Row], verdicts: list[Verdict], delays: list[int]) -> None:
    eni = eni_for(**SMALL)
    _, v, d = eni.process(packets(rows))
    assert list(v) == verdicts
    assert list(d) == delays
    conserved(eni, v, d)


# ---- against a reference model -----------------------------------------------------------


class Bucket:
    """The textbook token bucket: a count of tokens (exact fractions) refilled with time, which
    may go negative (a queued packet takes its tokens when it arrives)."""

    def __init__(self, rate: int, depth: Fraction, tokens: Fraction | None = None) -> None:
        self.rate, self.depth = rate, depth
        self.tokens = depth if tokens is None else tokens
        self.last: int | None = None

    def at(self, t: int) -> Fraction:
        if self.last is None:
            return self.tokens
        return min(self.depth, self.tokens + Fraction((t - self.last) * self.rate, S))

    def ready(self, t: int, cost: Fraction) -> int:
        lack = cost - self.at(t)
        return t if lack <= 0 else t + math.ceil(lack * S / self.rate)

    def take(self, t: int, cost: Fraction) -> None:
        self.tokens, self.last = self.at(t) - cost, t


class Model:
    """What docs/ena.md says the interface does, in the plainest Python (direction 'both',
    no conntrack, no link-local)."""

    def __init__(self, pps: int, bps: int, burst_bps: int, credit_bits: int, flow_bps: int, window_ns: int,
                 queue: int, latency: int) -> None:
        def depth(rate: int, largest: int) -> Fraction:
            return max(Fraction(rate * window_ns, S), Fraction(2 * largest))

        mtu_bits = 9001 * 8
        self.pps = Bucket(pps, depth(pps, 1))
        base = depth(bps, mtu_bits)
        self.sustained = [Bucket(bps, base + credit_bits) for _ in range(2)]
        self.peak = [Bucket(burst_bps, depth(burst_bps, mtu_bits)) for _ in range(2)] if burst_bps > bps else None
        self.flow_depth, self.flow_bps = depth(flow_bps, mtu_bits), flow_bps
        self.flows: dict[tuple[int, ...], Bucket] = {}
        self.queue, self.latency = queue, latency
        self.waiting: list[list[int]] = [[], []]
        self.now = 0

    def packet(self, t: int, src: int, dst: int, sport: int, dport: int, length: int) -> tuple[int, int]:
        t = self.now = max(t, self.now)
        d = 0 if dst == INSTANCE else 1
        bits = Fraction(length * 8)
        flow = self.flows.setdefault((src, dst, sport, dport), Bucket(self.flow_bps, self.flow_depth))
        buckets = [(self.pps, Fraction(1), 0), (self.sustained[d], bits, 1), (flow, bits, 2)]
        if self.peak:
            buckets.append((self.peak[d], bits, 1))
        readies = [(b.ready(t, cost), which) for b, cost, which in buckets]
        depart = max(r for r, _ in readies)
        if depart > t:
            q = self.waiting[d]
            while q and q[0] <= t:
                heapq.heappop(q)
            if len(q) >= self.queue:
                binding = min(w for r, w in readies if r == depart)
                reason = (Verdict.DROP_PPS_ALLOWANCE, (Verdict.DROP_BW_IN_ALLOWANCE, Verdict.DROP_BW_OUT_ALLOWANCE)[d],
                          Verdict.DROP_FLOW_ALLOWANCE)[binding]
                return int(reason), 0
            heapq.heappush(q, depart)
        for b, cost, _ in buckets:
            b.take(t, cost)
        return int(F), self.latency + depart - t


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 300_000), st.booleans(), st.integers(0, 2), st.integers(40, 9001)),
                  min_size=1, max_size=60),
    pps=st.sampled_from([1000, 77_777, 10_000_000]),
    mbps=st.sampled_from([1, 10, 33, 100]),
    burst=st.sampled_from([0, 3]),
    flow_mbps=st.sampled_from([0.5, 5, 20, 1000]),
    queue=st.integers(0, 4),
    window_us=st.sampled_from([1, 100, 2000]),
)
def test_matches_the_reference_model(rows: list[tuple[int, bool, int, int]], pps: int, mbps: int, burst: int,
                                     flow_mbps: float, queue: int, window_us: int) -> None:
    t, table = 0, []
    for gap, inbound, flow, length in rows:
        t += gap
        peer = PEER + flow
        table.append((t, peer, 1000 + flow, INSTANCE, 80, UDP, length) if inbound
                     else (t, INSTANCE, 80, peer, 1000 + flow, UDP, length))
    burst_gbps = mbps * (1 + burst) / 1000
    eni = eni_for(instance_ips=["10.0.0.5"], pps=pps, baseline_gbps=mbps / 1000, burst_gbps=burst_gbps,
                  credit_seconds=0.002, single_flow_gbps=flow_mbps / 1000, queue_depth_packets=queue,
                  burst_window_us=window_us, latency_us=7, conntrack=False)
    a = eni.allowances
    model = Model(pps, a.baseline_bps, a.burst_bps, a.credit_bits, a.flow_bps, window_us * 1000, queue, 0)
    latency = eni.flow_latency(packets(table)).tolist()
    expected = [(verdict, wait + latency[i] if verdict == F else 0)
                for i, (verdict, wait) in enumerate(model.packet(r[0], r[1], r[3], r[2], r[4], r[6]) for r in table)]
    _, v, d = eni.process(packets(table))
    assert list(zip(v.tolist(), d.tolist())) == expected
    conserved(eni, v, d)


# ---- configuration and arrays ------------------------------------------------------------


@pytest.mark.parametrize(
    "args,kwargs,error,match",
    [
        (("c9.huge",), {}, ValueError, "unknown instance type"),
        ((42,), {}, TypeError, "instance_type"),
        (("c5.large", "sideways"), {}, ValueError, "direction"),
        (("c5.large", "both"), {}, ValueError, "instance_ips"),
        (("c5.large", "in"), {"instance_ips": ["10.0.0.5"]}, ValueError, "instance_ips"),
        (("c5.large",), {"instance_ips": "10.0.0.5"}, ValueError, "instance_ips"),
        (("c5.large",), {"instance_ips": ["10.0.0.300"]}, ValueError, "instance_ips"),
        (("c5.large",), {"link_local": ["169.254.0.0/33"]}, ValueError, "link_local"),
        (("c5.large",), {"queue_depth_packets": -1}, ValueError, "queue_depth_packets"),
        (("c5.large",), {"conntrack": 0}, ValueError, "conntrack"),
        (("c5.large",), {"conntrack": "yes"}, ValueError, "conntrack"),
        (("c5.large",), {"burst_credits": 1.5}, ValueError, "burst_credits"),
        (("c5.large",), {"credit_seconds": -1.0}, ValueError, "credit_seconds"),
        (("c5.large",), {"burst_window_us": 0.0}, ValueError, "burst_window_us"),
        (("c5.large",), {"flow_slots": 100}, ValueError, "flow_slots"),
        (("c5.large",), {"rss_key": b"short"}, ValueError, "rss_key"),
        (("c5.large",), {"pps": -5}, ValueError, "pps"),
        (("c5.large",), {"queues": 9}, ValueError, "queues"),
        (("c5.large",), {"warp_factor": 9}, ValueError, "warp_factor"),
        (("c5.large",), {"timeouts": 30}, TypeError, "timeouts"),
    ],
)
def test_bad_configuration(args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Interface(*args, **kwargs)


def test_bad_arrays() -> None:
    eni = eni_for(direction="in", conntrack=False)
    with pytest.raises(TypeError, match="batch"):
        eni.process(np.zeros(4, dtype=np.uint64))
    with pytest.raises(ValueError, match="verdict_out must be 1-D with 2"):
        eni.process(hp.empty(2), verdict_out=np.empty(3, np.uint8))
    with pytest.raises(TypeError, match="delay_out must have dtype"):
        eni.process(hp.empty(2), delay_out=np.empty(2, np.float64))
    with pytest.raises(ValueError, match="now_ns"):
        eni.expire(-1)


def test_same_seed_same_result_and_any_seed_same_verdicts() -> None:
    trace = hp.traffic.synthetic(flows=300, packets=10_000, seed=5, duration_s=0.005)
    runs = []
    for seed in (1, 1, 2):
        eni = Interface("c5.large", direction="in", seed=seed, conntrack=1000)
        _, v, d = eni.process(trace)
        runs.append((v.copy(), d.copy(), eni.counters))
    for v, _, c in runs[1:]:
        np.testing.assert_array_equal(v, runs[0][0])
        assert c == runs[0][2]
    # The seed draws the flows' latencies: the same seed the same delays, another seed others.
    np.testing.assert_array_equal(runs[1][1], runs[0][1])
    assert (runs[2][1] != runs[0][1]).any()


def test_two_directions_sharing_the_packet_rate_act_as_one_interface() -> None:
    """AWS: "pps_allowance_exceeded: The number of packets queued or dropped because the
    bidirectional PPS exceeded the maximum for the instance." An interface's way in and way out
    kept as two Interfaces that share the allowance (as the network path keeps them) give, call by
    call in time order, exactly what one interface of both directions gives: 400 kpps each way on a
    c5.large (550 kpps) is over it together."""
    inbound = stream(4000, 400_000)
    outbound = stream(4000, 400_000, start=1000, src=INSTANCE, dst=PEER)
    both = np.concatenate([inbound, outbound])
    order = np.argsort(both["ts"], kind="stable")
    merged, is_out = both[order], order >= len(inbound)
    one = Interface("c5.large", "both", instance_ips=["10.0.0.5"], conntrack=False, seed=3)
    ref = one.process(merged)
    pair = {way == "out": Interface("c5.large", way, conntrack=False, seed=3) for way in ("in", "out")}
    pair[True].share_packet_rate(pair[False])
    verdict, delay = np.zeros(len(merged), dtype=np.uint8), np.zeros(len(merged), dtype=np.uint64)
    cuts = np.flatnonzero(np.diff(is_out.astype(np.int8))) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(merged)]):  # each run of one direction: one call
        res = pair[bool(is_out[lo])].process(merged[lo:hi])
        verdict[lo:hi], delay[lo:hi] = res.verdict, res.delay_ns
    np.testing.assert_array_equal(verdict, ref.verdict)
    np.testing.assert_array_equal(delay, ref.delay_ns)
    assert one.counters["pps_allowance_exceeded"] > 0
    assert sum(i.counters["pps_allowance_exceeded"] for i in pair.values()) == one.counters["pps_allowance_exceeded"]


def test_sharing_the_packet_rate_is_checked() -> None:
    a, b = Interface("c5.large", "out", conntrack=False), Interface("c5.large", "in", conntrack=False)
    with pytest.raises(ValueError, match="itself"):
        a.share_packet_rate(a)
    with pytest.raises(ValueError, match="the same one"):
        a.share_packet_rate(Interface("c5.large", "in", conntrack=False, pps=1000))
    with pytest.raises(TypeError, match="other must be an Interface"):
        a.share_packet_rate("in")  # type: ignore[arg-type]
    b.process(stream(1, 1000))
    with pytest.raises(ValueError, match="before the first packet"):
        a.share_packet_rate(b)
