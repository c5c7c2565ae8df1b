"""Where ECS puts tasks: the checks of every container instance and the placement strategies,
over a whole cluster at once.

A cluster's free resources are read into arrays once per call; each task is then one pass of
whole-array comparisons (CPU, memory, host ports, ENIs, attributes) and one ``argmin`` over a
strategy's score, so placing 10,000 tasks on 1,000 instances stays well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np
import numpy.typing as npt

from hyperplane.ecs.definitions import TaskDefinition
from hyperplane.ecs.instance import ContainerInstance

Strategy = Literal["spread:az", "binpack:cpu", "binpack:memory"]
STRATEGIES: Final[tuple[str, ...]] = get_args(Strategy)
"""ECS (Task placement strategies): ``spread:az`` "distributes tasks evenly across Availability Zones
and then distributes tasks evenly across the instances within each Availability Zone"; binpack
"Place[s] tasks based on the least available amount of CPU or memory"."""

REASONS: Final = ("ATTRIBUTE", "RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:PORTS", "RESOURCE:ENI")
"""ECS's placement failure reasons, in the order the model checks them (the first that fails is
an instance's reason). ECS: "RESOURCE:* (container instance ID) The resource or resources
requested by the task are unavailable on the given container instance" and "ATTRIBUTE (container
instance ID) Your task definition contains a parameter that requires a specific container
instance attribute that is not available on your container instances" (API failures messages)."""

_BIG: Final = np.int64(1) << 62


def check_strategy(placement: object) -> Strategy:
    if placement not in STRATEGIES:
        raise ValueError(f"placement must be one of {', '.join(STRATEGIES)}, not {placement!r}")
    return placement  # type: ignore[return-value]


@dataclass
class Placement:
    """The instance chosen for each task placed (indices into the call's instances), and when
    some could not be placed, each instance's reason (an index into :data:`REASONS`)."""

    chosen: list[int]
    reasons: npt.NDArray[np.int64] | None

    def closest(self) -> int:
        """The instance that passed the most checks (ECS's "closest matching container-instance")."""
        assert self.reasons is not None
        return int(np.argmax(self.reasons))


def place(
    instances: Sequence[ContainerInstance],
    defn: TaskDefinition,
    count: int,
    strategy: Strategy,
    group_counts: Sequence[int],
    attribute_ok: npt.NDArray[np.bool_],
) -> Placement:
    """Choose an instance for each of ``count`` tasks of ``defn``; stop at the first that fits
    nowhere. ``group_counts`` are each instance's tasks of the same group (service or family),
    which ``spread:az`` evens out by zone and then by instance."""
    n = len(instances)
    cpu_free = np.array([ci.cpu - ci.cpu_used for ci in instances], dtype=np.int64)
    mem_free = np.array([ci.memory - ci.memory_used for ci in instances], dtype=np.int64)
    eni_free = np.array([ci.eni_limit - ci.enis_used for ci in instances], dtype=np.int64)
    static = defn.static_ports
    port_ok = np.array([not any(p in ci.ports[proto] for p, proto in static) for ci in instances], dtype=bool)
    need_dyn = {proto: sum(1 for _, m in defn.mappings if m.host_port == 0 and m.protocol == proto)
                for proto in ("tcp", "udp")} if defn.network_mode == "bridge" else {}
    dyn_free = {proto: np.array([ci.dynamic_free(proto) for ci in instances], dtype=np.int64)
                for proto, k in need_dyn.items() if k}
    need_eni = 1 if defn.network_mode == "awsvpc" else 0
    zones = sorted({ci.az for ci in instances})
    az = np.array([zones.index(ci.az) for ci in instances], dtype=np.int64)
    grp = np.array(group_counts, dtype=np.int64)
    az_cnt = np.bincount(az, weights=grp, minlength=len(zones)).astype(np.int64)
    def fits() -> tuple[npt.NDArray[np.bool_], list[npt.NDArray[np.bool_]]]:
        """Where a task fits now, and each check's result (in REASONS order)."""
        ports = port_ok.copy()
        for proto, free in dyn_free.items():
            ports &= free >= need_dyn[proto]
        checks = [attribute_ok, cpu_free >= defn.cpu, mem_free >= defn.memory, ports, eni_free >= need_eni]
        return np.logical_and.reduce(checks), checks

    ok, _ = fits()
    left = int(ok.sum())
    chosen: list[int] = []
    for _ in range(count):
        if left == 0:
            # each instance's reason: the first check it fails, in REASONS order
            _, checks = fits()
            stage = np.full(n, len(checks) - 1, dtype=np.int64)
            for k in range(len(checks) - 2, -1, -1):
                stage[~checks[k]] = k
            return Placement(chosen, stage)
        if strategy == "spread:az":
            score = az_cnt[az] * (n + count + 1) + grp
        elif strategy == "binpack:cpu":
            score = cpu_free
        else:
            score = mem_free
        i = int(np.argmin(np.where(ok, score, _BIG)))
        chosen.append(i)
        cpu_free[i] -= defn.cpu
        mem_free[i] -= defn.memory
        eni_free[i] -= need_eni
        if static:
            port_ok[i] = False
        still = bool(port_ok[i]) and cpu_free[i] >= defn.cpu and mem_free[i] >= defn.memory and eni_free[i] >= need_eni
        for proto, free in dyn_free.items():
            free[i] -= need_dyn[proto]
            still = still and free[i] >= need_dyn[proto]
        if not still:
            ok[i] = False
            left -= 1
        grp[i] += 1
        az_cnt[az[i]] += 1
    return Placement(chosen, None)
