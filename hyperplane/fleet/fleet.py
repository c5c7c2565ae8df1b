"""The Hyperplane fleet: zonal cells of nodes running tenants' engine stages.

Built so that the hot path is the engine's: ``process()`` routes a whole batch in the core
(tenant by address, slot by flow hash: ``csrc/runtime/fleet_router.hpp``), groups it by slot in
one counting sort so each slot's packets are one contiguous slice in time order, and hands each
slice to its slot's stage in place. Python runs
once per slot touched, never per packet. A slot lives on one node (its host); with replication
its connections are also kept on a second node of the tenant's shard (its secondary, 1:1 as
Hyperplane's flow tracking keeps them), refreshed from ``export_state()`` after every batch, so
a failed host's slots restart on their secondaries with ``import_state()`` and every translation
unchanged. Without replication a failed host's connections are gone: the stage that takes the
slot over answers their next TCP segment as for an unknown connection (a NAT gateway's RST).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane.ena import instance_type as catalog_type
from hyperplane.fleet.availability import availability
from hyperplane.fleet.canary import monitor
from hyperplane.fleet.config_loop import ConfigLoop
from hyperplane.fleet.deploy import WAVES, Change, Deployment, deploy
from hyperplane.fleet.layout import Node, build_nodes
from hyperplane.fleet.routing import Routes
from hyperplane.fleet.sharding import draw_shard, hypergeometric_share, overlap_bound, pair_overlaps
from hyperplane.fleet.tenants import KINDS, NFS_PORT, SlotStage, Tenant, probe_of, slot_factory
from hyperplane.packets import Batch
from hyperplane.verdict import Verdict

DEFAULT_INSTANCE_TYPE = "c5.xlarge"
"""An estimate: AWS does not publish the instance types Hyperplane nodes run on."""
CAPACITY_PER_SLOT = 4096
"""Connections one slot's stage holds (its table is allocated whole): a model choice."""
_KIND_CODE = {kind: k for k, kind in enumerate(KINDS)}


class FleetResult(NamedTuple):
    packets: Batch
    """The packets as they leave their tenants' stages (rewritten where a stage rewrites)."""
    verdict: npt.NDArray[np.uint8]
    """A :class:`~hyperplane.verdict.Verdict` per packet (``DROP_NOT_ROUTED``: no tenant has the
    address; ``DROP_NODE_DOWN``: no live node of the tenant's shard; ``DROP_NODE_FAULT``: a node
    running a faulty change dropped it)."""
    node: npt.NDArray[np.int16]
    """The index in :attr:`Fleet.nodes` of the node that handled each packet, or -1."""
    tenant: npt.NDArray[np.int32]
    """The index in :attr:`Fleet.tenants` of each packet's tenant, or -1."""
    cross_az: npt.NDArray[np.bool_]
    """Packets sent from another AZ than their zonal tenant's: isolation violations, counted."""


@dataclass
class Failover:
    """What one node's failure did: slots moved, connections kept on secondaries or lost."""

    node: str
    at_ns: int
    slots: int
    moved: int
    """Connections that continue on a secondary with their translation (replication on)."""
    lost: int
    """Connections gone with the node (replication off, or no secondary left)."""
    tenants: list[str]
    down: list[str]
    """Tenants left with no live node at all."""


class Fleet:
    """A fleet of ``len(azs) × cells_per_az × nodes_per_cell`` nodes of ``instance_type``.

    Each tenant gets ``shard_size`` nodes of one cell of its AZ, drawn by a shuffle seeded from
    ``seed`` that keeps any two tenants' overlap at most half a shard. ``replication`` keeps each
    connection on a primary and a secondary node. ``capacity_per_slot`` is the connections each
    slot's stage holds.
    """

    def __init__(self, azs: Sequence[str], cells_per_az: int, nodes_per_cell: int, shard_size: int, *,
                 replication: bool = True, seed: int = 0, instance_type: str = DEFAULT_INSTANCE_TYPE,
                 capacity_per_slot: int = CAPACITY_PER_SLOT) -> None:
        if isinstance(azs, str) or not azs or len(set(azs)) != len(azs):
            raise ValueError(f"azs must be a list of distinct AZ names, not {azs!r}")
        for name, value in (("cells_per_az", cells_per_az), ("nodes_per_cell", nodes_per_cell),
                            ("shard_size", shard_size), ("capacity_per_slot", capacity_per_slot)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if shard_size > nodes_per_cell:
            raise ValueError(f"shard_size ({shard_size}) must be at most nodes_per_cell ({nodes_per_cell}): a shard "
                             "lies inside one cell")
        try:
            catalog_type(instance_type)
        except (KeyError, ValueError) as e:
            raise ValueError(f"instance_type: {e}") from None
        self.azs, self.cells_per_az, self.nodes_per_cell = list(azs), cells_per_az, nodes_per_cell
        self.shard_size, self.replication, self.seed = shard_size, bool(replication), seed
        self.instance_type, self.capacity_per_slot = instance_type, capacity_per_slot
        self.nodes: list[Node] = build_nodes(self.azs, cells_per_az, nodes_per_cell, instance_type)
        self._node_index = {n.name: k for k, n in enumerate(self.nodes)}
        self.tenants: list[Tenant] = []
        self._rng = np.random.default_rng(seed)
        self._members: dict[tuple[str, int], list[npt.NDArray[np.bool_]]] = {}
        self._dst: dict[int, int] = {}
        self._nets: list[tuple[int, int, int]] = []
        self._routes = Routes()
        # Per slot (all tenants' slots, tenant by tenant).
        self._slot_tenant: list[int] = []
        self._slot_nodes: list[list[int]] = []  # the tenant's shard, as node indices
        self._host = np.zeros(0, dtype=np.int64)
        self._secondary: list[int] = []
        self._stages: list[SlotStage] = []
        self._replicas: list[npt.NDArray[np.void] | None] = []
        self._tenant_base = np.zeros(0, dtype=np.int64)
        self._tenant_az = np.zeros(0, dtype=np.int64)
        self.fault = np.zeros(len(self.nodes))
        """Per node, the fraction of its packets a faulty change drops (``deploy``)."""
        self.node_packets = np.zeros(len(self.nodes), dtype=np.int64)
        self.node_drops = np.zeros(len(self.nodes), dtype=np.int64)
        self.isolation_violations = 0
        self.reported_violations = 0
        self.failovers: list[Failover] = []
        self.config_loop = ConfigLoop()
        """The constant-work configuration loop: the same load on every node, always."""

    # -- tenants -------------------------------------------------------------------------

    def add_tenant(self, kind: str, *, az: str, name: str | None = None, **options: Any) -> Tenant:
        """Place a tenant of ``kind`` ("nat-gateway", "nlb" or "efs") in ``az``.

        nat-gateway: ``public_ips``, ``private_cidrs`` (networks no other tenant uses), optional
        ``idle_timeout``; nlb: ``address`` (its node's), ``listeners``, ``targets`` ("ip:port"),
        other NetworkLoadBalancer keywords; efs: ``address`` (the mount target's)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if az not in self.azs:
            raise ValueError(f"az must be one of {self.azs}, not {az!r}")
        index = len(self.tenants)
        seed = int(np.random.default_rng([self.seed, index]).integers(2**63))
        make, addresses, networks = slot_factory(kind, self.shard_size, self.capacity_per_slot, seed, dict(options))
        probe = probe_of(kind, options)
        for a in addresses:
            if a in self._dst:
                raise ValueError(f"address {a} is already tenant {self.tenants[self._dst[a]].name}'s")
        for first, last in networks:
            for f, la, t in self._nets:
                if first <= la and f <= last:
                    raise ValueError(f"private_cidrs overlap tenant {self.tenants[t].name}'s; the fleet tells "
                                     "tenants apart by address")
        # The cell of the AZ with the fewest tenants, then a shard of it.
        cell = min(range(self.cells_per_az), key=lambda c: (len(self._members.get((az, c), [])), c))
        placed = self._members.setdefault((az, cell), [])
        shard = draw_shard(self._rng, self.nodes_per_cell, self.shard_size,
                           np.array(placed, dtype=bool).reshape(len(placed), self.nodes_per_cell))
        member = np.zeros(self.nodes_per_cell, dtype=bool)
        member[shard] = True
        placed.append(member)
        first_node = self._node_index[f"{az}/{cell}/0"]
        shard_nodes = [first_node + int(k) for k in shard]
        tenant = Tenant(name or f"{kind}-{index}", kind, az, cell, index, seed,
                        [self.nodes[k].name for k in shard_nodes], addresses,
                        [(f, la) for f, la in networks], make, probe)
        self.tenants.append(tenant)
        for a in addresses:
            self._dst[a] = index
        self._nets += [(f, la, index) for f, la in networks]
        self._routes.add_tenant(index, self.shard_size, _KIND_CODE[kind], addresses, kind == "efs", networks)
        base = len(self._stages)
        for j in range(self.shard_size):
            self._slot_tenant.append(index)
            self._slot_nodes.append(shard_nodes)
            self._stages.append(make(j))
            self._secondary.append(shard_nodes[(j + 1) % len(shard_nodes)] if self.shard_size > 1 else -1)
            self._replicas.append(None)
        self._host = np.concatenate([self._host, np.array(shard_nodes, dtype=np.int64)])
        self._tenant_base = np.append(self._tenant_base, base)
        self._tenant_az = np.append(self._tenant_az, self.azs.index(az))
        return tenant

    def tenant(self, name: str) -> Tenant:
        for t in self.tenants:
            if t.name == name:
                return t
        raise ValueError(f"no tenant {name!r}")

    def overlap(self, a: Tenant, b: Tenant) -> list[str]:
        """The nodes tenants ``a`` and ``b`` share."""
        return sorted(set(a.nodes) & set(b.nodes))

    # -- packets -------------------------------------------------------------------------

    def slots_of(self, batch: Batch) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint64]]:
        """Each packet's tenant (-1: none), its slot (index over every tenant's slots, -1: none)
        and its flow hash."""
        return self._routes.route(batch)

    def process(self, batch: Batch, *, from_az: str | None = None) -> FleetResult:
        """Each packet to its tenant's slot on the node serving it (the batch in order of ``ts``).

        ``from_az``: the AZ the packets enter from; packets for a zonal tenant of another AZ are
        isolation violations (counted in :attr:`isolation_violations` and flagged per packet)."""
        if from_az is not None and from_az not in self.azs:
            raise ValueError(f"from_az must be one of {self.azs}, not {from_az!r}")
        tenant, slot, h = self.slots_of(batch)
        # Grouped by slot in one counting sort; the packets are moved by the core (numpy copies
        # structured records one field at a time).
        order, counts = self._routes.group(slot)
        packets = self._routes.permute(batch, order)
        verdict = np.full(len(batch), int(Verdict.DROP_NOT_ROUTED), dtype=np.uint8)
        ends = np.cumsum(counts)
        groups = np.flatnonzero(counts[1:])  # slots with packets
        # Each packet's node: its slot's host (-1: none), filled slot by slot in one repeat.
        hosts = np.r_[-1, self._host].astype(np.int16)
        node = np.repeat(hosts, counts.astype(np.int64))
        host_of, stages = self._host.tolist(), self._stages
        for g, a, b in zip(groups.tolist(), (ends[groups + 1] - counts[groups + 1]).tolist(), ends[groups + 1].tolist()):
            if host_of[g] < 0:
                verdict[a:b] = Verdict.DROP_NODE_DOWN
                continue
            view = packets[a:b]
            stages[g].process(view, out=view, verdict_out=verdict[a:b])
            if self.replication:
                self._replicas[g] = stages[g].export_state()
        handled = node >= 0
        if self.fault.any():
            f = self.fault[np.where(handled, node, 0)]
            faulty = handled & (f > 0) & ((h[order] % np.uint64(1_000_000)).astype(np.float64) < f * 1e6)
            verdict[faulty & (verdict == Verdict.FORWARD)] = Verdict.DROP_NODE_FAULT
        self.node_packets += np.bincount(node[handled], minlength=len(self.nodes))
        dropped = handled & (verdict != Verdict.FORWARD)
        self.node_drops += np.bincount(node[dropped], minlength=len(self.nodes))
        out_packets = self._routes.permute(packets, order, back=True)
        out_verdict, out_node = np.empty_like(verdict), np.empty_like(node)
        out_verdict[order], out_node[order] = verdict, node
        cross = np.zeros(len(batch), dtype=bool)
        if from_az is not None and len(self.tenants):
            cross = (tenant >= 0) & (self._tenant_az[np.where(tenant >= 0, tenant, 0)] != self.azs.index(from_az))
            self.isolation_violations += int(cross.sum())
        return FleetResult(out_packets, out_verdict, out_node, tenant, cross)

    # -- failures ------------------------------------------------------------------------

    def _next_alive(self, shard: list[int], after: int, exclude: int = -1) -> int:
        k = shard.index(after) if after in shard else 0
        for step in range(1, len(shard) + 1):
            cand = shard[(k + step) % len(shard)]
            if self.nodes[cand].up and cand != exclude:
                return cand
        return -1

    def fail_node(self, name: str, at_ns: int = 0) -> Failover:
        """Node ``name`` fails at packet time ``at_ns``: every slot it hosts moves to its secondary
        (replication: with its connections, imported; without: empty, its connections lost)."""
        if name not in self._node_index:
            raise ValueError(f"no node {name!r}")
        k = self._node_index[name]
        node = self.nodes[k]
        if not node.up:
            raise ValueError(f"node {name} is already down")
        node.up, moved, lost, slots, touched = False, 0, 0, 0, set()
        node.failures.append(at_ns)
        self.fault[k] = 0.0
        for g in np.flatnonzero(self._host == k).tolist():
            slots += 1
            tenant = self.tenants[self._slot_tenant[g]]
            touched.add(tenant.name)
            held = len(self._stages[g])
            target = self._secondary[g] if self._secondary[g] >= 0 and self.nodes[self._secondary[g]].up else \
                self._next_alive(self._slot_nodes[g], k)
            fresh = tenant.make_slot(g - int(self._tenant_base[tenant.index]))
            replica = self._replicas[g]
            if self.replication and target >= 0 and target == self._secondary[g] and replica is not None:
                result = fresh.import_state(replica)
                moved += result.imported
                lost += held - result.imported
            else:
                lost += held
            self._stages[g] = fresh
            self._host[g] = target
            self._secondary[g] = self._next_alive(self._slot_nodes[g], target, exclude=target) if target >= 0 else -1
            self._replicas[g] = fresh.export_state() if self.replication else None
        for g in [g for g, s in enumerate(self._secondary) if s == k]:
            # The slot's replica was on the failed node: replicate it to another.
            self._secondary[g] = self._next_alive(self._slot_nodes[g], int(self._host[g]), exclude=int(self._host[g]))
            touched.add(self.tenants[self._slot_tenant[g]].name)
            if self.replication:
                self._replicas[g] = self._stages[g].export_state()
        down = [t.name for t in self.tenants if t.name in touched and self.tenant_down(t)]
        report = Failover(name, at_ns, slots, moved, lost, sorted(touched), down)
        self.failovers.append(report)
        return report

    def fail_az(self, az: str, at_ns: int = 0) -> list[Failover]:
        """Every node of ``az`` fails: its zonal tenants have nowhere to go (no cross-AZ failover)."""
        if az not in self.azs:
            raise ValueError(f"az must be one of {self.azs}, not {az!r}")
        return [self.fail_node(n.name, at_ns) for n in self.nodes if n.az == az and n.up]

    def repair_node(self, name: str) -> None:
        """Node ``name`` is back, empty: it hosts any slot left without a node and can be a secondary."""
        if name not in self._node_index:
            raise ValueError(f"no node {name!r}")
        k = self._node_index[name]
        self.nodes[k].up = True
        for g in range(len(self._stages)):
            if k not in self._slot_nodes[g]:
                continue
            if self._host[g] < 0:
                self._host[g] = k
            elif self._secondary[g] < 0 and int(self._host[g]) != k:
                self._secondary[g] = k
                if self.replication:
                    self._replicas[g] = self._stages[g].export_state()

    def tenant_down(self, tenant: Tenant) -> bool:
        """Whether no node of the tenant's shard is up."""
        return not any(self.nodes[self._node_index[n]].up for n in tenant.nodes)

    # -- what the fleet holds ------------------------------------------------------------

    def connections_per_node(self) -> npt.NDArray[np.int64]:
        """Live connections hosted on each node (slots' stages), by node index."""
        out = np.zeros(len(self.nodes), dtype=np.int64)
        for g, stage in enumerate(self._stages):
            if self._host[g] >= 0:
                out[self._host[g]] += len(stage)
        return out

    def node_of(self, name: str) -> int:
        if name not in self._node_index:
            raise ValueError(f"no node {name!r}")
        return self._node_index[name]

    def blast_radius(self, *, node: str | None = None, poison: Tenant | None = None) -> dict[str, Any]:
        """Who a node loss, or a poison tenant (whose traffic kills every node it lands on),
        touches: tenants losing some nodes, and tenants losing all of them."""
        if (node is None) == (poison is None):
            raise ValueError("give node or poison, not both")
        dead = {node} if node is not None else set(poison.nodes if poison else [])
        if node is not None:
            self.node_of(node)
        others = [t for t in self.tenants if t is not poison]
        hit = [t for t in others if dead & set(t.nodes)]
        whole = [t for t in hit if set(t.nodes) <= dead]
        return {"nodes": sorted(dead), "tenants_touched": len(hit), "tenants_down": len(whole),
                "fraction_touched": len(hit) / len(others) if others else 0.0,
                "down": [t.name for t in whole]}

    def overlap_check(self) -> dict[str, Any]:
        """Pairs of tenants in a cell sharing at least one, and at least two, nodes, against what
        random shards would share (the hypergeometric law), and the largest overlap seen."""
        pairs = np.concatenate([pair_overlaps(np.array(m)) for m in self._members.values() if len(m) > 1] or
                               [np.zeros(0, dtype=np.int64)])
        n, k = self.nodes_per_cell, self.shard_size
        return {"pairs": len(pairs), "max_overlap": int(pairs.max()) if len(pairs) else 0,
                "bound": overlap_bound(k),
                "share_1": float((pairs >= 1).mean()) if len(pairs) else 0.0,
                "share_2": float((pairs >= 2).mean()) if len(pairs) else 0.0,
                "expected_1": hypergeometric_share(n, k, 1), "expected_2": hypergeometric_share(n, k, 2)}

    def deploy(self, change: Change, waves: Sequence[str] = WAVES, bake_s: float = 600.0, *, start_ns: int = 0,
               max_drop_rate: float = 0.001) -> Deployment:
        """Deploy ``change`` in ``waves`` (of "one-node", "one-cell", "one-az", "rest"), each baked for
        ``bake_s`` under canary traffic from ``start_ns``; a wave whose nodes drop more than
        ``max_drop_rate`` of their packets rolls the change back everywhere it reached."""
        return deploy(self, change, list(waves), bake_s, start_ns=start_ns, max_drop_rate=max_drop_rate)

    def canary(self, at_ns: int, flows_per_tenant: int = 8) -> dict[str, Any]:
        """One minute of canary flows per AZ through its tenants: failures and isolation violations."""
        return monitor(self, at_ns, flows_per_tenant)

    def availability(self, *, days: float, node_mtbf_h: float, node_mttr_min: float, seed: int,
                     az_outages: list[tuple[str, float, float]] | None = None,
                     poison_per_month: float = 0.0) -> dict[str, Any]:
        """Per-tenant availability over ``days`` of simulated failures (event-driven), with and
        without replication and shuffle sharding, against 99.99%."""
        return availability(self, days=days, node_mtbf_h=node_mtbf_h, node_mttr_min=node_mttr_min, seed=seed,
                            az_outages=az_outages, poison_per_month=poison_per_month)

    def report(self) -> dict[str, Any]:
        """Nodes, tenants per node, overlaps, connections per node, failures (see also availability())."""
        per_node = {n.name: 0 for n in self.nodes}
        for t in self.tenants:
            for name in t.nodes:
                per_node[name] += 1
        conns = self.connections_per_node()
        return {"nodes": len(self.nodes), "up": sum(n.up for n in self.nodes), "tenants": len(self.tenants),
                "tenants_per_node": per_node, "overlap": self.overlap_check(),
                "connections_per_node": {n.name: int(c) for n, c in zip(self.nodes, conns)},
                "connections": int(conns.sum()), "failures": [vars(f) for f in self.failovers],
                "isolation_violations": self.isolation_violations,
                "replication": self.replication, "nfs_port": NFS_PORT,
                "config_loop_bytes_per_s": self.config_loop.load(len(self.nodes))}

    def __repr__(self) -> str:
        return (f"Fleet(azs={self.azs}, cells_per_az={self.cells_per_az}, nodes_per_cell={self.nodes_per_cell}, "
                f"shard_size={self.shard_size}, replication={self.replication}, seed={self.seed}, "
                f"tenants={len(self.tenants)})")
