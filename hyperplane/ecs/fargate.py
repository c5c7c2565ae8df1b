"""Fargate's task sizes: the CPU and memory pairs Fargate runs, checked before a task starts.

Fargate tasks use ``awsvpc`` only and get one ENI each; there are no container instances, so
placement never fails for lack of them.
"""

from __future__ import annotations

from typing import Final

from hyperplane.ecs.definitions import TaskDefinition

SIZES: Final[dict[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
"""Task CPU units -> the memory values (MiB) Fargate accepts with it. ECS Developer Guide, Task
definition parameters, Task size (the Fargate table of the era): 256 (.25 vCPU) with 512 MiB,
1 GB or 2 GB; 512 with 1-4 GB; 1024 with 2-8 GB; 2048 with 4-16 GB; 4096 with 8-30 GB, each in
1 GB steps."""


def check(defn: TaskDefinition) -> None:
    """``ValueError`` naming the field when ``defn`` cannot run on Fargate."""
    if defn.network_mode != "awsvpc":
        raise ValueError(
            f"network_mode: Fargate requires 'awsvpc', not {defn.network_mode!r} (ECS: 'If using the Fargate "
            "launch type, the awsvpc network mode is required.')"
        )
    if defn.cpu not in SIZES:
        raise ValueError(f"cpu: Fargate takes {', '.join(map(str, SIZES))} CPU units, not {defn.cpu}")
    if defn.memory not in SIZES[defn.cpu]:
        raise ValueError(
            f"memory: Fargate takes {SIZES[defn.cpu][0]}..{SIZES[defn.cpu][-1]} MiB (in the table's steps) with cpu "
            f"{defn.cpu}, not {defn.memory}"
        )
