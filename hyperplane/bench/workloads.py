"""What the benchmark's stages share: one synthetic trace, and established flows through each
stage by table size, built once per run so every stage times the same packets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperplane import traffic
from hyperplane.conntrack import ConnTrack
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import Batch, TcpFlag, empty, ip


@dataclass
class Workload:
    """What the stages share: one synthetic trace, and established-flow traces by table size."""

    flows: int
    packets: int
    seed: int
    lookups: int
    rounds: int
    batch: Batch = field(init=False)
    _established: dict[int, tuple[Batch, Batch, np.ndarray]] = field(init=False, default_factory=dict)
    _trackers: dict[int, ConnTrack] = field(init=False, default_factory=dict)
    _nat: dict[int, NatSetup] = field(init=False, default_factory=dict)
    _nlb: dict[int, NlbSetup] = field(init=False, default_factory=dict)
    extra: dict[str, Any] = field(init=False, default_factory=dict)
    """What stages kept in other modules make once and share (e.g. ``bench.pcap``'s capture)."""

    def __post_init__(self) -> None:
        self.batch = traffic.synthetic(flows=self.flows, packets=self.packets, seed=self.seed)

    def release(self) -> None:
        """Drop the tables and traces built for the sizes measured so far (the runner measures one
        table size at a time, so the default run's peak is its largest size, not their sum)."""
        for cache in (self._established, self._trackers, self._nat, self._nlb):
            cache.clear()

    def established(self, flows: int) -> tuple[Batch, Batch, np.ndarray]:
        """(one ACK per flow, ``lookups`` data packets of random flows, the flow of each)."""
        if flows not in self._established:
            rng = np.random.default_rng(self.seed)
            ids = rng.choice(2**31, flows, replace=False)
            setup = empty(flows)
            setup["src_ip"] = ip("10.0.0.0") + (ids >> 15)
            setup["src_port"] = 1024 + (ids & 0x7FFF)
            setup["dst_ip"], setup["dst_port"] = ip("198.19.0.1"), 443
            setup["proto"], setup["tcp_flags"], setup["length"] = 6, TcpFlag.ACK, 40
            pick = rng.integers(0, flows, self.lookups)
            lookups = setup[pick]
            lookups["tcp_flags"], lookups["length"] = TcpFlag.PSH | TcpFlag.ACK, 64
            lookups["ts"] = np.arange(self.lookups, dtype=np.uint64)
            self._established[flows] = (setup, lookups, pick)
        return self._established[flows]

    def tracker(self, flows: int) -> ConnTrack:
        """A table holding ``flows`` established connections (at 80% of its capacity), 8 queues."""
        if flows not in self._trackers:
            setup, _, _ = self.established(flows)
            ct = ConnTrack(flows * 5 // 4 + 8, queues=8, seed=self.seed)
            ct.process(setup)
            self._trackers[flows] = ct
        return self._trackers[flows]


    def nat(self, flows: int) -> NatSetup:
        """A gateway holding ``flows`` established TCP connections (8 public addresses, 8 queues,
        4,096 destinations), the same flows in a plain connection tracker, and traffic of random
        flows each way."""
        if flows not in self._nat:
            rng = np.random.default_rng(self.seed + 1)
            ids = rng.choice(2**31, flows, replace=False)
            syn = empty(flows)
            syn["src_ip"] = ip("10.0.0.0") + (ids >> 15)
            syn["src_port"] = 1024 + (ids & 0x7FFF)
            syn["dst_ip"], syn["dst_port"] = ip("198.19.0.0") + (ids % 4096), 443
            syn["proto"], syn["tcp_flags"], syn["length"] = 6, TcpFlag.SYN, 60
            gateway = NatGateway([f"203.0.113.{10 + i}" for i in range(8)], capacity=flows * 5 // 4 + 8,
                                 queues=8, seed=self.seed, limits=False)
            sent, _ = gateway.process(syn)
            synack = _replies(sent, TcpFlag.SYN | TcpFlag.ACK)
            gateway.process(synack)
            ack = syn.copy()
            ack["tcp_flags"], ack["length"] = TcpFlag.ACK, 40
            gateway.process(ack)
            pick = rng.integers(0, flows, self.lookups)
            outbound = ack[pick]
            outbound["tcp_flags"], outbound["length"] = TcpFlag.PSH | TcpFlag.ACK, 64
            outbound["ts"] = np.arange(self.lookups, dtype=np.uint64)
            inbound = _replies(sent[pick], TcpFlag.PSH | TcpFlag.ACK)
            inbound["ts"] = outbound["ts"]
            mixed = np.where(rng.random(self.lookups) < 0.5, outbound, inbound)
            tracker = ConnTrack(flows * 5 // 4 + 8, queues=8, seed=self.seed)
            tracker.process(ack)
            self._nat[flows] = NatSetup(gateway, tracker, outbound, inbound, mixed, syn)
        return self._nat[flows]


    def nlb(self, flows: int) -> NlbSetup:
        """A balancer (2 zones of 16 targets, 8 queues) holding ``flows`` flows, the same flows in a
        plain connection tracker, and data packets of random flows."""
        if flows not in self._nlb:
            rng = np.random.default_rng(self.seed + 2)
            ids = rng.choice(2**31, flows, replace=False)
            syn = empty(flows)
            syn["src_ip"] = ip("100.64.0.0") + (ids >> 15)
            syn["src_port"] = 1024 + (ids & 0x7FFF)
            syn["dst_ip"] = ip("198.19.10.1") + (ids & 1)
            syn["dst_port"], syn["proto"], syn["tcp_flags"], syn["length"] = 80, 6, TcpFlag.SYN, 60
            targets = [(f"10.0.{z + 1}.{i + 1}:80", zone) for z, zone in enumerate("ab") for i in range(16)]
            balancer = NetworkLoadBalancer([(80, "tcp")], targets, {"a": "198.19.10.1", "b": "198.19.10.2"},
                                           capacity=flows * 5 // 4 + 8, queues=8, seed=self.seed)
            balancer.process(syn)
            pick = rng.integers(0, flows, self.lookups)
            data = syn[pick]
            data["tcp_flags"], data["length"] = TcpFlag.PSH | TcpFlag.ACK, 64
            data["ts"] = np.arange(self.lookups, dtype=np.uint64)
            ack = syn.copy()
            ack["tcp_flags"] = TcpFlag.ACK
            tracker = ConnTrack(flows * 5 // 4 + 8, queues=8, seed=self.seed)
            tracker.process(ack)
            self._nlb[flows] = NlbSetup(balancer, tracker, data)
        return self._nlb[flows]


@dataclass(frozen=True)
class NlbSetup:
    balancer: NetworkLoadBalancer
    tracker: ConnTrack
    data: Batch


@dataclass(frozen=True)
class NatSetup:
    gateway: NatGateway
    tracker: ConnTrack
    outbound: Batch
    inbound: Batch
    mixed: Batch
    syn: Batch


def _replies(sent: Batch, flags: int) -> Batch:
    """The far side's answers to translated packets."""
    out = sent.copy()
    out["src_ip"], out["dst_ip"] = sent["dst_ip"], sent["src_ip"]
    out["src_port"], out["dst_port"] = sent["dst_port"], sent["src_port"]
    out["tcp_flags"], out["length"] = flags, 64
    return out
