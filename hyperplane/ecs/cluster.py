"""An ECS cluster on the network model: container instances, RunTask, StopTask, services.

The cluster adds ECS's bookkeeping (CPU units, memory, ports, task ENIs) to the network model's
instances; it creates real interfaces for ``awsvpc`` tasks (with the task's security groups, so
``net.process`` enforces them per task) and leaves ``bridge`` and ``host`` tasks on their
instance's interface. Placement is ``placement.py``'s, over the whole cluster at once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np

from hyperplane.ecs import fargate
from hyperplane.ecs.bridge import DOCKER0, TaskTraffic
from hyperplane.ecs.definitions import TaskDefinition
from hyperplane.ecs.instance import ContainerInstance
from hyperplane.ecs.placement import REASONS, Placement, Strategy, check_strategy, place
from hyperplane.ecs.tasks import Failure, LaunchType, NetworkBinding, RunTaskResult, Task
from hyperplane.ena.catalog import InstanceType
from hyperplane.ena.catalog import instance_type as _lookup
from hyperplane.packets import Batch
from hyperplane.topology.addresses import dotted
from hyperplane.topology.network import Network
from hyperplane.topology.resources import Instance, LoadBalancerResource, SecurityGroup, Subnet

if TYPE_CHECKING:
    from hyperplane.ecs.service import Service
    from hyperplane.ecs.summary import ClusterSummary
    from hyperplane.nat import NatGateway

ACCOUNT: Final = "123456789012"
"""The account in ARNs (the AWS documentation's example account)."""

MAX_RUN_TASK: Final = 10
"""ECS RunTask: "count: The number of instantiations of the specified task to place on your
cluster. You can specify up to 10 tasks for each call." (ECS API Reference, RunTask)."""

FARGATE_HOST: Final = "c5.large"
"""Estimate: the allowances (bandwidth, packet rate, connections) a Fargate task's ENI gets in the
model. AWS publishes no network figures for Fargate; a c5.large's are the model's stand-in."""


class Cluster:
    """An ECS cluster in ``net``: ``add_container_instance``, ``run_task``, ``create_service``."""

    def __init__(self, net: Network, name: str, *, fargate_host: str | InstanceType = FARGATE_HOST) -> None:
        if not isinstance(net, Network):
            raise TypeError(f"net must be an hp.Network, not {type(net).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, not {name!r}")
        self.net, self.name = net, name
        self.arn = f"arn:aws:ecs:{net.region}:{ACCOUNT}:cluster/{name}"
        self.fargate_host = fargate_host if isinstance(fargate_host, InstanceType) else _lookup(fargate_host)
        self.container_instances: list[ContainerInstance] = []
        self.tasks: list[Task] = []
        self.services: dict[str, Service] = {}
        self.failures: Counter[str] = Counter()
        """Every failure reported so far (RunTask and services), by reason."""
        self.bridge_counters: dict[str, dict[str, int]] = {}
        """Per docker0 hop (``<container instance id>/docker0``): packets = forwarded + drops."""
        self.masquerades: dict[str, NatGateway] = {}
        """Per container instance (by id), its docker0 MASQUERADE stage, once a container of it has
        opened a connection (``bridge.py``)."""
        self._serial = 0
        self._bridge_next = DOCKER0.base + 2

    def _id(self) -> str:
        """A 32-hex-digit id as ECS's, drawn from the cluster's name and a counter (reproducible)."""
        self._serial += 1
        return hashlib.blake2b(f"{self.arn}/{self._serial}".encode(), digest_size=16).hexdigest()

    # ---- container instances --------------------------------------------------------------

    def add_container_instance(
        self,
        instance_type: str | InstanceType,
        *,
        subnet: Subnet,
        trunking: bool = False,
        security_groups: Sequence[SecurityGroup] | None = None,
        reserved_memory: int = 0,
    ) -> ContainerInstance:
        """Launch an instance of ``instance_type`` in ``subnet`` and register it (EC2 launch type).

        ``trunking=True`` is ECS's ``awsvpcTrunking``: the instance gets a trunk interface and the
        increased limit of the type's row in ECS's trunking table (``ecs_trunk_tasks``; a type the
        table does not list is refused). ``reserved_memory`` is the agent's ``ECS_RESERVED_MEMORY``
        (MiB, default 0)."""
        t = instance_type if isinstance(instance_type, InstanceType) else _lookup(instance_type)
        if not isinstance(subnet, Subnet):
            raise TypeError(f"subnet must be a Subnet of the network, not {type(subnet).__name__}")
        if subnet.vpc.network is not self.net:
            raise ValueError(f"subnet: {subnet.id} belongs to another network")
        if not isinstance(trunking, bool):
            raise TypeError(f"trunking must be True or False, not {trunking!r}")
        if isinstance(reserved_memory, bool) or not isinstance(reserved_memory, int) or reserved_memory < 0:
            raise ValueError(f"reserved_memory must be a non-negative integer (MiB), not {reserved_memory!r}")
        if trunking:
            if t.ecs_trunk_tasks == 0:
                raise ValueError(
                    f"trunking: {t.name} is not in ECS's table of instance types that support ENI trunking "
                    f"({t.sources['ecs_trunk_tasks']})"
                )
            # ECS: "a c5.large instance with awsvpcTrunking enabled has an increased ENI limit of twelve":
            # the primary, the trunk and one branch per task.
            t = t.with_overrides(enis=t.ecs_trunk_tasks + 2)
        inst = subnet.add_instance(t, security_groups=security_groups)
        trunk = inst.add_network_interface(security_groups=inst.primary_interface.security_groups) if trunking else None
        ci = ContainerInstance(
            f"arn:aws:ecs:{self.net.region}:{ACCOUNT}:container-instance/{self.name}/{self._id()}",
            inst, trunking, trunk, reserved_memory,
        )
        self.container_instances.append(ci)
        return ci

    def remove_container_instance(self, ci: ContainerInstance, *, at_ns: int = 0) -> list[Task]:
        """Deregister and terminate ``ci``: its tasks stop (services deregister them from their load
        balancers, draining from ``at_ns``, and start replacements elsewhere). Returns the tasks stopped."""
        if ci not in self.container_instances:
            raise ValueError(f"container instance {ci.id} is not in cluster {self.name}")
        stopped = [t for t in list(ci.tasks)]
        for t in stopped:
            self.stop_task(t, reason="Container instance deregistration forced by user", at_ns=at_ns)
        ci.status = "INACTIVE"
        self.container_instances.remove(ci)
        ci.instance.subnet.remove_instance(ci.instance)
        for svc in self.services.values():
            svc._reconcile(at_ns)
        return stopped

    # ---- tasks ----------------------------------------------------------------------------

    def run_task(
        self,
        definition: TaskDefinition,
        count: int = 1,
        *,
        launch_type: LaunchType = "EC2",
        placement: Strategy = "spread:az",
        subnets: Sequence[Subnet] | None = None,
        security_groups: Sequence[SecurityGroup] | None = None,
        group: str | None = None,
    ) -> RunTaskResult:
        """ECS RunTask: place ``count`` (1 to 10) tasks of ``definition``; the answer has the tasks
        started and, for those that fit nowhere, each container instance's reason.

        ``subnets`` and ``security_groups`` are the ``awsvpc`` network configuration (an EC2 task's
        ENI goes in the listed subnet of its instance's zone, by default the instance's own;
        Fargate needs ``subnets``). ``group`` defaults to ``family:<name>``."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_RUN_TASK:
            raise ValueError(
                f"count must be 1..{MAX_RUN_TASK} (ECS: 'You can specify up to 10 tasks for each call'), not {count!r}"
            )
        return self._start(definition, count, launch_type, placement, subnets, security_groups,
                           group or f"family:{definition.name}")

    def _start(
        self,
        defn: TaskDefinition,
        count: int,
        launch_type: LaunchType,
        placement: Strategy,
        subnets: Sequence[Subnet] | None,
        security_groups: Sequence[SecurityGroup] | None,
        group: str,
    ) -> RunTaskResult:
        if not isinstance(defn, TaskDefinition):
            raise TypeError(f"definition must be a TaskDefinition, not {type(defn).__name__}")
        strategy = check_strategy(placement)
        if launch_type == "FARGATE":
            fargate.check(defn)
        subnet_list = None if subnets is None else list(subnets)
        if subnet_list is not None and (not subnet_list or not all(isinstance(s, Subnet) for s in subnet_list)):
            raise ValueError("subnets must list at least one Subnet")
        if defn.network_mode != "awsvpc" and (subnets is not None or security_groups is not None):
            raise ValueError(
                f"subnets: a network configuration is for awsvpc tasks only, not {defn.network_mode!r} "
                "(their containers use the instance's interface and security groups)"
            )
        if launch_type == "FARGATE":
            if subnet_list is None:
                raise ValueError("subnets: Fargate tasks need a network configuration (ECS: 'you must specify a "
                                 "NetworkConfiguration when you create a service or run a task')")
            return RunTaskResult([self._fargate_task(defn, subnet_list, security_groups, group) for _ in range(count)], [])
        if launch_type != "EC2":
            raise ValueError(f"launch_type must be 'EC2' or 'FARGATE', not {launch_type!r}")
        cis = [ci for ci in self.container_instances if ci.status == "ACTIVE"]
        if not cis:
            self.failures["MISSING"] += 1
            return RunTaskResult([], [Failure(self.arn, "MISSING", "No Container Instances were found in your cluster.")])
        for f, unit in (("cpu", "CPU units"), ("memory", "MiB")):
            largest = max(cis, key=lambda ci: getattr(ci, f))
            if getattr(defn, f) > getattr(largest, f):
                raise ValueError(
                    f"{f}: {getattr(defn, f)} {unit} is above every container instance of cluster {self.name} "
                    f"(the largest registers {getattr(largest, f)}, a {largest.instance_type.name})"
                )
        chosen_subnet = [self._task_subnet(ci, subnet_list) if defn.network_mode == "awsvpc" else None for ci in cis]
        attribute_ok = np.array([defn.network_mode != "awsvpc" or s is not None for s in chosen_subnet], dtype=bool)
        counts = [sum(1 for t in ci.tasks if t.group == group) for ci in cis]
        p: Placement = place(cis, defn, count, strategy, counts, attribute_ok)
        started = [self._ec2_task(defn, cis[i], chosen_subnet[i], security_groups, group) for i in p.chosen]
        failures: list[Failure] = []
        if p.reasons is not None:
            for ci, r in zip(cis, p.reasons):
                reason = REASONS[int(r)]
                failures.append(Failure(ci.arn, reason))
                self.failures[reason] += 1
        result = RunTaskResult(started, failures)
        if p.reasons is not None:
            result.closest = cis[p.closest()]
            result.closest_reason = REASONS[int(p.reasons[p.closest()])]
        return result

    def _task_subnet(self, ci: ContainerInstance, subnets: list[Subnet] | None) -> Subnet | None:
        """The subnet of an awsvpc task's ENI on ``ci``: the listed one in its zone and VPC, or its own."""
        if subnets is None:
            return ci.instance.subnet
        return next((s for s in subnets if s.az == ci.az and s.vpc is ci.instance.subnet.vpc), None)

    def _arn(self) -> str:
        return f"arn:aws:ecs:{self.net.region}:{ACCOUNT}:task/{self.name}/{self._id()}"

    def _ec2_task(
        self,
        defn: TaskDefinition,
        ci: ContainerInstance,
        subnet: Subnet | None,
        security_groups: Sequence[SecurityGroup] | None,
        group: str,
    ) -> Task:
        task = Task(self._arn(), defn, group, "EC2", ci.az, container_instance=ci)
        ci.cpu_used += defn.cpu
        ci.memory_used += defn.memory
        host_ip = ci.address
        if defn.network_mode == "awsvpc":
            assert subnet is not None
            task.interface = ci.instance.add_network_interface(
                subnet=subnet, security_groups=security_groups, trunk=ci.trunk_interface
            )
            ci.enis_used += 1
        if defn.network_mode == "bridge":
            if self._bridge_next >= DOCKER0.last:
                raise ValueError(f"cluster {self.name}: no docker0 address left for another bridge task")
            task.bridge_ip = dotted(self._bridge_next)
            self._bridge_next += 1
        for name, m in defn.mappings:
            if defn.network_mode == "awsvpc":
                assert task.interface is not None
                b = NetworkBinding(name, m.container_port, m.container_port, m.protocol, dotted(task.interface.private_ip))
            else:
                hp = defn.host_port(m)
                dynamic = hp == 0
                if dynamic:
                    hp = ci.take_dynamic(m.protocol)
                else:
                    ci.ports[m.protocol].add(hp)
                b = NetworkBinding(name, m.container_port, hp, m.protocol, host_ip, dynamic)
            task.bindings.append(b)
        ci.tasks.append(task)
        self.tasks.append(task)
        return task

    def _fargate_task(
        self, defn: TaskDefinition, subnets: list[Subnet], security_groups: Sequence[SecurityGroup] | None, group: str
    ) -> Task:
        """One Fargate task: an ENI of its own in the listed subnet whose zone has the fewest of the group."""
        load = {s.az: sum(1 for t in self.tasks if t.group == group and t.az == s.az and t.last_status == "RUNNING")
                for s in subnets}
        subnet = min(subnets, key=lambda s: load[s.az])
        host = subnet.add_instance(self.fargate_host, security_groups=security_groups)
        task = Task(self._arn(), defn, group, "FARGATE", subnet.az, interface=host.primary_interface, host=host)
        ip = dotted(host.private_ip)
        task.bindings = [NetworkBinding(n, m.container_port, m.container_port, m.protocol, ip) for n, m in defn.mappings]
        self.tasks.append(task)
        return task

    def stop_task(self, task: Task, *, reason: str = "Task stopped by user", at_ns: int = 0) -> None:
        """ECS StopTask: release the task's CPU, memory, host ports and ENI (services deregister it
        from their load balancer first, draining from ``at_ns``)."""
        if task.last_status != "RUNNING" or task not in self.tasks:
            raise ValueError(f"task {task.id} is not running in cluster {self.name}")
        for svc in self.services.values():
            if task in svc.tasks:
                svc._forget(task, at_ns)
        ci = task.container_instance
        if ci is not None:
            ci.cpu_used -= task.definition.cpu
            ci.memory_used -= task.definition.memory
            for b in task.bindings:
                if task.network_mode in ("bridge", "host"):
                    ci.release_port(b.host_port, b.protocol, b.dynamic)
            if task.interface is not None:
                ci.instance.detach_network_interface(task.interface)
                ci.enis_used -= 1
            ci.tasks.remove(task)
        elif task.host is not None:
            task.host.subnet.remove_instance(task.host)
        task.last_status, task.stopped_reason = "STOPPED", reason
        self.tasks.remove(task)

    # ---- traffic --------------------------------------------------------------------------

    def process(self, batch: Batch) -> TaskTraffic:
        """``net.process`` with bridge mode's extra hop: containers' packets (from their docker0
        address and a mapped port) leave through docker0 as their instance's address and host port,
        and packets the path delivers to a mapped host port go on through docker0 to the container
        (``bridge.py``). Other packets are the network's alone."""
        from hyperplane.ecs.bridge import process

        return process(self, batch)

    # ---- services and reports -------------------------------------------------------------

    def create_service(
        self,
        name: str,
        definition: TaskDefinition,
        desired_count: int,
        *,
        placement: Strategy = "spread:az",
        launch_type: LaunchType = "EC2",
        subnets: Sequence[Subnet] | None = None,
        security_groups: Sequence[SecurityGroup] | None = None,
        load_balancer: LoadBalancerResource | None = None,
        container_name: str | None = None,
        container_port: int | None = None,
    ) -> Service:
        """An ECS service keeping ``desired_count`` tasks running, placed by ``placement``; with a
        ``load_balancer`` (an NLB of the network) each task is registered as a target: its own
        address and ``container_port`` (awsvpc), its instance and host port (bridge, host)."""
        from hyperplane.ecs.service import Service

        if name in self.services:
            raise ValueError(f"name: cluster {self.name} already has a service {name!r}")
        svc = Service(self, name, definition, desired_count, check_strategy(placement), launch_type,
                      None if subnets is None else list(subnets),
                      None if security_groups is None else list(security_groups),
                      load_balancer, container_name, container_port)
        self.services[name] = svc
        svc._reconcile(0)
        return svc

    def summary(self, *, client: Instance | None = None, packets: int = 20_000) -> ClusterSummary:
        """Tasks per instance by mode, ENIs used of the limit, host ports in use, failures by reason;
        with ``client`` (an instance of the network), each mode's path cost measured on the same
        ``packets`` from it (``costs.py``)."""
        from hyperplane.ecs.costs import path_costs
        from hyperplane.ecs.summary import summarize

        return summarize(self, {} if client is None else path_costs(self, client, packets=packets))

    def __repr__(self) -> str:
        return f"Cluster({self.name!r}, instances={len(self.container_instances)}, tasks={len(self.tasks)})"
