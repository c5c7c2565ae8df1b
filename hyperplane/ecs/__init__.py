"""ECS on the network model: clusters, container instances, task definitions, RunTask, services
and the four network modes (``docs/ecs.md``).

Split by idea: ``definitions`` (what ECS registers and checks), ``instance`` (what a container
instance counts), ``placement`` (where tasks go, over a whole cluster at once), ``cluster``
(RunTask, StopTask, instances), ``service`` (desired count, events, load-balancer targets),
``fargate`` (its sizes), ``bridge`` (docker0 and its port-mapping NAT), ``costs`` (each mode's
path measured), ``summary`` (the report).
"""

from hyperplane.ecs import bridge, costs
from hyperplane.ecs.cluster import Cluster
from hyperplane.ecs.definitions import EPHEMERAL_PORTS, NETWORK_MODES, RESERVED_PORTS, Container, PortMapping, TaskDefinition
from hyperplane.ecs.instance import CPU_UNITS_PER_VCPU, ContainerInstance, registered_memory
from hyperplane.ecs.placement import REASONS, STRATEGIES
from hyperplane.ecs.service import Service
from hyperplane.ecs.summary import ClusterSummary, InstanceSummary
from hyperplane.ecs.tasks import Failure, NetworkBinding, RunTaskResult, Task

__all__ = [
    "CPU_UNITS_PER_VCPU",
    "EPHEMERAL_PORTS",
    "NETWORK_MODES",
    "REASONS",
    "RESERVED_PORTS",
    "STRATEGIES",
    "Cluster",
    "ClusterSummary",
    "Container",
    "ContainerInstance",
    "Failure",
    "InstanceSummary",
    "NetworkBinding",
    "PortMapping",
    "RunTaskResult",
    "Service",
    "Task",
    "TaskDefinition",
    "bridge",
    "costs",
    "registered_memory",
]
