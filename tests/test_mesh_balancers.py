"""Each mesh balancer on a small case worked out by hand, driven one pick at a time through
``_core.MeshBalancer`` (the engine's own balancer object, without the event loop)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from hyperplane import _core
from hyperplane.mesh import LeastRequest, LocalityEwma, P2cPeakEwma, Random, RoundRobin, ZoneAware
from hyperplane.mesh.balancers import HostLocal

MS = 1_000_000
ONE_WAY = (50e3, 250e3, 1.2e6)


def make(
    clients: list[tuple[int, int]], endpoints: list[tuple[int, int]], spec: dict[str, object], seed: int = 1
) -> _core.MeshBalancer:
    return _core.MeshBalancer(clients, endpoints, ONE_WAY, spec, seed)


def test_peak_ewma_peak_replaces_the_estimate() -> None:
    """tower's PeakEwma: "For Peak-EWMA, always use the worst-case (peak) value as the estimate for
    subsequent requests." A new endpoint starts at the default RTT, 30 ms (linkerd2-proxy's
    ``EWMA_DEFAULT_RTT: Duration = Duration::from_millis(30)``)."""
    b = make([(0, 0)], [(1, 0)], P2cPeakEwma().spec())
    assert b.estimate(0, 0) == 30 * MS
    b.sent(0, 0)
    b.done(0, 0, 0, 80 * MS)  # an 80 ms sample is above 30 ms: it replaces it at once
    assert b.estimate(0, 0) == 80 * MS
    assert b.pending(0, 0) == 0


def test_peak_ewma_decay_arithmetic() -> None:
    """tower: "When an RTT is observed that is less than the estimated RTT, we decay the prior
    estimate according to how much time has elapsed since the last update": next = estimate x w +
    rtt x (1 - w), w = exp(-elapsed / decay), decay 10 s."""
    b = make([(0, 0)], [(1, 0)], P2cPeakEwma().spec())
    b.sent(0, 0)
    b.done(0, 0, 70 * MS, 80 * MS)  # a 10 ms sample, 80 ms after the estimate was set (at 0)
    w = math.exp(-0.080 / 10)
    assert b.estimate(0, 0) == pytest.approx(30 * MS * w + 10 * MS * (1 - w), rel=1e-12)


def test_reading_the_cost_decays_towards_zero() -> None:
    """tower: the load is read after decay(), which "Updates with a 0 duration so that the estimate
    decays towards 0"; cost = estimate x (pending + 1)."""
    b = make([(0, 0)], [(1, 0)], P2cPeakEwma().spec())
    b.sent(0, 0)
    b.sent(0, 0)
    now = 2_500 * MS
    assert b.cost(0, 0, now) == pytest.approx(30 * MS * math.exp(-2.5 / 10) * 3, rel=1e-12)
    assert b.estimate(0, 0) == pytest.approx(30 * MS * math.exp(-2.5 / 10), rel=1e-12)


def test_p2c_picks_the_lower_cost_of_its_two_samples() -> None:
    """P2C (tower's p2c::Balance, linkerd2-proxy): two distinct endpoints at random, the one of
    lower load wins, the first on a tie ("if aload <= bload { a } else { b }")."""
    b = make([(0, 0)], [(k, 0) for k in range(1, 6)], P2cPeakEwma().spec(), seed=3)
    for e, rtt in enumerate((10, 40, 20, 80, 5)):
        b.sent(0, e)
        b.done(0, e, 0, rtt * MS) if rtt > 30 else b.done(0, e, 1000 * MS - rtt * MS, 1000 * MS)
    b.sent(0, 4)  # endpoint 4: lowest estimate but one pending, cost x 2
    now = 1000 * MS
    seen = set()
    for _ in range(300):
        chosen = b.pick(0, now)
        a, c = b.last_candidates()
        assert a != c
        costs = {e: b.cost(0, e, now) for e in (a, c)}
        assert chosen == (a if costs[a] <= costs[c] else c)
        seen.add(chosen)
    assert seen == {0, 1, 2, 3, 4} - {3}  # 3 has the highest cost and never wins a pair


def test_p2c_tie_keeps_the_first_sample() -> None:
    b = make([(0, 0)], [(k, 0) for k in range(1, 5)], P2cPeakEwma().spec())
    for _ in range(50):
        chosen = b.pick(0, 0)
        assert chosen == b.last_candidates()[0]  # every estimate is the default: all tie


def test_least_request_samples_with_replacement_and_fewest_active_wins() -> None:
    """Envoy's LeastRequest, choice_count: "The number of random healthy hosts from which the host
    with the fewest active requests will be chosen. Defaults to 2 so that we perform two-choice
    selection if the field is not set." Samples are drawn independently (the same host may come twice)."""
    b = make([(0, 0)], [(k, 0) for k in range(1, 4)], LeastRequest().spec(), seed=5)
    for e, n in enumerate((3, 0, 1)):
        for _ in range(n):
            b.sent(0, e)
    same = 0
    for _ in range(400):
        chosen = b.pick(0, 0)
        cands = b.last_candidates()
        assert len(cands) == 2
        same += cands[0] == cands[1]
        pend = [b.pending(0, e) for e in cands]
        assert chosen == cands[0 if pend[0] <= pend[1] else 1]
    assert 80 < same < 190  # with replacement: about one pair in three repeats a host


def test_random_is_uniform_over_healthy_endpoints() -> None:
    """Envoy: "The random load balancer selects a random available host." (arch overview)."""
    b = make([(0, 0)], [(k, 0) for k in range(1, 5)], Random().spec(), seed=2)
    b.set_health([True, True, False, True], [True])
    counts = Counter(b.pick(0, 0) for _ in range(8000))
    assert set(counts) == {0, 1, 3}
    assert all(abs(n - 8000 / 3) < 250 for n in counts.values())


def test_round_robin_rotates_from_each_clients_offset() -> None:
    """Envoy: "each available upstream host is selected in round robin order"; each client (its own
    proxy) starts at its own offset, so clients do not move in step (a modelling choice)."""
    b = make([(0, 0), (1, 0)], [(k, 0) for k in range(2, 5)], RoundRobin().spec())
    assert [b.pick(0, 0) for _ in range(4)] == [0, 1, 2, 0]
    assert [b.pick(1, 0) for _ in range(4)] == [1, 2, 0, 1]


def test_host_local_prefers_the_same_host_while_healthy() -> None:
    """The issue's rule: same host when one is healthy, else random."""
    b = make([(7, 0)], [(7, 0), (1, 0), (2, 1)], HostLocal().spec())
    assert {b.pick(0, 0) for _ in range(100)} == {0}
    b.set_health([False, True, True], [True])
    assert {b.pick(0, 0) for _ in range(200)} == {1, 2}


def zone_case(per_zone: int, clients: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    eps = [(100 + z * per_zone + k, z) for z in range(3) for k in range(per_zone)]
    cls = [(200 + i, z) for i, z in enumerate(clients)]
    return cls, eps


def test_zone_aware_needs_min_cluster_size_healthy_hosts() -> None:
    """Envoy: "min_cluster_size ... Configures minimum upstream cluster size required for zone aware
    routing. If upstream cluster size is less than specified, zone aware routing is not performed
    even if zone aware routing is configured. If not specified, the default is 6." Envoy counts the
    upstream's healthy hosts (``host_set.healthyHosts().size() < min_cluster_size``)."""
    cls, eps = zone_case(2, [0, 1, 2])
    b = make(cls, eps, ZoneAware().spec())
    assert b.zone_mode(0) == 2  # exactly 6 healthy hosts: zone routing, local zone directly
    assert {b.pick(0, 0) for _ in range(20)} == {0, 1}
    b.set_health([True] * 5 + [False], [True] * 3)
    assert b.zone_mode(0) == 0  # 5 < 6: no zone routing, round robin over all healthy hosts
    assert {b.pick(0, 0) for _ in range(20)} == {0, 1, 2, 3, 4}


def test_zone_aware_panic_threshold_at_exactly_half() -> None:
    """Envoy: "if the percentage of healthy hosts in the cluster becomes too low, Envoy will
    disregard health status and balance amongst all hosts. This is known as the panic threshold.
    The default panic threshold is 50%." Panic is ``healthy_percent < threshold``: at exactly 50%
    the cluster is not in panic."""
    cls, eps = zone_case(4, [0, 1, 2])
    b = make(cls, eps, ZoneAware().spec())
    half = [True, True, False, False] * 3  # 6 of 12 healthy: 50%
    b.set_health(half, [True] * 3)
    assert b.zone_mode(0) == 2
    assert {b.pick(0, 0) for _ in range(20)} == {0, 1}
    b.set_health([True, False, False, False] + [True, True, False, False] * 2, [True] * 3)  # 5 of 12
    assert b.zone_mode(0) == 1  # panic: every host, healthy or not
    assert {b.pick(0, 0) for _ in range(40)} == set(range(12))


def test_zone_aware_residual_routing() -> None:
    """Envoy: when "The originating cluster local zone percentage is greater than the one in the
    upstream cluster ... Envoy calculates the percentage of requests that can be routed directly to
    the local zone of the upstream cluster. The rest of the requests are routed cross zone. The
    specific zone is selected based on the residual capacity of the zone". Clients 4/1/1 over three
    zones (66.66%, 16.66%, 16.66% in Envoy's 1/10000 units: 6666, 1666, 1666), hosts 2/2/2 (3333
    each): zone 0 keeps 3333 x 10000 / 6666 = 5000 (half) locally; zones 1 and 2 each have 1667 of
    residual capacity and share the rest equally; zones 1 and 2 route locally outright."""
    cls, eps = zone_case(2, [0, 0, 0, 0, 1, 2])
    b = make(cls, eps, ZoneAware().spec(), seed=9)
    assert (b.zone_mode(0), b.zone_local_share(0)) == (3, 5000)
    assert (b.zone_mode(4), b.zone_local_share(4)) == (2, 10000)
    zones = Counter(eps[b.pick(0, 0)][1] for _ in range(20000))
    assert abs(zones[0] - 10000) < 300 and abs(zones[1] - zones[2]) < 300
    assert {eps[b.pick(4, 0)][1] for _ in range(100)} == {1}


def test_locality_ewma_prefers_its_zone_until_latency_says_otherwise() -> None:
    """Ours: new endpoints start at their tier's network RTT (placement prior), P2C over the
    client's zone, then one probe elsewhere taken only when its estimate x 2 is below the local
    choice's."""
    b = make([(0, 0)], [(0, 0), (1, 0), (2, 1), (3, 1)], LocalityEwma().spec(), seed=4)
    assert b.estimate(0, 0) == 2 * ONE_WAY[0] and b.estimate(0, 1) == 2 * ONE_WAY[1]
    assert b.estimate(0, 2) == 2 * ONE_WAY[2]
    assert {b.pick(0, 0) for _ in range(200)} <= {0, 1}
    for e in (0, 1):  # the zone turns slow: 50 ms samples
        b.sent(0, e)
        b.done(0, e, 0, 50 * MS)
    now = 50 * MS
    far = 0
    for _ in range(400):
        chosen = b.pick(0, now)
        cands = b.last_candidates()
        local = min(cands[:2], key=lambda e: (b.cost(0, e, now), e))  # a tie goes to the nearer tier: 0 same host
        probe = cands[2] if len(cands) == 3 else None
        if probe is not None and b.estimate(0, probe) * 2 < b.estimate(0, local):
            assert chosen == probe
            far += 1
        else:
            assert chosen == local
    assert far > 100  # about half the probes land in the other zone, and win
