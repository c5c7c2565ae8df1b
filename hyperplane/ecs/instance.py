"""A container instance: an EC2 instance of the network model registered with a cluster, and the
resources ECS counts on it (CPU units, memory, host ports, task ENIs).

The resources are plain integers and sets so that placement (``placement.py``) can read a whole
cluster into arrays at once; the instance itself and every task ENI are the network model's own
(``hp.Network``), so traffic to a task takes the model's path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from hyperplane.ecs.definitions import EPHEMERAL_PORTS, RESERVED_PORTS
from hyperplane.ena.catalog import InstanceType
from hyperplane.topology.addresses import dotted
from hyperplane.topology.resources import Instance, NetworkInterface

if TYPE_CHECKING:
    from hyperplane.ecs.tasks import Task

CPU_UNITS_PER_VCPU: Final = 1024
"""ECS: "A container instance has 1,024 CPU units for every CPU core" (Service event messages,
Not enough CPU)."""

REGISTERED_MEMORY_FRACTION: Final = 7985 / 8192
"""Estimate: the share of installed memory the ECS agent registers. AWS's example: "an m4.large
instance has 8 GiB of installed memory ... This means that 7985 MiB are available for task
execution" (ECS Developer Guide, Container instance memory management; the same in AWS Batch's
Compute resource memory management). The platform and kernel overhead of that example (2.5 %) is
applied to every type; AWS publishes no other figure."""


def registered_memory(t: InstanceType, reserved_mib: int) -> int:
    """Memory in MiB the agent registers: installed memory less the overhead, less
    ``ECS_RESERVED_MEMORY`` (``reserved_mib``, default 0)."""
    return int(t.memory_gib * 1024 * REGISTERED_MEMORY_FRACTION) - reserved_mib


class ContainerInstance:
    """An EC2 instance in a cluster: its registered CPU and memory, ports and task ENIs in use."""

    def __init__(self, arn: str, instance: Instance, trunking: bool, trunk: NetworkInterface | None, reserved_mib: int) -> None:
        t = instance.instance_type
        self.arn, self.instance, self.trunking, self.trunk_interface = arn, instance, trunking, trunk
        self.id = arn.rsplit("/", 1)[-1]
        self.address = dotted(instance.private_ip)
        self.cpu = t.vcpus * CPU_UNITS_PER_VCPU
        self.memory = registered_memory(t, reserved_mib)
        if self.memory <= 0:
            raise ValueError(f"reserved_memory: {reserved_mib} MiB leaves nothing of a {t.name}'s memory")
        self.eni_limit = t.ecs_trunk_tasks if trunking else t.enis - 1
        """awsvpc tasks: ECS's "Task limit" (with trunking the table's; without, ENIs less the primary)."""
        self.cpu_used = 0
        self.memory_used = 0
        self.enis_used = 0
        self.ports: dict[str, set[int]] = {"tcp": set(RESERVED_PORTS), "udp": set(RESERVED_PORTS)}
        """Host ports in use by protocol: the reserved ones and every task's."""
        self.dynamic_used = {"tcp": 0, "udp": 0}
        self._next_dynamic = {"tcp": EPHEMERAL_PORTS[0], "udp": EPHEMERAL_PORTS[0]}
        self.tasks: list[Task] = []
        self.status = "ACTIVE"

    @property
    def az(self) -> str:
        return self.instance.az

    @property
    def instance_type(self) -> InstanceType:
        return self.instance.instance_type

    def dynamic_free(self, proto: str) -> int:
        """Ephemeral host ports still free for ``proto``."""
        return EPHEMERAL_PORTS[1] - EPHEMERAL_PORTS[0] + 1 - self.dynamic_used[proto]

    def take_dynamic(self, proto: str) -> int:
        """The next free ephemeral host port for ``proto``, in order, wrapping at the top."""
        lo, hi = EPHEMERAL_PORTS
        used, p = self.ports[proto], self._next_dynamic[proto]
        for _ in range(hi - lo + 1):
            if p > hi:
                p = lo
            if p not in used:
                used.add(p)
                self._next_dynamic[proto] = p + 1
                self.dynamic_used[proto] += 1
                return p
            p += 1
        raise RuntimeError(f"{self.id}: no dynamic host port left")  # placement checks dynamic_free first

    def release_port(self, port: int, proto: str, dynamic: bool) -> None:
        self.ports[proto].discard(port)
        if dynamic:
            self.dynamic_used[proto] -= 1

    def __repr__(self) -> str:
        return (
            f"ContainerInstance({self.id}, {self.instance_type.name}, {self.az}, tasks={len(self.tasks)}, "
            f"cpu={self.cpu_used}/{self.cpu}, memory={self.memory_used}/{self.memory}, "
            f"enis={self.enis_used}/{self.eni_limit})"
        )
