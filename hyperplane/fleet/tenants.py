"""A tenant of the fleet: a NAT gateway, a Network Load Balancer or an EFS mount target.

A tenant's traffic is split into ``shard_size`` slots by a flow hash, one slot per node of its
shuffle shard. A slot is one engine stage (NatGateway, NetworkLoadBalancer, or ConnTrack for a
mount target's NFS flows) whose configuration depends only on the tenant and the slot: a NAT
slot gives out only its slice of the public ports (``port_slice``), so a reply's port names its
slot. Because a slot's stage is the same wherever it runs, moving a slot to another node is an
``export_state()`` / ``import_state()`` with nothing to translate: its connections keep their
public ports and targets (docs/fleet.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hyperplane.conntrack import ConnTrack, Timeouts
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import Batch
from hyperplane.stage import ImportResult


class SlotStage(Protocol):
    """What the fleet asks of a slot's stage (NatGateway, NetworkLoadBalancer, ConnTrack)."""

    def process(self, batch: Batch, *, out: Batch | None = ...,
                verdict_out: npt.NDArray[np.uint8] | None = ...) -> tuple[Any, ...]: ...
    def export_state(self) -> npt.NDArray[np.void]: ...
    def import_state(self, state: npt.NDArray[np.void]) -> ImportResult: ...
    def __len__(self) -> int: ...


KINDS = ("nat-gateway", "nlb", "efs")
"""What the fleet hosts, after AWS's list of Hyperplane's users (docs/fleet.md)."""
NFS_PORT = 2049
"""EFS: "NFS port 2049" is the port mount targets take NFS traffic on (docs/fleet.md)."""


def _address(text: str, what: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


@dataclass
class Tenant:
    """One tenant: its kind, AZ and cell, its shard (node names) and its addresses."""

    name: str
    kind: str
    az: str
    cell: int
    index: int
    seed: int
    nodes: list[str]
    """The tenant's shuffle shard: its slot ``j`` is first served by ``nodes[j]``."""
    addresses: list[int]
    """Addresses packets are sent to: NAT public addresses, the NLB's node, the mount target."""
    private_networks: list[tuple[int, int]] = field(default_factory=list)
    """NAT: (first, last) address of each private network whose sources it translates."""
    make_slot: Callable[[int], SlotStage] = field(repr=False, default=lambda j: ConnTrack(1))
    probe: tuple[int, int, int] = (0, 443, 6)
    """Where canary flows go: (address, port, protocol); address 0 means the tenant's own."""

    @property
    def slots(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"Tenant({self.name}, {self.kind}, az={self.az!r}, nodes={self.nodes})"


def probe_of(kind: str, options: dict[str, Any]) -> tuple[int, int, int]:
    """Where a tenant's canary flows go: a NAT gateway's through it to a documentation address,
    an NLB's to its first listener, a mount target's to NFS."""
    if kind == "nat-gateway":
        return _address(CANARY_DESTINATION, "canary"), 443, 6
    if kind == "nlb":
        port, proto = options["listeners"][0]
        return 0, int(port), 6 if proto == "tcp" else 17
    return 0, NFS_PORT, 6


CANARY_DESTINATION = "198.51.100.250"
"""Where NAT gateways' canaries go (a documentation address, RFC 5737)."""


def slot_factory(kind: str, slots: int, capacity: int, seed: int, options: dict[str, Any]
                 ) -> tuple[Callable[[int], SlotStage], list[int], list[tuple[int, int]]]:
    """How tenant ``kind`` builds the stage of its slot ``j`` of ``slots`` (``options`` are the
    ``add_tenant`` keywords), with the addresses packets reach it by and its private networks."""
    if kind == "nat-gateway":
        public_ips: Sequence[str] = options.pop("public_ips", None) or []
        private_cidrs: Sequence[str] = options.pop("private_cidrs", None) or []
        if not public_ips or not private_cidrs:
            raise ValueError("a nat-gateway tenant needs public_ips and private_cidrs")
        networks = []
        for cidr in private_cidrs:
            try:
                net = ipaddress.IPv4Network(cidr)
            except ValueError as e:
                raise ValueError(f"private_cidrs: {e}") from None
            networks.append((int(net.network_address), int(net.broadcast_address)))
        idle = float(options.pop("idle_timeout", 350.0))
        _no_more(options)

        def nat(j: int) -> SlotStage:
            return NatGateway(list(public_ips), list(private_cidrs), capacity=capacity, limits=False,
                              idle_timeout=idle, port_slice=(j, slots), threads=1, seed=seed)
        return nat, [_address(a, "public_ips") for a in public_ips], networks
    if kind == "nlb":
        address = options.pop("address", None)
        listeners = options.pop("listeners", None)
        targets = options.pop("targets", None)
        if address is None or not listeners or not targets:
            raise ValueError("an nlb tenant needs address, listeners and targets")
        extra = dict(options)
        options.clear()

        def nlb(j: int) -> SlotStage:
            return NetworkLoadBalancer(list(listeners), [(t, "z") for t in targets], {"z": str(address)},
                                       capacity=capacity, threads=1, seed=seed, **extra)
        return nlb, [_address(str(address), "address")], []
    if kind == "efs":
        address = options.pop("address", None)
        if address is None:
            raise ValueError("an efs tenant needs address (the mount target's)")
        _no_more(options)

        def efs(j: int) -> SlotStage:
            # A mount target tracks NFS connections strictly: a segment of a connection it does
            # not hold (lost with its node) is invalid, not picked up mid-stream.
            return ConnTrack(capacity, timeouts=Timeouts.linux(), loose=False, threads=1, seed=seed)
        return efs, [_address(str(address), "address")], []
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def _no_more(options: dict[str, Any]) -> None:
    if options:
        raise ValueError(f"unknown tenant options: {', '.join(sorted(options))}")
