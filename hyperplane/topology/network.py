"""``hp.Network``: a region's VPCs as one model, and the door to its packet path.

The network holds configuration only (``resources.py``); ``process()`` hands batches to the packet
path (``path.py``), which builds the stages it needs from the configuration the first time it
meets a resource and keeps their state across calls. Pickling or deep-copying a network copies its
configuration and leaves the stages' state behind, so a scenario can be sent to a worker process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from hyperplane.packets import Batch
from hyperplane.stage import draw_seed
from hyperplane.topology.addresses import Cidr, address, dotted
from hyperplane.topology.resources import (
    NatGatewayResource,
    NetworkInterface,
    PlacementGroup,
    Subnet,
    Vpc,
    _prefix_ok,
)

if TYPE_CHECKING:
    from hyperplane.topology.explain import Explanation
    from hyperplane.topology.path import NetworkResult, Runtime


class Network:
    """The VPCs of one region (``region="us-east-1"``; zones are the region's name and a letter).

    ``seed`` (an integer) fixes every stage's hash keys and port choices (NAT gateways, connection
    trackers, ENA interfaces), so a run is reproducible; each resource's seed is drawn from it by
    position. Without one a seed is drawn and kept in ``seed`` (shown in the ``repr``): passing it
    back replays the run.
    """

    def __init__(self, region: str = "us-east-1", *, seed: int | None = None) -> None:
        if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            raise ValueError(f"region must be an AWS region name such as 'us-east-1', not {region!r}")
        self.region = region
        self.seed = draw_seed(seed)
        self.vpcs: list[Vpc] = []
        self.placement_groups: list[PlacementGroup] = []
        self._interfaces: list[NetworkInterface] = []
        self._public: set[int] = set()
        self._ids: dict[str, int] = {}
        self._runtime: Runtime | None = None

    # ---- building -------------------------------------------------------------------------

    @staticmethod
    def from_aws(docs: Mapping[str, Any], *, region: str | None = None, seed: int | None = None) -> Network:
        """A network from ``aws ec2 describe-*`` JSON (a mapping of their top-level keys: ``Vpcs``,
        ``Subnets``, ``RouteTables``, ...); see :mod:`hyperplane.topology.aws`."""
        from hyperplane.topology.aws import from_aws

        return from_aws(docs, region=region, seed=seed)

    @staticmethod
    def from_toml(text: str, *, seed: int | None = None) -> Network:
        """A network from the same documents written as TOML (plus an optional ``region``)."""
        from hyperplane.topology.aws import from_toml

        return from_toml(text, seed=seed)

    def add_vpc(self, cidr: str) -> Vpc:
        """A VPC with an IPv4 CIDR from /16 to /28; the model keeps VPC CIDRs from overlapping."""
        c = Cidr.parse(cidr, "cidr")
        _prefix_ok(c, f"VPC {c}")
        for v in self.vpcs:
            if v.cidr.overlaps(c):
                raise ValueError(f"VPC {c}: overlaps {v.id} ({v.cidr}); the model needs every address to name one resource")
        for p in self._public:
            if c.contains(p):
                raise ValueError(f"VPC {c}: contains the public address {dotted(p)}")
        v = Vpc(self, self._new_id("vpc"), c)
        self.vpcs.append(v)
        return v

    def add_placement_group(self, name: str, strategy: str = "cluster") -> PlacementGroup:
        if any(g.name == name for g in self.placement_groups):
            raise ValueError(f"placement group {name!r}: the network already has one of that name")
        g = PlacementGroup(self, name, strategy)
        self.placement_groups.append(g)
        return g

    def _new_id(self, kind: str) -> str:
        n = self._ids.get(kind, 0) + 1
        self._ids[kind] = n
        return f"{kind}-{n}"

    def _check_az(self, az: object, where: str) -> None:
        if not isinstance(az, str) or not re.fullmatch(re.escape(self.region) + r"[a-z]", az):
            raise ValueError(f"{where}: az must be a zone of {self.region} such as '{self.region}a', not {az!r}")

    def _claim_public(self, text: str, what: str) -> int:
        a = address(text, what)
        if a in self._public:
            raise ValueError(f"{what}: {text} is already in use in the network")
        for v in self.vpcs:
            if v.cidr.contains(a):
                raise ValueError(f"{what}: {text} is inside {v.id} ({v.cidr}), not a public address")
        self._public.add(a)
        return a

    # ---- looking around -------------------------------------------------------------------

    @property
    def subnets(self) -> Iterator[Subnet]:
        for v in self.vpcs:
            yield from v.subnets

    @property
    def interfaces(self) -> list[NetworkInterface]:
        return list(self._interfaces)

    @property
    def nat_gateways(self) -> list[NatGatewayResource]:
        return [g for s in self.subnets for g in s.nat_gateways]

    def advice(self) -> list[str]:
        """What AWS advises against in this topology: a subnet whose default route uses a NAT
        gateway in another zone (AWS: "create a NAT gateway in each Availability Zone, and configure
        your routing to ensure that resources use the NAT gateway in the same Availability Zone")."""
        out = []
        for s in self.subnets:
            for r in s.route_table.routes:
                t = r.target
                if r.cidr.prefix == 0 and isinstance(t, NatGatewayResource) and t.subnet.az != s.az:
                    out.append(f"{s.id} ({s.az}): default route uses {t.id} in {t.subnet.az}; AWS advises a NAT gateway per zone")
        return out

    # ---- packets --------------------------------------------------------------------------

    def _path(self) -> Runtime:
        if self._runtime is None:
            from hyperplane.topology.path import Runtime

            self._runtime = Runtime(self)
        return self._runtime

    def process(self, batch: Batch, *, out: Batch | None = None) -> NetworkResult:
        """Move every packet of ``batch`` (in order of time) through its hops; see
        :class:`hyperplane.topology.path.NetworkResult`. State carries over between calls.
        ``out=`` receives the packets as they arrive (it may be ``batch`` itself, to work in place);
        without it they are a new array and ``batch`` is left as it was."""
        return self._path().process(batch, out)

    @property
    def hops(self) -> list[str]:
        """Every hop's name, indexed by ``NetworkResult.hop``."""
        return self._path().hop_names()

    @property
    def counters(self) -> dict[str, dict[str, int]]:
        """Per hop: ``packets`` (in) = ``forwarded`` + every drop reason, over every call so far."""
        return self._path().counters()

    @property
    def cross_az(self) -> dict[tuple[str, str], dict[str, int]]:
        """Packets and IP bytes that crossed from one zone to another, by (from, to)."""
        return self._path().cross_az()

    def interface_counters(self, eni: NetworkInterface) -> dict[str, int]:
        """ENA's allowance counters of one interface: what its instance's allowances (shared by all the
        instance's interfaces) queued or dropped of its packets, a branch's on its trunk
        (``eni.carrier``); ``conntrack_*`` from its security groups' tracker."""
        return self._path().interface_counters(eni)

    def explain(
        self, src: str, dst: str, port: int, proto: str | int = "tcp", *, return_port: int | None = None
    ) -> Explanation:
        """The hops from ``src`` to ``dst`` for one tuple, and the first component that blocks it,
        as AWS's Reachability Analyzer answers; see :class:`hyperplane.topology.explain.Explanation`.
        With ``return_port`` (the client's ephemeral port) the reply is checked through the same
        network ACLs the other way (beyond a NAT gateway, the port it chose is not known: the same
        port stands for it)."""
        from hyperplane.topology.explain import explain

        return explain(self, src, dst, port, proto, return_port)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_runtime"] = None  # the stages' state stays behind; the configuration travels
        return state

    def __repr__(self) -> str:
        return f"Network({self.region!r}, vpcs={len(self.vpcs)}, interfaces={len(self._interfaces)}, seed={self.seed})"
