"""The mesh simulation end to end: determinism, the same arrivals for every balancer, conservation
of requests, exact latencies when nothing is random, timeouts and refusals in an outage, cross-AZ
bytes and their cost, the ECS placement, and bad configuration named in the error."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane import _core
from hyperplane.mesh import Choice, Mesh, compare
from tests.ecs_fixtures import cluster, defn

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def nine() -> Mesh:
    place = [(f"h{i}", ZONES[i % 3]) for i in range(9)]
    return Mesh.from_placement({"web": place, "api": place})


def test_same_seed_same_result_and_other_seed_differs() -> None:
    m = nine().slow("api", task=3, factor=10).outage(az=ZONES[1], start="1s", end="2s")
    kw = dict(client="web", server="api", rps=20_000, seconds=3, balancer="p2c-peak-ewma")
    a, b, c = m.simulate(seed=7, **kw), m.simulate(seed=7, **kw), m.simulate(seed=8, **kw)
    assert a.counts == b.counts and a.load() == b.load() and a.cross_az_bytes == b.cross_az_bytes
    assert np.array_equal(a.latencies_s, b.latencies_s)
    assert not np.array_equal(a.latencies_s[:1000], c.latencies_s[:1000])


def test_every_balancer_sees_the_same_arrivals() -> None:
    cmp = compare(nine(), client="web", server="api", rps=10_000, seconds=2, seed=3)
    assert len({r.counts["sent"] for r in cmp.results}) == 1
    assert [r.balancer for r in cmp.results] == list(hp.mesh.BALANCERS)


@pytest.mark.parametrize("down", ["drop", "refuse"])
def test_requests_are_conserved(down: str) -> None:
    """sent = completed + timed out + failed, through slow tasks, an AZ outage (clients included),
    short timeouts and full queues; attempts = requests a client took + retries."""
    m = nine().slow("api", task=3, factor=20).outage(az=ZONES[0], start="0.5s", end="1.5s")
    m.service_time("api", "lognormal:median=2ms,sigma=0.8", concurrency=4, queue=20)
    for name in hp.mesh.BALANCERS:
        r = m.simulate(client="web", server="api", rps=15_000, seconds=2, balancer=name, seed=1, timeout="20ms",
                       retries=1, health_delay="200ms", down=down)
        c, a = r.counts, r.attempts
        assert c["sent"] == c["completed"] + c["timed_out"] + c["failed"]
        assert a["attempts"] == c["sent"] + a["retries"]
        assert a["attempt_timeouts"] + a["attempt_failures"] == a["retries"] + c["timed_out"] + c["failed"]
        assert len(r.latencies_s) == c["completed"]
        assert sum(r.load().values()) == a["attempts"]
        assert c["timed_out"] + c["failed"] > 0


def test_latency_is_exact_without_randomness() -> None:
    """Fixed service time, no jitter, light load: every request takes out + service + back."""
    m = Mesh.from_placement({"web": [("h1", "a")], "api": [("h1", "a"), ("h2", "a"), ("h3", "b")]})
    m.latency(same_host="50us", same_az="250us", cross_az="1ms", jitter="none").service_time("api", "fixed:2ms")
    r = m.simulate(client="web", server="api", rps=50, seconds=2, balancer="host-local", seed=1)
    q = r.latency()
    assert q["p50"] == pytest.approx(2.1e-3, abs=2e-9) and q["p999"] == pytest.approx(2.1e-3, abs=2e-9)
    assert r.cross_az_bytes == 0 and r.cross_az_cost_usd == 0
    r = m.simulate(client="web", server="api", rps=50, seconds=2, balancer="round-robin", seed=1)
    assert set(np.round(r.latencies_s * 1e6).astype(int)) == {2100, 2500, 4000}


def test_cross_az_bytes_and_cost() -> None:
    """Every attempt's request bytes and every response's bytes across zones. AWS, EC2 On-Demand
    Pricing, "Data Transfer within the same AWS Region": "Data transferred "in" to and "out" from
    Amazon EC2, ... and Elastic Network Interfaces across Availability Zones in the same AWS Region
    is charged at $0.01/GB in each direction." A crossing byte pays leaving one zone and entering
    the other: $0.02/GB."""
    m = Mesh.from_placement({"web": [("h1", "a")], "api": [("h2", "b")]})
    r = m.simulate(client="web", server="api", rps=1000, seconds=2, seed=1, request_bytes=1000, response_bytes=9000)
    assert r.cross_az_fraction == 1.0
    assert r.cross_az_bytes == r.attempts["attempts"] * 1000 + r.counts["completed"] * 9000
    assert r.cross_az_cost_usd == pytest.approx(r.cross_az_bytes / 1e9 * 0.02)
    assert hp.mesh.cross_az_cost_usd(10**9) == pytest.approx(0.02)


def test_outage_drops_until_the_balancers_notice() -> None:
    """Down tasks drop requests (timeouts) until the health delay passes; refused, they fail fast.
    Requests in service when a task goes down are lost either way."""
    m = Mesh.from_placement({"web": [("h1", "a")], "api": [("h2", "a"), ("h3", "b")]})
    m.outage(service="api", task=0, start="0.5s", end="3s")
    kw = dict(client="web", server="api", rps=2000, seconds=3, balancer="round-robin", seed=1, retries=0,
              timeout="50ms", health_delay="1s")
    dropped = m.simulate(**kw)
    assert 0 < dropped.counts["timed_out"] <= 1000 + 10 and dropped.counts["failed"] == 0
    refused = m.simulate(down="refuse", **kw)
    # only the few in service at the moment it went down are lost and time out
    assert refused.counts["timed_out"] < 10 and refused.counts["failed"] > 0
    healthy = m.simulate(**{**kw, "health_delay": "0s"})
    assert healthy.counts["timed_out"] < 20


def test_mesh_from_an_ecs_cluster() -> None:
    """The ECS model's placement: each service's tasks on their container instances, in their AZs."""
    _, _, _, c = cluster("c5.xlarge", 3, zones=3)
    c.create_service("web", defn(name="web"), 3)
    c.create_service("api", defn(name="api"), 6)
    m = Mesh(c)
    for name in ("web", "api"):
        got = [(t.host, t.az) for t in m.services[name]]
        assert got == [(t.container_instance.id, t.az) for t in c.services[name].tasks]  # type: ignore[union-attr]
    assert len({t.az for t in m.services["api"]}) == 3
    r = m.simulate(client="web", server="api", rps=2000, seconds=1, balancer="locality-ewma")
    assert r.counts["completed"] == r.counts["sent"]


def test_a_users_own_balancer() -> None:
    """Composed from the engine's parameters: three choices, fewest pending, same-AZ preferred."""
    mine = Choice(choices=3, metric="pending", tier_weight=(1.0, 1.0, 3.0), title="mine")
    r = nine().simulate(client="web", server="api", rps=10_000, seconds=1, balancer=mine)
    assert r.balancer == "mine" and r.counts["completed"] == r.counts["sent"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda m: m.simulate(client="web", server="api", rps=0, seconds=1), "rps"),
        (lambda m: m.simulate(client="web", server="api", rps=10, seconds=-1), "seconds"),
        (lambda m: m.simulate(client="web", server="api", rps=10, seconds=1, timeout="0s"), "timeout"),
        (lambda m: m.simulate(client="web", server="api", rps=10, seconds=1, retries=-1), "retries"),
        (lambda m: m.simulate(client="web", server="api", rps=10, seconds=1, down="maybe"), "down"),
        (lambda m: m.simulate(client="web", server="api", rps=10, seconds=1, balancer="fastest"), "balancer"),
        (lambda m: m.simulate(client="www", server="api", rps=10, seconds=1), "client"),
        (lambda m: m.simulate(client="web", server="db", rps=10, seconds=1), "server"),
        (lambda m: m.service_time("api", "lognormal:median=fast,sigma=0.5"), "service_time"),
        (lambda m: m.service_time("api", "lognormal:median=2ms,sigma=-1"), "service_time"),
        (lambda m: m.service_time("api", "2ms", concurrency=0), "concurrency"),
        (lambda m: m.slow("api", task=9, factor=2), "task"),
        (lambda m: m.slow("api", task=1, factor=0), "factor"),
        (lambda m: m.latency(same_az="250"), "same_az"),
        (lambda m: m.latency(jitter="normal:0.3"), "jitter"),
        (lambda m: m.outage(az="us-east-1z", start="1s", end="2s"), "az"),
        (lambda m: m.outage(az=ZONES[0], start="2s", end="1s"), "end"),
        (lambda m: Choice(choices=0), "choices"),
        (lambda m: Choice(metric="fastest"), "metric"),
        (lambda m: Choice(tier_weight=(1.0, 0.0, 1.0)), "tier_weight"),
        (lambda m: Choice(decay="0s"), "decay"),
        (lambda m: hp.mesh.ZoneAware(panic_threshold=2), "panic_threshold"),
        (lambda m: Mesh.from_placement({}), "placement"),
        (lambda m: Mesh.from_placement({"api": [("h1",)]}), "placement"),
    ],
)
def test_bad_configuration_names_the_field(call: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        call(nine())  # type: ignore[operator]


def test_engine_refuses_unknown_fields_and_bad_values() -> None:
    args = nine().engine_args("web", "api", hp.mesh.P2cPeakEwma(), {"rps": 10.0, "duration_ns": 10**9})
    with pytest.raises(ValueError, match="unknown field speed"):
        _core.mesh_simulate(**{**args, "balancer": {**args["balancer"], "speed": 1}})
    with pytest.raises(ValueError, match="rps"):
        _core.mesh_simulate(**{**args, "load": {"rps": -1.0}})
    with pytest.raises(TypeError, match="retries"):
        _core.mesh_simulate(**{**args, "load": {"retries": "two"}})
    with pytest.raises(ValueError, match="outage"):
        _core.mesh_simulate(**{**args, "down": [(99, False, 0, 10)]})
