"""The ``ecs.*`` benchmark stages: placing 10,000 tasks on 1,000 container instances.

Each round builds a fresh cluster (untimed: 1,000 instances of the network model in three zones)
and times one ``create_service`` of 10,000 tasks, which places them all and creates what they
need in the model: host ports (``ecs.placement``, bridge mode, dynamic ports, spread over zones)
or one real interface each (``ecs.placement.awsvpc``, trunked c5.xlarge instances, 10 of their 20
branch ENIs each). The issue's goal is under a second for either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from hyperplane.bench.stage import Round, Stage
from hyperplane.bench.workloads import Workload
from hyperplane.ecs import Cluster, Container, TaskDefinition
from hyperplane.topology import Network

INSTANCES: Final = 1_000
TASKS: Final = 10_000
ZONES: Final = ("us-east-1a", "us-east-1b", "us-east-1c")


def build(mode: str, seed: int) -> tuple[Cluster, TaskDefinition]:
    """A cluster of ``INSTANCES`` c5.xlarge in three zones (trunked for awsvpc), and the task."""
    net = Network(seed=seed)
    vpc = net.add_vpc("10.0.0.0/16")
    subnets = [vpc.add_subnet(f"10.0.{64 * k}.0/18", az=z) for k, z in enumerate(ZONES)]
    c = Cluster(net, "bench")
    for k in range(INSTANCES):
        c.add_container_instance("c5.xlarge", subnet=subnets[k % 3], trunking=mode == "awsvpc")
    d = TaskDefinition("web", network_mode=mode, cpu=256, memory=256,  # type: ignore[arg-type]
                       containers=[Container("app", port_mappings=[(80, "tcp")])])
    return c, d


def place_round(mode: str, seed: int) -> float:
    c, d = build(mode, seed)
    start = time.perf_counter()
    svc = c.create_service("web", d, desired_count=TASKS, placement="spread:az")
    seconds = time.perf_counter() - start
    if svc.running_count != TASKS:
        raise RuntimeError(f"ecs benchmark: placed {svc.running_count} of {TASKS}")
    return seconds


def _placement(mode: str) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        return Round(lambda: place_round(mode, w.seed), TASKS)

    return prepare


def ecs_stages() -> list[Stage]:
    """The ``ecs.*`` stages (unit: tasks placed)."""
    return [
        Stage("ecs.placement", f"{TASKS:,} bridge tasks (dynamic ports) on {INSTANCES:,} c5.xlarge, spread:az",
              _placement("bridge"), unit="tasks"),
        Stage("ecs.placement.awsvpc", f"{TASKS:,} awsvpc tasks, one ENI each, on {INSTANCES:,} trunked c5.xlarge",
              _placement("awsvpc"), ("ecs.placement",), unit="tasks"),
    ]
