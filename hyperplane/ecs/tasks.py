"""What RunTask answers: tasks (where each runs, its addresses and host ports) and failures, in
the shape of ECS's API (``tasks``, ``failures`` with ``arn`` and ``reason``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from hyperplane.ecs.definitions import TaskDefinition
from hyperplane.topology.addresses import dotted
from hyperplane.topology.resources import Instance, NetworkInterface

if TYPE_CHECKING:
    from hyperplane.ecs.instance import ContainerInstance

LaunchType = Literal["EC2", "FARGATE"]


@dataclass(frozen=True)
class NetworkBinding:
    """ECS's ``networkBindings`` entry: where a container port is reached from outside the task."""

    container_name: str
    container_port: int
    host_port: int
    protocol: str
    bind_ip: str
    dynamic: bool = False


@dataclass(eq=False)
class Task:
    """A task: its definition, where it runs and how it is reached.

    ``interface`` is the task's own ENI (``awsvpc``, Fargate), a real interface of the network
    model with the task's security groups; ``bridge`` and ``host`` tasks have none and are
    reached at their instance's address and host ports (``bindings``)."""

    arn: str
    definition: TaskDefinition
    group: str
    launch_type: LaunchType
    az: str
    container_instance: ContainerInstance | None = None
    interface: NetworkInterface | None = None
    host: Instance | None = None
    """Fargate: the model's stand-in for the task's own host (its primary interface is ``interface``)."""
    bindings: list[NetworkBinding] = field(default_factory=list)
    bridge_ip: str | None = None
    """Bridge mode: the container's address on its instance's docker0 (not routable in the VPC)."""
    last_status: str = "RUNNING"
    stopped_reason: str | None = None

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def network_mode(self) -> str:
        return self.definition.network_mode

    @property
    def private_ip(self) -> str | None:
        """The task's own address (``awsvpc``), else None: bridge and host tasks have none."""
        return None if self.interface is None else dotted(self.interface.private_ip)

    def endpoint(self, container_port: int, protocol: str = "tcp") -> tuple[str, int]:
        """(address, port) at which traffic for ``container_port`` reaches the task."""
        for b in self.bindings:
            if b.container_port == container_port and b.protocol == protocol:
                return b.bind_ip, b.host_port
        raise ValueError(f"container_port: task {self.id} maps no {container_port}/{protocol}")

    def __repr__(self) -> str:
        where = self.container_instance.id if self.container_instance else "fargate"
        return f"Task({self.id[:8]}, {self.definition.name}, {self.network_mode}, {where}, {self.last_status})"


@dataclass(frozen=True)
class Failure:
    """ECS's ``failures`` entry: the resource that failed (a container instance's ARN, or the
    cluster's) and the reason, e.g. ``RESOURCE:ENI``."""

    arn: str
    reason: str
    detail: str = ""


@dataclass
class RunTaskResult:
    """RunTask's answer: the tasks started and, when some could not be, the failures."""

    tasks: list[Task]
    failures: list[Failure]
    closest: ContainerInstance | None = field(default=None, repr=False)
    """When tasks were left out: the instance that passed the most checks (ECS's "closest matching
    container-instance")."""
    closest_reason: str | None = field(default=None, repr=False)
