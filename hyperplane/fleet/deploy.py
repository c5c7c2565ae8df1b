"""Staged deployments: a change goes out in waves, each baked under canary traffic and gated on
the health of the nodes it reached; a failed gate rolls back every node the change touched.

AWS deploys Hyperplane "in a staggered fashion" (docs/fleet.md): one node, one cell, one AZ,
then the rest. A wave here is a set of nodes; baking runs the fleet's canary flows (every
tenant, in its own AZ) through the fleet for ``bake_s`` of packet time, one batch a minute, and
the gate compares the drop rate (the fleet's ``PacketsDropCount`` per packet) on the wave's
nodes with ``max_drop_rate``. The report says per wave what was exposed: nodes, tenants and
live connections, against the whole fleet had the change gone out at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hyperplane.fleet.canary import canary_batch
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.fleet.fleet import Fleet

WAVES = ("one-node", "one-cell", "one-az", "rest")
"""The default waves, smallest first, after AWS's staggered deployments."""
MINUTE_NS = 60 * 10**9


@dataclass(frozen=True)
class Change:
    """A change to deploy: ``drop_fraction`` of a node's packets dropped once it runs it (0 for a
    good configuration change)."""

    name: str
    drop_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_fraction <= 1.0:
            raise ValueError(f"drop_fraction must be in 0..1, not {self.drop_fraction}")


@dataclass
class Wave:
    name: str
    nodes: list[str]
    tenants: int
    connections: int
    canary_packets: int
    canary_drops: int
    drop_rate: float
    passed: bool


@dataclass
class Deployment:
    change: Change
    waves: list[Wave] = field(default_factory=list)
    rolled_back: bool = False
    finished_ns: int = 0
    all_at_once: dict[str, int] = field(default_factory=dict)
    """What the same change would have reached deployed everywhere at once: nodes, tenants, connections."""

    @property
    def exposed(self) -> dict[str, int]:
        """Nodes, tenants and connections the change reached before it was stopped (or finished)."""
        nodes = sorted({n for w in self.waves for n in w.nodes})
        return {"nodes": len(nodes), "tenants": max((w.tenants for w in self.waves), default=0),
                "connections": max((w.connections for w in self.waves), default=0)}


def wave_nodes(fleet: Fleet, waves: list[str]) -> list[list[int]]:
    """Node indices newly reached by each named wave (each wave includes the ones before it)."""
    up = [k for k, n in enumerate(fleet.nodes) if n.up]
    if not up:
        raise ValueError("no node is up to deploy to")
    # The first node is the one carrying the most tenants: a wave no canary crosses proves nothing.
    carried = {k: 0 for k in up}
    for t in fleet.tenants:
        for name in t.nodes:
            if fleet.node_of(name) in carried:
                carried[fleet.node_of(name)] += 1
    start = max(up, key=lambda k: (carried[k], -k))
    first = fleet.nodes[start]
    scopes = {
        "one-node": [start],
        "one-cell": [k for k in up if (fleet.nodes[k].az, fleet.nodes[k].cell) == (first.az, first.cell)],
        "one-az": [k for k in up if fleet.nodes[k].az == first.az],
        "rest": up,
    }
    out, done = [], set()
    for w in waves:
        if w not in scopes:
            raise ValueError(f"waves: {w!r} is not one of {', '.join(WAVES)}")
        new = [k for k in scopes[w] if k not in done]
        done |= set(new)
        out.append(new)
    return out


def _reach(fleet: Fleet, nodes: set[int], per_node: npt.NDArray[np.int64]) -> tuple[int, int]:
    names = {fleet.nodes[k].name for k in nodes}
    tenants = sum(1 for t in fleet.tenants if names & set(t.nodes))
    return tenants, int(per_node[list(nodes)].sum()) if nodes else 0


def deploy(fleet: Fleet, change: Change, waves: list[str], bake_s: float, *, start_ns: int,
           max_drop_rate: float = 0.001, flows_per_tenant: int = 8) -> Deployment:
    """Deploy ``change`` wave by wave from ``start_ns`` (packet time), baking each ``bake_s``."""
    if bake_s <= 0:
        raise ValueError(f"bake_s must be positive, not {bake_s}")
    if not 0 <= max_drop_rate < 1:
        raise ValueError(f"max_drop_rate must be in 0..1, not {max_drop_rate}")
    report = Deployment(change)
    per_node = fleet.connections_per_node()
    everything = {k for k, n in enumerate(fleet.nodes) if n.up}
    tenants, conns = _reach(fleet, everything, per_node)
    report.all_at_once = {"nodes": len(everything), "tenants": tenants, "connections": conns}
    reached: set[int] = set()
    t = start_ns
    minutes = max(1, round(bake_s * 1e9 / MINUTE_NS))
    for name, new in zip(waves, wave_nodes(fleet, waves)):
        reached |= set(new)
        fleet.fault[new] = change.drop_fraction
        before_p, before_d = fleet.node_packets.copy(), fleet.node_drops.copy()
        for m in range(minutes):
            fleet.process(canary_batch(fleet, t + m * MINUTE_NS, flows_per_tenant))
        t += minutes * MINUTE_NS
        idx = sorted(reached)
        packets = int((fleet.node_packets - before_p)[idx].sum())
        drops = int((fleet.node_drops - before_d)[idx].sum())
        rate = drops / packets if packets else 0.0
        tenants, conns = _reach(fleet, reached, per_node)
        passed = rate <= max_drop_rate
        report.waves.append(Wave(name, [fleet.nodes[k].name for k in idx], tenants, conns, packets, drops, rate,
                                 passed))
        if not passed:
            fleet.fault[idx] = 0.0  # roll back everything the change reached
            report.rolled_back = True
            break
    report.finished_ns = t
    return report


def summary(report: Deployment) -> dict[str, Any]:
    """The deployment as plain numbers, per wave and against all at once."""
    return {"change": report.change.name, "rolled_back": report.rolled_back,
            "waves": [vars(w) | {"nodes": len(w.nodes)} for w in report.waves],
            "exposed": report.exposed, "all_at_once": report.all_at_once,
            "verdict_dropped": Verdict.DROP_NODE_FAULT.name}
