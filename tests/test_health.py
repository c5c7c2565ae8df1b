"""Health checks: when an NLB notices an outage, and what its flows see."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.health import HealthChange, Outage, health_changes
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.verdict import Verdict

from .checks import assert_conserved

S = 1_000_000_000


@pytest.mark.parametrize(
    "outages,until,expected",
    [
        # Checks at 0, 30, 60, ...: fails at 30 and 60 -> unhealthy at 60; passes 120..240 -> healthy at 240.
        ([Outage("x", 10 * S, 100 * S)], 300 * S, [(60, "x", False), (240, "x", True)]),
        # One failed check is not enough.
        ([Outage("x", 25 * S, 35 * S)], 300 * S, []),
        # Still down at the end: no recovery.
        ([Outage("x", 0, 10**6 * S)], 100 * S, [(30, "x", False)]),
        # Two targets, in time order.
        ([Outage("y", 40 * S, 95 * S), Outage("x", 0, 35 * S)], 400 * S,
         [(30, "x", False), (90, "y", False), (180, "x", True), (240, "y", True)]),
    ],
)
def test_health_changes(outages: list[Outage], until: int, expected: list[tuple[int, str, bool]]) -> None:
    assert health_changes(outages, until) == [HealthChange(t * S, a, h) for t, a, h in expected]


def test_bad_outages() -> None:
    with pytest.raises(ValueError, match="ends before"):
        health_changes([Outage("x", 10, 5)], 100)
    with pytest.raises(ValueError, match="interval_s"):
        health_changes([], 100, interval_s=0)


def test_flows_through_a_target_outage() -> None:
    targets = [f"10.0.1.{i}:80" for i in range(1, 4)]
    nlb = NetworkLoadBalancer([(80, "tcp")], [(t, "a") for t in targets], {"a": "198.19.10.1"}, seed=3)
    # 300 clients, each a SYN at t=0 then a segment every 10 s until 300 s.
    times = np.arange(0, 301, 10)
    pkts = hp.empty(300 * len(times))
    pkts["ts"] = np.repeat(times, 300) * S + np.tile(np.arange(300), len(times))
    pkts["src_ip"] = hp.ip("192.0.2.0") + np.tile(np.arange(300), len(times))
    pkts["src_port"], pkts["dst_ip"], pkts["dst_port"], pkts["proto"] = 40000, hp.ip("198.19.10.1"), 80, 6
    pkts["tcp_flags"] = np.where(pkts["ts"] < S, 0x02, 0x18)
    pkts["length"] = 60
    first, _ = nlb.process(pkts[:300]).target, None
    down = targets[int(np.bincount(first).argmax())]
    result, changes = nlb.process_with_outages(pkts[300:], [Outage(down, 10 * S, 100 * S)])
    assert [(c.ts_ns // S, c.healthy) for c in changes] == [(60, False), (240, True)]
    victim = nlb.targets.index(next(t for t in nlb.targets if t.address == down))
    on_down = np.tile(first == victim, len(times) - 1)
    ts = pkts[300:]["ts"]
    # Its flows carry on until the checks notice (60 s), then are reset once; everyone else is untouched.
    assert (result.verdict[on_down & (ts < 60 * S)] == Verdict.FORWARD).all()
    assert (result.verdict[on_down & (ts >= 60 * S) & (ts < 70 * S)] == Verdict.RESET).all()
    assert (result.verdict[~on_down] == Verdict.FORWARD).all()
    assert_conserved(nlb.counters, np.concatenate([np.zeros(300, np.uint8), result.verdict]))
