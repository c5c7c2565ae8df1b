"""A Network Load Balancer: Maglev target choice with sticky flows, zones, health and draining.

One node per enabled zone receives the packets sent to its address. A node
picks a target for each new flow from its Maglev table (its zone's healthy,
registered targets with cross-zone off, all of them with it on; if none is
healthy it fails open to all of them), stores the choice in the flow's record
and keeps the flow there for its life, through health changes, registrations
and drains. With connection termination on (the default), flows of a target
that turns unhealthy, or that finished draining, are reset. See ``docs/nlb.md``.

The balancer sees the client-to-target direction; return traffic is not modelled.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.conntrack import Timeouts
from hyperplane.counters import NLB_METRICS
from hyperplane.health import CHECK_INTERVAL_S, HealthChange, Outage, health_changes
from hyperplane.locking import serialised
from hyperplane.maglev import Maglev
from hyperplane.packets import Batch, Proto
from hyperplane.stage import MeteredStage, default_threads, draw_seed

METRICS: list[str] = NLB_METRICS.names
FLOW_DTYPE: np.dtype[np.void] = _core.NLB_FLOW_DTYPE
"""One row of :meth:`NetworkLoadBalancer.flows`: the client's tuple to its node, the target's, the
source-NAT port, state, times, packets and bytes."""
NO_TARGET = 0xFFFFFFFF
"""The ``target`` of a packet that went to none."""

TCP_IDLE_S = 350.0
"""AWS: TCP flows idle for 350 s are dropped (settable from 60 to 6000 s)."""
UDP_IDLE_S = 120.0
"""AWS: UDP flows idle for 120 s; the next packet is a new flow."""
DEREGISTRATION_DELAY_S = 300.0
"""AWS: a deregistered target drains for 300 s by default."""


@dataclass
class Target:
    """A registered target: ``address`` is ``"ip:port"``."""

    address: str
    zone: str
    weight: int = 1
    healthy: bool = True
    registered: bool = True
    drain_deadline_ns: int | None = None

    @property
    def draining(self) -> bool:
        return self.drain_deadline_ns is not None


class ProcessResult(NamedTuple):
    packets: Batch
    """The packets as the targets get them: destination rewritten (and source, without client IP preservation)."""
    verdict: npt.NDArray[np.uint8]
    """A :class:`~hyperplane.verdict.Verdict` per packet."""
    target: npt.NDArray[np.uint32]
    """The index in :attr:`NetworkLoadBalancer.targets` of each packet's target (``NO_TARGET`` if none)."""


def _endpoint(address: str) -> tuple[int, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"target address must be 'ip:port', not {address!r}")
    try:
        return int(ipaddress.IPv4Address(host)), int(port)
    except ValueError as e:
        raise ValueError(f"target address {address!r}: {e}") from None


class NetworkLoadBalancer(MeteredStage[_core.NetworkLoadBalancer]):
    """``listeners`` are (port, "tcp"|"udp"); ``zones`` maps each enabled zone to its node's address.

    ``targets`` are :class:`Target`, or (``"ip:port"``, zone) pairs. ``cross_zone`` lets a node
    choose targets in every zone (off by default, as AWS). ``preserve_client_ip`` off makes
    the target see the node's address (source NAT, at most 55,000 flows per node and
    target: ``PortAllocationErrorCount`` beyond). ``table_size`` is each Maglev table's, in
    slots (prime). ``tcp_idle_timeout`` (60..6000), ``udp_timeout`` and ``deregistration_delay``
    are seconds. ``capacity`` is flows held at once, ``queues`` shards (1..128), ``threads``
    worker threads (speed only, never a result). ``seed`` is an integer fixing the tables' hash
    keys and the flow hash; without one a seed is drawn and kept in :attr:`seed` (shown in the
    ``repr``), so passing it back replays the run.

    Two of AWS's target-group attributes decide which flows end with an RST:
    ``unhealthy_connection_termination`` (``target_health_state.unhealthy.connection_termination.enabled``,
    default true: flows of a target that turns unhealthy are reset, unless every target is
    unhealthy and the group fails open) and ``deregistration_connection_termination``
    (``deregistration_delay.connection_termination.enabled``: flows of a drained target end when
    the delay is over; AWS's default is false for TCP target groups and true for new UDP
    ones, so ``None`` means true only when every listener is UDP).
    """

    metric_family = NLB_METRICS

    def __init__(
        self,
        listeners: Sequence[tuple[int, str]],
        targets: Sequence[Target | tuple[str, str]],
        zones: Mapping[str, str],
        *,
        cross_zone: bool = False,
        preserve_client_ip: bool = True,
        unhealthy_connection_termination: bool = True,
        deregistration_connection_termination: bool | None = None,
        tcp_idle_timeout: float = TCP_IDLE_S,
        udp_timeout: float = UDP_IDLE_S,
        deregistration_delay: float = DEREGISTRATION_DELAY_S,
        table_size: int = 65537,
        capacity: int = 1_000_000,
        queues: int = 1,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        if not zones:
            raise ValueError("zones must name at least one zone and its node's address")
        self.zones = list(zones)
        self._nodes = dict(zones)
        nodes = []
        for zone, address in zones.items():
            try:
                nodes.append(int(ipaddress.IPv4Address(address)))
            except ValueError as e:
                raise ValueError(f"zones[{zone!r}]: {e}") from None
        if not listeners:
            raise ValueError("listeners must hold at least one (port, protocol)")
        parsed_listeners = []
        for port, protocol in listeners:
            if protocol not in ("tcp", "udp"):
                raise ValueError(f"listeners: protocol must be 'tcp' or 'udp', not {protocol!r}")
            if not 0 < port < 65536:
                raise ValueError(f"listeners: port must be in 1..65535, not {port}")
            parsed_listeners.append((port, int(Proto.TCP if protocol == "tcp" else Proto.UDP)))
        if not 60 <= tcp_idle_timeout <= 6000:
            raise ValueError(f"tcp_idle_timeout must be in 60..6000 s (AWS's range), not {tcp_idle_timeout}")
        if udp_timeout <= 0 or deregistration_delay < 0:
            raise ValueError("udp_timeout must be positive and deregistration_delay not negative")
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, not {capacity!r}")
        if not isinstance(queues, int) or not 1 <= queues <= 128:
            raise ValueError(f"queues must be in 1..128, not {queues!r}")
        self.cross_zone = cross_zone
        self.preserve_client_ip = preserve_client_ip
        self.deregistration_delay = deregistration_delay
        self.table_size = table_size
        self.threads = default_threads() if threads is None else threads
        self.targets: list[Target] = []
        self.listeners = [(port, protocol) for port, protocol in listeners]
        self.capacity = capacity
        self.seed = seed_value = draw_seed(seed)
        rng = np.random.default_rng(seed_value)
        timeouts = Timeouts.uniform(tcp_idle_timeout).replace(udp=udp_timeout, udp_stream=udp_timeout)
        cfg = _core.NlbConfig()
        cfg.capacity, cfg.queues, cfg.seed = capacity, queues, seed_value
        cfg.timeouts_ns = timeouts.as_ns()
        cfg.hash_key, cfg.flow_key = rng.bytes(32), rng.bytes(32)
        cfg.nodes, cfg.listeners = nodes, parsed_listeners
        cfg.preserve_client_ip, cfg.per_target = preserve_client_ip, 55_000
        if deregistration_connection_termination is None:
            deregistration_connection_termination = all(p == int(Proto.UDP) for _, p in parsed_listeners)
        cfg.terminate_unhealthy = unhealthy_connection_termination
        cfg.terminate_deregistered = deregistration_connection_termination
        self.unhealthy_connection_termination = unhealthy_connection_termination
        self.deregistration_connection_termination = deregistration_connection_termination
        self._core = _core.NetworkLoadBalancer(cfg)
        for t in targets:
            target = t if isinstance(t, Target) else Target(address=t[0], zone=t[1])
            self._add(target)
        self._sync()

    # -- targets -----------------------------------------------------------------------

    def _add(self, target: Target) -> None:
        _endpoint(target.address)
        if target.zone not in self.zones:
            raise ValueError(f"target {target.address}: zone {target.zone!r} is not one of {self.zones}")
        if target.weight < 1:
            raise ValueError(f"target {target.address}: weight must be positive")
        if any(t.address == target.address and t.registered for t in self.targets):
            raise ValueError(f"target {target.address} is already registered")
        self.targets.append(target)

    def _index(self, address: str) -> int:
        for i in range(len(self.targets) - 1, -1, -1):
            if self.targets[i].address == address:
                return i
        raise ValueError(f"no target {address!r}")

    @serialised
    def register(self, address: str, zone: str, weight: int = 1) -> None:
        """Register the target ``address`` (``"ip:port"``) in ``zone`` with ``weight`` (a positive
        integer, relative to the other targets' slot shares): new flows may choose it from the next
        batch on."""
        self._add(Target(address=address, zone=zone, weight=weight))
        self._sync()

    @serialised
    def deregister(self, address: str, at_ns: int) -> None:
        """Start draining the target ``address`` (``"ip:port"``) at packet time ``at_ns`` (ns): no new flows; its flows continue
        for the deregistration delay, and after it end with an RST only with
        ``deregistration_connection_termination``."""
        t = self.targets[self._index(address)]
        if not t.registered or t.draining:
            raise ValueError(f"target {address} is not registered")
        t.drain_deadline_ns = at_ns + round(self.deregistration_delay * 1e9)
        self._sync()

    @serialised
    def set_health(self, address: str, healthy: bool) -> None:
        """Mark the target ``address`` (``"ip:port"``) healthy or unhealthy (as its health checks
        would: 5 passes, 2 failures)."""
        self.targets[self._index(address)].healthy = healthy
        self._sync()

    def _candidates(self, zone: str) -> list[int]:
        """The targets a zone's node may open flows to: registered, not draining, in its zone
        (every zone with cross-zone load balancing)."""
        return [i for i, t in enumerate(self.targets)
                if t.registered and not t.draining and (self.cross_zone or t.zone == zone)]

    @serialised
    def dns_answer(self) -> list[str]:
        """The node addresses the load balancer's DNS name resolves to now.

        AWS: a zone whose node has no healthy target is removed from DNS, so new clients go to
        the other zones; when no zone has one, DNS fails open and answers with every zone.
        Generators take the answer as their destination (``hp.traffic.many_to_one(dst=...)``)."""
        healthy = [zone for zone in self.zones if any(self.targets[i].healthy for i in self._candidates(zone))]
        return [self._nodes[zone] for zone in (healthy or self.zones)]

    def _after_restore(self) -> None:
        self._sync()

    def _sync(self) -> None:
        """Push target states, then each node's Maglev table, to the core."""
        endpoints = [_endpoint(t.address) for t in self.targets]
        self._core.set_targets(
            [e[0] for e in endpoints], [e[1] for e in endpoints], [t.healthy for t in self.targets],
            [t.registered for t in self.targets],
            [t.drain_deadline_ns if t.drain_deadline_ns is not None else 2**64 - 1 for t in self.targets],
        )
        live = [t for t in self.targets if t.registered and not t.draining]
        # AWS: "If a target group contains only unhealthy registered targets, the load balancer
        # routes requests to all those targets, regardless of their health status" -- and resets
        # none of their flows for health.
        self._core.set_fail_open(bool(live) and not any(t.healthy for t in live))
        for node, zone in enumerate(self.zones):
            candidates = self._candidates(zone)
            healthy = [i for i in candidates if self.targets[i].healthy]
            chosen = healthy or candidates  # every target unhealthy: fail open to all
            if not chosen:
                self._core.set_table(node, [])
                continue
            maglev = Maglev([self.targets[i].address for i in chosen], size=self.table_size,
                            weights=[self.targets[i].weight for i in chosen])
            self._core.set_table(node, np.array(chosen, dtype=np.uint32)[maglev.table].tolist())

    # -- packets -----------------------------------------------------------------------

    @serialised
    def process(
        self,
        batch: Batch,
        *,
        out: Batch | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        target_out: npt.NDArray[np.uint32] | None = None,
    ) -> ProcessResult:
        """Balance ``batch`` (a batch of ``PACKET_DTYPE``, in order of ``ts``, ns); ``out=`` (which may be ``batch``),
        ``verdict_out=`` and ``target_out=`` reuse memory."""
        packets, verdict, target = self._core.process(batch, out, verdict_out, target_out, self._threads)
        return ProcessResult(packets, verdict, target)

    @serialised
    def process_replies(
        self,
        batch: Batch,
        *,
        out: Batch | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        target_out: npt.NDArray[np.uint32] | None = None,
    ) -> ProcessResult:
        """The return direction: ``batch`` holds targets' packets back toward clients (in order of ``ts``).

        A packet of a live flow (from its target's address and port, to the client, or with
        source NAT to the node's port) leaves from the node's listener to the client: the
        client sees the address it connected to, the target saw the client's (client IP
        preserved). It keeps the flow alive (the idle timeout counts both directions), counts
        in ``ProcessedPackets``/``ProcessedBytes`` and in the flow's reply counters; a target's
        SYN-ACK marks the flow established and its RST ends the flow. Anything else is
        ``DROP_UNSOLICITED``. Runs on one thread whatever ``threads`` is."""
        packets, verdict, target = self._core.process_replies(batch, out, verdict_out, target_out)
        return ProcessResult(packets, verdict, target)

    @serialised
    def process_with_outages(
        self, batch: Batch, outages: Sequence[Outage], *, first_check_ns: int = 0, interval_s: float = CHECK_INTERVAL_S
    ) -> tuple[ProcessResult, list[HealthChange]]:
        """Balance ``batch`` (sorted by time) while targets go down and come back.

        Each change the health checks would see (every ``interval_s`` seconds from
        ``first_check_ns``, packet time in ns; unhealthy after 2 failures, healthy after 5 passes) is applied at
        its packet time, between the packets before and after it. Returns the result for
        the whole batch and the changes applied."""
        if len(batch) == 0:
            return self.process(batch), []
        changes = health_changes(outages, int(batch["ts"].max()), interval_s=interval_s, first_check_ns=first_check_ns)
        cuts = np.searchsorted(batch["ts"], [c.ts_ns for c in changes], side="left")
        parts, start = [], 0
        for change, cut in zip(changes, cuts):
            parts.append(self.process(batch[start:cut]))
            self.set_health(change.address, change.healthy)
            start = int(cut)
        parts.append(self.process(batch[start:]))
        return ProcessResult(*(np.concatenate([getattr(p, f) for p in parts]) for f in ProcessResult._fields)), changes

    @serialised
    def flow_targets(self, batch: Batch) -> npt.NDArray[np.uint32]:
        """For each packet of ``batch`` (as a client sends it to a node's listener), the index in
        :attr:`targets` of the live flow it belongs to at its ``ts``, or 2**32 - 1 when none: how a
        target's reply is told from other traffic of the target. Changes no state."""
        return self._core.flow_targets(batch)

    @serialised
    def flows(self) -> npt.NDArray[np.void]:
        """The flows held, as an array of :data:`FLOW_DTYPE`: ``client_ip``/``client_port`` to
        ``node_ip``/``node_port`` (the listener), ``target_index`` (into :attr:`targets`) and the target's
        ``target_ip``/``target_port``, ``snat_port`` (the node's port the target sees without client IP
        preservation, else 0), ``state`` (a :class:`~hyperplane.conntrack.TcpState` for TCP), first and
        last packet time in ns, packets and IP bytes. ``hp.tables.table(nlb.flows())`` reads them."""
        return self._core.flows()

    @serialised
    def flows_per_target(self) -> dict[str, int]:
        """Live flows held for each target, by its ``"ip:port"`` (the flows themselves: :meth:`flows`)."""
        counts = self._core.flows_per_target()
        return {t.address: int(c) for t, c in zip(self.targets, counts)}


    def __repr__(self) -> str:
        listeners = ", ".join(f"{port}/{protocol}" for port, protocol in self.listeners)
        live = [t for t in self.targets if t.registered]
        healthy = sum(t.healthy for t in live)
        return (f"NetworkLoadBalancer(listeners=[{listeners}], zones={self.zones}, targets={len(live)} ({healthy} healthy), "
                f"cross_zone={self.cross_zone}, capacity={self.capacity:_}, queues={self.queues}, seed={self.seed}, "
                f"flows={len(self):_})")
