"""Task definitions as ECS registers them: containers, port mappings, a network mode, a size.

They are frozen dataclasses (they pickle and hash, so scenarios can carry them) and every check
ECS makes when a task definition is registered is made on construction, with a ``ValueError``
naming the field. Checks that depend on where a task runs (an instance's size, Fargate's sizes)
are made by the cluster (``cluster.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

NetworkMode = Literal["bridge", "host", "awsvpc", "none"]
NETWORK_MODES: Final[tuple[str, ...]] = get_args(NetworkMode)
"""ECS: "The valid values are none, bridge, awsvpc, and host. The default Docker network mode is
bridge." (Task definition parameters, Network Mode)."""

Protocol = Literal["tcp", "udp"]

EPHEMERAL_PORTS: Final = (32768, 61000)
"""Dynamic host ports, inclusive. ECS: "the Docker daemon tries to read the ephemeral port range
from /proc/sys/net/ipv4/ip_local_port_range (which is 32768–61000 on the latest Amazon
ECS-optimized AMI)" (Task definition parameters, hostPort)."""

RESERVED_PORTS: Final = (22, 2375, 2376, 51678, 51679, 51680)
"""Host ports a container instance never hands out. ECS: "The default reserved ports are 22 for
SSH, the Docker ports 2375 and 2376, and the Amazon ECS container agent port 51678" (Task
definition parameters, hostPort); later agents also reserve 51679 (the credentials endpoint) and
51680 (introspection), as the project's design lists (51678–51680)."""


@dataclass(frozen=True)
class PortMapping:
    """One mapping: ``host_port`` 0 asks for a dynamic host port (bridge mode)."""

    container_port: int
    host_port: int = 0
    protocol: Protocol = "tcp"

    def __post_init__(self) -> None:
        for name in ("container_port", "host_port"):
            v = getattr(self, name)
            low = 1 if name == "container_port" else 0
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 65535:
                raise ValueError(f"port_mappings: {name} must be an integer in {low}..65535, not {v!r}")
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"port_mappings: protocol must be 'tcp' or 'udp', not {self.protocol!r}")


def _mapping(m: object) -> PortMapping:
    if isinstance(m, PortMapping):
        return m
    if isinstance(m, int) and not isinstance(m, bool):
        return PortMapping(m)
    if isinstance(m, tuple) and len(m) == 2:
        return PortMapping(m[0], 0, m[1])
    if isinstance(m, tuple) and len(m) == 3:
        return PortMapping(m[0], m[1], m[2])
    raise ValueError(
        f"port_mappings: a mapping is (container_port, protocol) or (container_port, host_port, protocol), not {m!r}"
    )


@dataclass(frozen=True)
class Container:
    """A container definition: a name and its port mappings, each ``(port, "tcp")`` or
    ``(container_port, host_port, "tcp")`` (host port 0: dynamic)."""

    name: str
    port_mappings: Sequence[PortMapping | tuple[int, str] | tuple[int, int, str]] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, not {self.name!r}")
        object.__setattr__(self, "port_mappings", tuple(_mapping(m) for m in self.port_mappings))

    @property
    def mappings(self) -> tuple[PortMapping, ...]:
        return self.port_mappings  # type: ignore[return-value]  # normalised in __post_init__


@dataclass(frozen=True)
class TaskDefinition:
    """A task definition: ``network_mode`` (default ``bridge``, as ECS's), ``cpu`` in CPU units
    (1024 per vCPU) and ``memory`` in MiB, reserved on the instance for each task."""

    name: str
    network_mode: NetworkMode = "bridge"
    cpu: int = 256
    memory: int = 512
    containers: Sequence[Container] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, not {self.name!r}")
        if self.network_mode not in NETWORK_MODES:
            raise ValueError(f"network_mode must be one of {', '.join(NETWORK_MODES)}, not {self.network_mode!r}")
        for f in ("cpu", "memory"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{f} must be a positive integer ({'CPU units' if f == 'cpu' else 'MiB'}), not {v!r}")
        if self.memory < 4:
            raise ValueError("memory: ECS: 'The Docker daemon reserves a minimum of 4 MiB of memory for a container'")
        cs = tuple(self.containers)
        if not cs or not all(isinstance(c, Container) for c in cs):
            raise ValueError("containers must list at least one Container")
        names = [c.name for c in cs]
        if len(set(names)) != len(names):
            raise ValueError(f"containers: names must be distinct, not {names}")
        object.__setattr__(self, "containers", cs)
        maps = [m for c in cs for m in c.mappings]
        if self.network_mode == "none" and maps:
            raise ValueError(
                "port_mappings: network_mode 'none' refuses them. ECS: 'If the network mode is set to none, "
                "you can't specify port mappings in your container definitions, and the task's containers do "
                "not have external connectivity.'"
            )
        if self.network_mode in ("host", "awsvpc"):
            for m in maps:
                if m.host_port not in (0, m.container_port):
                    raise ValueError(
                        f"port_mappings: host_port {m.host_port} must be omitted or equal container_port "
                        f"{m.container_port} in {self.network_mode} mode (ECS: 'exposed container ports are mapped "
                        "directly ... so you cannot take advantage of dynamic host port mappings')"
                    )
        seen: set[tuple[int, str]] = set()
        for m in maps:
            # awsvpc: the task's containers share its ENI, so a container port is taken once
            key = (m.container_port if self.network_mode == "awsvpc" else self.host_port(m), m.protocol)
            if key[0] and key in seen:
                raise ValueError(f"port_mappings: {'container' if self.network_mode == 'awsvpc' else 'host'} port "
                                 f"{key[0]}/{key[1]} is mapped twice")
            seen.add(key)

    def host_port(self, m: PortMapping) -> int:
        """The host port a mapping takes on the instance, 0 for a dynamic one (bridge only)."""
        if self.network_mode == "host":
            return m.container_port
        if self.network_mode == "bridge":
            return m.host_port
        return 0

    @property
    def mappings(self) -> list[tuple[str, PortMapping]]:
        """Every (container name, mapping)."""
        return [(c.name, m) for c in self.containers for m in c.mappings]

    @property
    def static_ports(self) -> frozenset[tuple[int, str]]:
        """The (host port, protocol) pairs a task holds on its instance (host mode, static bridge)."""
        return frozenset((self.host_port(m), m.protocol) for _, m in self.mappings if self.host_port(m))

    @property
    def dynamic_ports(self) -> int:
        """How many dynamic host ports a task takes (bridge mappings without a host port)."""
        if self.network_mode != "bridge":
            return 0
        return sum(1 for _, m in self.mappings if m.host_port == 0)
