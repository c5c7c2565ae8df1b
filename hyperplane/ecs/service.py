"""An ECS service: keep the desired count of tasks running, say in ECS's words why not, and keep
the load balancer's targets in step with the tasks.

The service scheduler is a reconcile step run when the service is created and whenever the
cluster changes under it (an instance removed): place what is missing, record the events ECS
would show (newest first, as DescribeServices returns them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperplane.ecs.definitions import TaskDefinition
from hyperplane.ecs.placement import Strategy
from hyperplane.ecs.tasks import LaunchType, Task
from hyperplane.topology.resources import Instance, LoadBalancerResource, NetworkInterface, SecurityGroup, Subnet

if TYPE_CHECKING:
    from hyperplane.ecs.cluster import Cluster

UNABLE = "was unable to place a task because no container instance met all of its requirements."
"""ECS's service event (Service event messages), and after it the closest instance's cause:"""
CLOSEST = {
    "RESOURCE:CPU": "The closest matching container-instance {ci} has insufficient CPU units available.",
    "RESOURCE:MEMORY": "The closest matching container-instance {ci} has insufficient memory available.",
    "RESOURCE:PORTS": "The closest matching container-instance {ci} is already using a port required by your task.",
    "RESOURCE:ENI": 'The closest matching container-instance {ci} encountered error "RESOURCE:ENI".',
    "ATTRIBUTE": "The closest matching container-instance {ci} is missing an attribute required by your task.",
}
"""The CPU and port texts are ECS's own ("has insufficient CPU units available", "is already
using a port required by your task"); memory follows the CPU text; ENI and ATTRIBUTE follow the
form ECS uses for an error reason ('encountered error "AGENT"')."""


class Service:
    """A service of a cluster (``Cluster.create_service``): ``running_count`` of ``desired_count``,
    ``events`` in ECS's words, ``tasks``; ``set_desired_count`` scales it."""

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        definition: TaskDefinition,
        desired_count: int,
        placement: Strategy,
        launch_type: LaunchType,
        subnets: list[Subnet] | None,
        security_groups: list[SecurityGroup] | None,
        load_balancer: LoadBalancerResource | None,
        container_name: str | None,
        container_port: int | None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, not {name!r}")
        self._check_count(desired_count)
        self.cluster, self.name, self.definition = cluster, name, definition
        self.desired_count, self.placement, self.launch_type = desired_count, placement, launch_type
        self.subnets, self.security_groups = subnets, security_groups
        self.load_balancer = load_balancer
        self.tasks: list[Task] = []
        self.events: list[str] = []
        self.targets: dict[str, tuple[Instance | NetworkInterface, int]] = {}
        """Each task's load-balancer target (task id -> (instance or ENI, port))."""
        if load_balancer is not None:
            if not isinstance(load_balancer, LoadBalancerResource):
                raise TypeError(f"load_balancer must be a network load balancer of the model, not {type(load_balancer).__name__}")
            maps = [(n, m) for n, m in definition.mappings if m.protocol == "tcp"]
            match = [(n, m) for n, m in maps if (container_name is None or n == container_name)
                     and (container_port is None or m.container_port == container_port)]
            if len(match) != 1:
                raise ValueError(
                    f"container_port: the load balancer needs one container and port of {definition.name} "
                    f"(container_name=, container_port=); the task maps {[(n, m.container_port) for n, m in maps]}"
                )
            self.container_name: str | None = match[0][0]
            self.container_port: int | None = match[0][1].container_port
        else:
            self.container_name, self.container_port = container_name, container_port

    @staticmethod
    def _check_count(n: object) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"desired_count must be a non-negative integer, not {n!r}")

    @property
    def running_count(self) -> int:
        return len(self.tasks)

    @property
    def group(self) -> str:
        return f"service:{self.name}"

    def _event(self, text: str) -> None:
        self.events.insert(0, f"service ({self.name}) {text}")

    def set_desired_count(self, n: int, *, at_ns: int = 0) -> None:
        """UpdateService's desiredCount: start or stop tasks to reach ``n``."""
        self._check_count(n)
        self.desired_count = n
        self._reconcile(at_ns)

    def _reconcile(self, at_ns: int) -> None:
        """Start what is missing (as many as fit) and stop what is over, then say so."""
        c = self.cluster
        while len(self.tasks) > self.desired_count:
            t = self.tasks[-1]
            c.stop_task(t, reason="Scaling activity initiated by (deployment)", at_ns=at_ns)
            self._event(f"has stopped 1 running tasks: (task {t.id}).")
        started: list[Task] = []
        missing = self.desired_count - len(self.tasks)
        reason_text = None
        while missing > 0:
            res = c._start(self.definition, missing, self.launch_type, self.placement,
                           self.subnets, self.security_groups, self.group)
            started += res.tasks
            self.tasks += res.tasks
            missing -= len(res.tasks)
            if res.failures:
                if res.closest is not None and res.closest_reason is not None:
                    reason_text = f"{UNABLE} " + CLOSEST[res.closest_reason].format(ci=res.closest.id)
                else:
                    reason_text = f"{UNABLE} Reason: No Container Instances were found in your cluster."
                break
        for t in started:
            self._register(t)
        if started:
            self._event(f"has started {len(started)} tasks: " + " ".join(f"(task {t.id})" for t in started) + ".")
            if self.load_balancer is not None:
                self._event(f"registered {len(started)} targets in (load balancer {self.load_balancer.id})")
        if reason_text is not None:
            self._event(reason_text)
        elif len(self.tasks) == self.desired_count:
            self._event("has reached a steady state.")

    def _register(self, t: Task) -> None:
        lb = self.load_balancer
        if lb is None or self.container_port is None:
            return
        if t.interface is not None:  # awsvpc and Fargate: an ip target, the task's own address
            target: Instance | NetworkInterface = t.interface
            port = self.container_port
        else:  # bridge and host: an instance target with the host port
            assert t.container_instance is not None
            target = t.container_instance.instance
            port = next(b.host_port for b in t.bindings
                        if b.container_name == self.container_name and b.container_port == self.container_port)
        lb.register_target(target, port)
        self.targets[t.id] = (target, port)

    def _forget(self, t: Task, at_ns: int) -> None:
        """A task of the service is stopping: deregister its target first."""
        if t.id in self.targets and self.load_balancer is not None:
            target, port = self.targets.pop(t.id)
            self.load_balancer.deregister_target(target, port, at_ns=at_ns)
        self.tasks.remove(t)

    def __repr__(self) -> str:
        return f"Service({self.name!r}, {self.definition.name}, running={self.running_count}/{self.desired_count})"
