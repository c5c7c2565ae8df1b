"""The balancers, each a small class saying whose rules it follows; all run inside the C++ event
loop (``csrc/mesh/balancer.cpp``), so a class here is only a name and parameters.

A user adds their own by composing the same parameters: :class:`Choice` samples ``choices``
endpoints (with or without replacement, from everywhere or from the client's zone first) and keeps
the one with the lowest ``metric`` (none, pending requests, peak EWMA) weighted by placement tier.
It runs at the engine's full speed. What is not offered is arbitrary Python called per request:
each pick would then take the GIL and a Python call, roughly a microsecond (an estimate, not
measured here), which would bring the simulation from millions of requests a second to well under
one million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from hyperplane.mesh.distributions import duration


def _positive(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: must be a finite number > 0, not {value!r}")


@dataclass(frozen=True)
class Balancer:
    """A balancer: ``name`` and what the engine needs (:meth:`spec`)."""

    name: ClassVar[str] = "balancer"

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Choice(Balancer):
    """Sample ``choices`` healthy endpoints and keep the one of lowest cost (ties: the nearer
    tier, then the earlier sample). Cost by ``metric``: ``"none"`` (the first sample: random),
    ``"pending"`` (this client's requests in flight to it), ``"peak-ewma"`` (RTT estimate x
    (pending + 1)); times ``tier_weight[tier]`` (same host, same AZ, cross AZ). ``local_first``:
    sample the client's own zone, then probe one endpoint elsewhere and take it only if its RTT
    estimate x its weight beats the local choice's. ``placement_prior``: a new endpoint's estimate
    is its tier's network RTT instead of ``default_rtt``. ``panic_threshold``: below this share
    of healthy endpoints, use all of them."""

    name: ClassVar[str] = "choice"
    choices: int = 2
    distinct: bool = True
    metric: str = "peak-ewma"
    local_first: bool = False
    tier_weight: tuple[float, float, float] = (1.0, 1.0, 1.0)
    placement_prior: bool = False
    default_rtt: str = "30ms"
    decay: str = "10s"
    panic_threshold: float = 0.0
    title: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.choices, bool) or not isinstance(self.choices, int) or self.choices < 1:
            raise ValueError(f"choices: must be an integer >= 1, not {self.choices!r}")
        if self.metric not in ("none", "pending", "peak-ewma"):
            raise ValueError(f"metric: must be 'none', 'pending' or 'peak-ewma', not {self.metric!r}")
        if len(self.tier_weight) != 3:
            raise ValueError(f"tier_weight: three weights (same host, same AZ, cross AZ), not {self.tier_weight!r}")
        for w in self.tier_weight:
            _positive(w, "tier_weight")
        for name in ("default_rtt", "decay"):
            if duration(getattr(self, name), name) <= 0:
                raise ValueError(f"{name}: must be > 0, not {getattr(self, name)!r}")
        if not 0 <= self.panic_threshold <= 1:
            raise ValueError(f"panic_threshold: must be in 0..1, not {self.panic_threshold!r}")

    @property
    def label(self) -> str:
        return self.title or self.name

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "choice", "choices": self.choices, "distinct": self.distinct, "metric": self.metric,
            "near_first": self.local_first, "tier_weight": tuple(float(w) for w in self.tier_weight),
            "placement_prior": self.placement_prior,
            "default_rtt_ns": duration(self.default_rtt, "default_rtt") * 1e9,
            "decay_ns": duration(self.decay, "decay") * 1e9, "panic_threshold": float(self.panic_threshold),
        }


ENVOY_PANIC = 0.5
"""Envoy: "The default panic threshold is 50%." (arch overview, Panic threshold)."""


@dataclass(frozen=True)
class RoundRobin(Balancer):
    """Envoy's weighted round robin with equal weights: "a simple policy in which each available
    upstream host is selected in round robin order" (arch overview, Supported load balancers);
    each client starts at its own offset; Envoy's 50% panic threshold."""

    name: ClassVar[str] = "round-robin"
    panic_threshold: float = ENVOY_PANIC

    def spec(self) -> dict[str, Any]:
        return {"kind": "round-robin", "panic_threshold": self.panic_threshold}


@dataclass(frozen=True)
class Random(Choice):
    """Envoy's random: "The random load balancer selects a random available host." (arch overview,
    Supported load balancers); Envoy's 50% panic threshold."""

    name: ClassVar[str] = "random"
    choices: int = 1
    metric: str = "none"
    panic_threshold: float = ENVOY_PANIC


@dataclass(frozen=True)
class LeastRequest(Choice):
    """Envoy's LEAST_REQUEST with equal weights. choice_count: "The number of random healthy hosts
    from which the host with the fewest active requests will be chosen. Defaults to 2 so that we
    perform two-choice selection if the field is not set." Samples are drawn independently."""

    name: ClassVar[str] = "least-request"
    choices: int = 2
    distinct: bool = False
    metric: str = "pending"
    panic_threshold: float = ENVOY_PANIC


@dataclass(frozen=True)
class P2cPeakEwma(Choice):
    """P2C over peak EWMA as Finagle, tower and linkerd2-proxy do it: two distinct samples, cost =
    RTT estimate x (pending + 1); a sample above the estimate replaces it ("For Peak-EWMA, always
    use the worst-case (peak) value as the estimate"), else it decays by exp(-elapsed/decay);
    reading the cost decays it towards 0 ("Updates with a 0 duration so that the estimate decays
    towards 0"); decay 10 s, default RTT 30 ms (linkerd2-proxy: ``EWMA_DEFAULT_RTT`` 30 ms,
    ``EWMA_DECAY`` 10 s). tower: "The Peak-EWMA algorithm is designed to be especially sensitive to
    worst-case latencies" ... "This is derived from Finagle"."""

    name: ClassVar[str] = "p2c-peak-ewma"


@dataclass(frozen=True)
class LocalityEwma(Choice):
    """Ours: P2C peak EWMA over the client's own zone, endpoints starting at their tier's network
    RTT (same host < same AZ), then one probe elsewhere, taken only when its RTT estimate is below
    the local choice's by ``cross_az_weight`` (2: an estimate, tuned by hand on examples/mesh_locality.py)."""

    name: ClassVar[str] = "locality-ewma"
    local_first: bool = True
    placement_prior: bool = True
    tier_weight: tuple[float, float, float] = (1.0, 1.0, 2.0)


@dataclass(frozen=True)
class ZoneAware(Balancer):
    """Envoy's zone aware routing over round robin: preconditions (no panic in either cluster, at
    least ``min_cluster_size`` healthy upstream hosts, default 6), then all requests to the local
    zone while its share of upstream hosts is at least the local cluster's, else that ratio of them
    and the rest to other zones by residual capacity."""

    name: ClassVar[str] = "zone-aware"
    min_cluster_size: int = 6
    panic_threshold: float = ENVOY_PANIC

    def __post_init__(self) -> None:
        if isinstance(self.min_cluster_size, bool) or not isinstance(self.min_cluster_size, int) or self.min_cluster_size < 0:
            raise ValueError(f"min_cluster_size: must be an integer >= 0, not {self.min_cluster_size!r}")
        if not 0 <= self.panic_threshold <= 1:
            raise ValueError(f"panic_threshold: must be in 0..1, not {self.panic_threshold!r}")

    def spec(self) -> dict[str, Any]:
        return {"kind": "zone-aware", "min_cluster_size": self.min_cluster_size, "panic_threshold": self.panic_threshold}


@dataclass(frozen=True)
class HostLocal(Balancer):
    """An endpoint on the client's own host when one is healthy (at random among them), else a
    healthy endpoint at random."""

    name: ClassVar[str] = "host-local"

    def spec(self) -> dict[str, Any]:
        return {"kind": "host-local"}


BALANCERS: dict[str, type[Balancer]] = {
    c.name: c for c in (RoundRobin, Random, LeastRequest, P2cPeakEwma, ZoneAware, HostLocal, LocalityEwma)
}
"""The shipped balancers by name, in the order compare() shows them."""


def balancer(value: str | Balancer) -> Balancer:
    """A balancer from its name or itself."""
    if isinstance(value, Balancer):
        return value
    if not isinstance(value, str) or value not in BALANCERS:
        raise ValueError(f"balancer: {value!r} is not one of {', '.join(BALANCERS)} or a hyperplane.mesh.Balancer")
    return BALANCERS[value]()


def parameters(b: Balancer) -> dict[str, Any]:
    """A balancer's parameters by name (for reports)."""
    return {f.name: getattr(b, f.name) for f in fields(b) if f.name != "title"}
