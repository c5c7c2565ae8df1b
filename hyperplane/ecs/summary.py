"""``cluster.summary()``: what a cluster holds, per instance and in total, as one table.

A report object rather than a string so tests and notebooks read the numbers; ``str()`` prints
the table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hyperplane.ecs.definitions import NETWORK_MODES, RESERVED_PORTS

if TYPE_CHECKING:
    from hyperplane.ecs.cluster import Cluster
    from hyperplane.ecs.costs import PathCost


@dataclass(frozen=True)
class InstanceSummary:
    """One container instance: tasks by network mode, resources used of registered, task ENIs
    used of ECS's limit, host ports held by tasks (the reserved ones left out)."""

    id: str
    instance_type: str
    az: str
    trunking: bool
    tasks: dict[str, int]
    cpu: tuple[int, int]
    memory: tuple[int, int]
    enis: tuple[int, int]
    ports: int


@dataclass(frozen=True)
class ClusterSummary:
    name: str
    instances: list[InstanceSummary]
    fargate_tasks: int
    failures: dict[str, int] = field(default_factory=dict)
    """Every failure reported so far (RunTask and services), by ECS reason."""
    costs: dict[str, PathCost] = field(default_factory=dict)
    """Per mode, the path's cost measured on the same traffic (``summary(client=...)``)."""

    @property
    def tasks_by_mode(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for i in self.instances:
            total.update(i.tasks)
        total["awsvpc"] += self.fargate_tasks
        return {m: total[m] for m in NETWORK_MODES}

    def __str__(self) -> str:
        head = ["instance", "type", "az", "trunk", *NETWORK_MODES, "cpu", "memory MiB", "task ENIs", "ports"]
        rows = [[i.id[:12], i.instance_type, i.az, "yes" if i.trunking else "no", *(str(i.tasks[m]) for m in NETWORK_MODES),
                 f"{i.cpu[0]}/{i.cpu[1]}", f"{i.memory[0]}/{i.memory[1]}", f"{i.enis[0]}/{i.enis[1]}", str(i.ports)]
                for i in self.instances]
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        lines = [f"cluster {self.name}: " + ", ".join(f"{m} {n}" for m, n in self.tasks_by_mode.items())
                 + (f" (Fargate {self.fargate_tasks})" if self.fargate_tasks else "")]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head, *rows]]
        fails = ", ".join(f"{r} {n}" for r, n in sorted(self.failures.items())) or "none"
        lines.append(f"failures by reason: {fails}")
        for m, p in self.costs.items():
            lines.append(f"path {m}: {p.ns_per_packet:.0f} ns/packet in the engine, {p.latency_us:.1f} us added, "
                         f"{p.delivered:.0%} delivered ({p.tasks} tasks)")
        return "\n".join(lines)


def summarize(c: Cluster, costs: dict[str, PathCost]) -> ClusterSummary:
    rows = []
    for ci in c.container_instances:
        modes = Counter(t.network_mode for t in ci.tasks)
        held = sum(len(ports - set(RESERVED_PORTS)) for ports in ci.ports.values())
        rows.append(InstanceSummary(
            ci.id, ci.instance_type.name, ci.az, ci.trunking, {m: modes[m] for m in NETWORK_MODES},
            (ci.cpu_used, ci.cpu), (ci.memory_used, ci.memory), (ci.enis_used, ci.eni_limit), held,
        ))
    fargate = sum(1 for t in c.tasks if t.launch_type == "FARGATE")
    return ClusterSummary(c.name, rows, fargate, dict(c.failures), costs)
