"""The ``mesh.*`` benchmark stages: simulated requests per second of wall time, one balancer each.

The workload is the issue's: nine web tasks calling nine api tasks over three AZs, a slow task
and an AZ outage (``examples/mesh/mesh_locality.toml``), 50,000 requests a second for 20 simulated
seconds (1M requests a round). Each round is one ``Mesh.simulate`` call timed end to end (the
configuration crossing into the core, the event loop with the GIL released, the latencies back as
an array). The issue's goal is 2M simulated requests a second on one core.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from hyperplane.bench.stage import Round, Stage
from hyperplane.bench.workloads import Workload
from hyperplane.mesh import BALANCERS, Mesh

RPS: Final = 50_000
SECONDS: Final = 20.0
SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "mesh" / "mesh_locality.toml"


def build() -> Mesh:
    """The benchmark's mesh: the example file's when present (a source tree), else the same one built here."""
    if SCENARIO.exists():
        from hyperplane.mesh.scenario import load

        return load(SCENARIO).mesh
    zones = ("us-east-1a", "us-east-1b", "us-east-1c")
    place = [(f"h{i}", zones[i % 3]) for i in range(9)]
    m = Mesh.from_placement({"web": place, "api": place}).slow("api", task=3, factor=10)
    return m.outage(az=zones[1], start="20s", end="40s")


def simulate_round(mesh: Mesh, balancer: str, seed: int) -> tuple[float, int]:
    start = time.perf_counter()
    r = mesh.simulate(client="web", server="api", rps=RPS, seconds=SECONDS, balancer=balancer, seed=seed)
    return time.perf_counter() - start, r.counts["sent"]


def _simulate(balancer: str) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        mesh = build()
        _, sent = simulate_round(mesh, balancer, w.seed)  # the count is the same every round (one seed)
        return Round(lambda: simulate_round(mesh, balancer, w.seed)[0], sent)

    return prepare


def mesh_stages() -> list[Stage]:
    """One ``mesh.<balancer>`` stage per shipped balancer (unit ``req``: simulated requests)."""
    what = f"{int(RPS * SECONDS):,} requests, 9 -> 9 tasks over 3 AZs, slow task, AZ outage"
    return [Stage(f"mesh.{name}", what, _simulate(name), unit="req") for name in BALANCERS]
