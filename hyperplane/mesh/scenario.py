"""A mesh scenario file (TOML): the services' placement, latency, service times, slow tasks,
outages, the load and the balancers to compare. Mesh runs are request-level, not packet-level,
so they are not a kind of ``hyperplane.scenario`` (whose kinds take packet batches); this reads
its own small format and names the file and key in every error.

    [mesh]                      # description = "..."
    latency = { same_host = "50us", same_az = "250us", cross_az = "1.2ms", jitter = "lognormal:0.3" }
    [[mesh.service]]            # name, tasks = [["host", "az"], ...]; service_time, concurrency, queue
    [[mesh.slow]]               # service, task, factor
    [[mesh.outage]]             # az or service + task; start, end
    [run]                       # client, server, rps, seconds, seed, timeout, retries, health_delay, down,
                                # request_bytes, response_bytes, balancers = ["p2c-peak-ewma", ...]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperplane.mesh.balancers import BALANCERS
from hyperplane.mesh.compare import Comparison, compare
from hyperplane.mesh.model import Mesh

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RUN_KEYS = {"client", "server", "rps", "seconds", "seed", "timeout", "retries", "health_delay", "down",
            "request_bytes", "response_bytes", "balancers"}


@dataclass
class MeshScenario:
    """A scenario file, read: the mesh, the run's arguments and the balancers."""

    path: Path
    description: str
    mesh: Mesh
    run: dict[str, Any]
    balancers: list[str]

    def compare(self, **override: Any) -> Comparison:
        """Every balancer of the file on the same arrivals; ``override`` replaces run keys (seconds=...)."""
        kw = {**self.run, **override}
        return compare(self.mesh, balancers=self.balancers, **kw)


def _table(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{where}: [{key}] must be a table")
    return value


def _tables(doc: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{where}: [[{key}]] must be an array of tables")
    return value


def _call(where: str, fn: Callable[..., Any], **kw: Any) -> Any:
    try:
        return fn(**kw)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None


def load(path: str | Path) -> MeshScenario:
    """Read and check a mesh scenario file."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{p}: {e}") from None
    unknown = set(doc) - {"mesh", "run"}
    if unknown:
        raise ValueError(f"{p}: unknown table(s) {', '.join(sorted(unknown))}; a mesh file has [mesh] and [run]")
    mesh_t = _table(doc, "mesh", str(p))
    services = _tables(mesh_t, "service", f"{p}: mesh")
    placement: dict[str, list[tuple[str, str]]] = {}
    for k, s in enumerate(services):
        where = f"{p}: mesh.service[{k}]"
        bad = set(s) - {"name", "tasks", "service_time", "concurrency", "queue"}
        if bad:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(bad))}")
        if not isinstance(s.get("name"), str) or not isinstance(s.get("tasks"), list):
            raise ValueError(f"{where}: needs name = \"...\" and tasks = [[host, az], ...]")
        placement[s["name"]] = [tuple(t) if isinstance(t, list) else t for t in s["tasks"]]
    mesh = _call(f"{p}: mesh.service", Mesh.from_placement, placement=placement)
    latency = _table(mesh_t, "latency", f"{p}: mesh")
    _call(f"{p}: mesh.latency", mesh.latency, **latency)
    for k, s in enumerate(services):
        extra = {key: s[key] for key in ("concurrency", "queue") if key in s}
        if "service_time" in s or extra:
            _call(f"{p}: mesh.service[{k}]", mesh.service_time, service=s["name"],
                  distribution=s.get("service_time", "lognormal:median=2ms,sigma=0.5"), **extra)
    for k, s in enumerate(_tables(mesh_t, "slow", f"{p}: mesh")):
        _call(f"{p}: mesh.slow[{k}]", mesh.slow, **s)
    for k, o in enumerate(_tables(mesh_t, "outage", f"{p}: mesh")):
        _call(f"{p}: mesh.outage[{k}]", mesh.outage, **o)
    run = dict(_table(doc, "run", str(p)))
    bad = set(run) - RUN_KEYS
    if bad:
        raise ValueError(f"{p}: run: unknown key(s) {', '.join(sorted(bad))}")
    for key in ("client", "server", "rps", "seconds"):
        if key not in run:
            raise ValueError(f"{p}: run: {key} is required")
    balancers = run.pop("balancers", list(BALANCERS))
    if not isinstance(balancers, list) or not all(isinstance(b, str) and b in BALANCERS for b in balancers):
        raise ValueError(f"{p}: run.balancers: a list of {', '.join(BALANCERS)}")
    return MeshScenario(p, str(mesh_t.get("description", "")), mesh, run, balancers)
