"""Availability over simulated weeks, event by event (a month takes well under a second).

Nodes alternate between up and down: times to failure and to repair are exponential with means
``node_mtbf_h`` and ``node_mttr_min`` (seeded). AZ outages and poison tenants (a tenant whose
traffic kills every node it lands on, for a repair time) add down intervals. A tenant is down
while every node of its shard is down; each failure of one of its nodes also breaks the flows
that node held (a ``1/shard`` share of them): for the time clients take to reconnect without
replication, for the time a failure takes to be noticed with it. Both times are estimates,
marked so in docs/fleet.md. Minutes lost are compared with 99.99% of the period (4.32 minutes
in 30 days).

The same draws are scored four ways: with and without replication, and with the fleet's
shuffle shards or with cell sharding (every tenant of a cell on all of its nodes, so a poison
tenant takes the whole cell down).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hyperplane.fleet.fleet import Fleet

SLA = 0.9999
"""The availability AWS commits to for NAT gateways and NLBs (docs/fleet.md)."""
RECONNECT_S = 60.0
"""Estimate: how long a client takes to notice a reset flow and reconnect."""
DETECT_S = 1.0
"""Estimate: how long a failed node's flows wait before their secondary takes them."""


@dataclass
class Scenario:
    days: float
    node_mtbf_h: float
    node_mttr_min: float
    seed: int
    az_outages: list[tuple[str, float, float]]
    poison_per_month: float


def _down_intervals(fleet: Fleet, s: Scenario, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """Each node's down intervals in minutes, from its own failures and the AZ outages."""
    horizon = s.days * 1440
    out: list[list[tuple[float, float]]] = []
    for node in fleet.nodes:
        t, spans = 0.0, []
        while True:
            t += rng.exponential(s.node_mtbf_h * 60)
            if t >= horizon:
                break
            repair = rng.exponential(s.node_mttr_min)
            spans.append((t, min(horizon, t + repair)))
            t += repair
        for az, start_h, minutes in s.az_outages:
            if az == node.az:
                spans.append((start_h * 60, min(horizon, start_h * 60 + minutes)))
        out.append(spans)
    return out


def _all_down(spans: list[list[tuple[float, float]]]) -> float:
    """Minutes during which every one of the nodes (their down intervals) is down."""
    events = sorted([(a, 1) for s in spans for a, _ in s] + [(b, -1) for s in spans for _, b in s])
    down, last, total, need = 0, 0.0, 0.0, len(spans)
    for t, d in events:
        if down >= need:
            total += t - last
        down += d
        last = t
    return total


def score(fleet: Fleet, s: Scenario, shards: list[list[int]], replication: bool,
          down: list[list[tuple[float, float]]], poison: list[tuple[float, int]]) -> dict[str, Any]:
    """Minutes lost and availability per tenant for one way of sharding and replicating."""
    spans = [list(d) for d in down]
    for at, p in poison:
        for k in shards[p]:
            spans[k].append((at, at + s.node_mttr_min))
    per_flow = (DETECT_S if replication else RECONNECT_S) / 60
    period = s.days * 1440
    lost = np.zeros(len(fleet.tenants))
    for i, shard in enumerate(shards):
        failures = sum(len(spans[k]) for k in shard)
        lost[i] = _all_down([spans[k] for k in shard]) + failures * per_flow / len(shard)
    availability = 1 - lost / period
    budget = (1 - SLA) * period
    return {"minutes_lost": lost, "availability": availability,
            "worst_minutes": float(lost.max()) if len(lost) else 0.0,
            "mean_minutes": float(lost.mean()) if len(lost) else 0.0,
            "tenants_over_budget": int((lost > budget).sum()), "budget_minutes": budget}


def availability(fleet: Fleet, *, days: float, node_mtbf_h: float, node_mttr_min: float, seed: int,
                 az_outages: list[tuple[str, float, float]] | None = None,
                 poison_per_month: float = 0.0) -> dict[str, Any]:
    """Per tenant minutes lost and availability, the fleet's way and the three others."""
    for name, value in (("days", days), ("node_mtbf_h", node_mtbf_h), ("node_mttr_min", node_mttr_min)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, not {value}")
    if poison_per_month < 0:
        raise ValueError(f"poison_per_month must not be negative, not {poison_per_month}")
    for az, _, _ in az_outages or []:
        if az not in fleet.azs:
            raise ValueError(f"az_outages: {az!r} is not one of {fleet.azs}")
    s = Scenario(days, node_mtbf_h, node_mttr_min, seed, list(az_outages or []), poison_per_month)
    rng = np.random.default_rng(seed)
    down = _down_intervals(fleet, s, rng)
    events = rng.poisson(poison_per_month * days / 30) if fleet.tenants else 0
    poison = [(float(rng.uniform(0, days * 1440)), int(rng.integers(len(fleet.tenants)))) for _ in range(events)]
    shuffle = [[fleet.node_of(n) for n in t.nodes] for t in fleet.tenants]
    cells = [[k for k, n in enumerate(fleet.nodes) if (n.az, n.cell) == (t.az, t.cell)] for t in fleet.tenants]
    out: dict[str, Any] = {"days": days, "sla": SLA, "poison_events": len(poison),
                           "node_failures": sum(len(d) for d in down), "tenants": [t.name for t in fleet.tenants]}
    for label, shards in (("shuffle", shuffle), ("cell", cells)):
        for replication in (True, False):
            out[f"{label}_sharding/{'replication' if replication else 'no_replication'}"] = score(
                fleet, s, shards, replication, down, poison)
    out["fleet"] = out[f"shuffle_sharding/{'replication' if fleet.replication else 'no_replication'}"]
    return out
