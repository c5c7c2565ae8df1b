"""The ``fleet.*`` benchmark stages: 96 nodes, 1,000 tenants, 1M live connections.

The fleet (3 AZs × one cell of 32 nodes, shards of 4) holds 700 NAT gateways and 300 NLBs with
1M established connections, built once per run outside the timing. ``fleet.process`` times one
batch of a packet on every connection through ``Fleet.process`` (routing, the sort by slot, each
slot's stage, the unsort); ``fleet.stages_alone`` times the same stages on the same packets
already split by slot, so the ratio of the two, measured in the same run, is what the fleet adds.
``fleet.process.replicated`` does the same with every touched slot's state copied to its
secondary after the batch. ``fleet.move`` times moving 1M NAT connections from one stage to
another (``export_state`` then ``import_state`` into a fresh stage), the issue's under-a-second goal.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from hyperplane.bench.stage import Round, Stage
from hyperplane.bench.workloads import Workload
from hyperplane.fleet import Fleet
from hyperplane.nat import NatGateway
from hyperplane.packets import Batch, TcpFlag, empty, ip
from hyperplane.verdict import Verdict

TENANTS: Final = 1_000
NAT_TENANTS: Final = 700
CONNECTIONS: Final = 1_000_000
MEMORY_LIMIT: Final = 4 * 2**30
"""The issue's bound on the whole fleet's memory (the process's peak resident size)."""
S: Final = 10**9


@dataclass
class FleetSetup:
    fleet: Fleet
    traffic: Batch  # one ACK per connection, in time order
    peak_bytes: int
    rounds: int = 0

    def next_batch(self) -> Batch:
        """The traffic one second later than the last round's (so time only moves forward)."""
        self.rounds += 1
        out = self.traffic.copy()
        out["ts"] += np.uint64(self.rounds * S)
        return out


def _build(seed: int, replication: bool) -> FleetSetup:
    fleet = Fleet(azs=["a", "b", "c"], cells_per_az=1, nodes_per_cell=32, shard_size=4, replication=replication,
                  seed=seed, capacity_per_slot=512)
    for k in range(TENANTS):
        az = "abc"[k % 3]
        if k < NAT_TENANTS:
            fleet.add_tenant("nat-gateway", az=az, public_ips=[f"203.0.{k // 250}.{k % 250 + 1}"],
                             private_cidrs=[f"10.{k // 250}.{k % 250}.0/24"])
        else:
            fleet.add_tenant("nlb", az=az, address=f"100.64.{k // 250}.{k % 250 + 1}", listeners=[(443, "tcp")],
                             targets=[f"10.200.{k // 250}.{k % 250}:443"])
    rng = np.random.default_rng(seed)
    n = CONNECTIONS
    tenant = rng.integers(0, TENANTS, n)
    nat = tenant < NAT_TENANTS
    b = empty(n)
    b["ts"] = np.arange(n, dtype=np.uint64)
    host = rng.integers(1, 255, n)
    b["src_ip"] = np.where(nat, ip("10.0.0.0") + (tenant // 250 << 16) + (tenant % 250 << 8) + host,
                           ip("198.18.0.0") + rng.integers(0, 2**16, n))
    b["src_port"] = 1024 + np.arange(n) % 60000
    b["dst_ip"] = np.where(nat, ip("198.51.100.7") + rng.integers(0, 64, n),
                           ip("100.64.0.0") + ((tenant - 0) // 250 << 8) + tenant % 250 + 1)
    b["dst_port"], b["proto"], b["tcp_flags"], b["length"] = 443, 6, TcpFlag.SYN, 60
    # Distinct tuples only: duplicates would be one connection, not two.
    _, first = np.unique(b[["src_ip", "dst_ip", "src_port"]], return_index=True)
    b = b[np.sort(first)]
    b["ts"] = np.arange(len(b), dtype=np.uint64)
    opened = fleet.process(b)
    replies = opened.packets.copy()
    replies["src_ip"], replies["dst_ip"] = opened.packets["dst_ip"], opened.packets["src_ip"]
    replies["src_port"], replies["dst_port"] = opened.packets["dst_port"], opened.packets["src_port"]
    replies["tcp_flags"], replies["ts"] = TcpFlag.SYN | TcpFlag.ACK, b["ts"] + np.uint64(S // 2)
    is_nat = fleet.slots_of(b)[0] < NAT_TENANTS
    fleet.process(replies[is_nat & (opened.verdict == Verdict.FORWARD)])
    traffic = b.copy()
    traffic["tcp_flags"], traffic["length"] = TcpFlag.ACK | TcpFlag.PSH, 200
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if peak > MEMORY_LIMIT:
        raise RuntimeError(f"fleet benchmark: peak memory {peak / 2**30:.2f} GB is over 4 GB")
    held = int(fleet.connections_per_node().sum())
    if held < 0.99 * CONNECTIONS:
        raise RuntimeError(f"fleet benchmark: {held} live connections, not ~{CONNECTIONS}")
    return FleetSetup(fleet, traffic, peak)


def setup_for(w: Workload, replication: bool) -> FleetSetup:
    key = f"fleet.setup[{replication}]"
    if key not in w.extra:
        for other in [k for k in w.extra if k.startswith("fleet.setup")]:
            del w.extra[other]  # one fleet at a time: the 4 GB bound is the run's
        w.extra[key] = _build(w.seed, replication)
    setup: FleetSetup = w.extra[key]
    return setup


def _through_fleet(replication: bool) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = setup_for(w, replication)

        def run() -> float:
            batch = setup.next_batch()
            start = time.perf_counter()
            setup.fleet.process(batch)
            return time.perf_counter() - start
        return Round(run, len(setup.traffic))
    return prepare


def _stages_alone(w: Workload) -> Round:
    setup = setup_for(w, False)
    fleet = setup.fleet
    _, slot, _ = fleet.slots_of(setup.traffic)
    order = np.argsort(slot, kind="stable")
    cuts = np.flatnonzero(np.diff(slot[order])) + 1
    bounds = list(zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(order)].tolist()))
    groups = [int(slot[order[a]]) for a, _ in bounds]
    stages = [fleet._stages[g] for g in groups]  # the fleet's own stages, with their state

    def run() -> float:
        batch = setup.next_batch()[order]  # already split by slot: no routing, no sort
        verdict = np.empty(len(batch), dtype=np.uint8)
        start = time.perf_counter()
        for stage, (a, b) in zip(stages, bounds):
            view = batch[a:b]
            stage.process(view, out=view, verdict_out=verdict[a:b])
        return time.perf_counter() - start
    return Round(run, len(setup.traffic))


def _move(w: Workload) -> Round:
    key = "fleet.move"
    if key not in w.extra:
        n = CONNECTIONS
        b = empty(n)
        rng = np.random.default_rng(w.seed)
        b["ts"] = np.arange(n, dtype=np.uint64)
        b["src_ip"] = ip("10.0.0.0") + rng.permutation(2**20)[:n]
        b["src_port"], b["dst_ip"], b["dst_port"] = 40000, ip("198.51.100.7"), 443
        b["proto"], b["tcp_flags"], b["length"] = 6, TcpFlag.SYN, 60

        def gateway() -> NatGateway:
            return NatGateway(["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13"], ["10.0.0.0/8"],
                              capacity=n + n // 10, limits=False, threads=1, seed=w.seed)
        source = gateway()
        source.process(b)
        w.extra[key] = (source, gateway)
    source, gateway = w.extra[key]

    def run() -> float:
        target = gateway()  # a fresh node's stage, its table untouched: allocated outside the timing
        start = time.perf_counter()
        result = target.import_state(source.export_state())
        seconds = time.perf_counter() - start
        if result.imported != len(source):
            raise RuntimeError(f"fleet.move: imported {result.imported} of {len(source)}")
        return seconds
    return Round(run, len(source))


def fleet_stages() -> list[Stage]:
    """The ``fleet.*`` stages."""
    what = f"96 nodes, {TENANTS:,} tenants ({NAT_TENANTS} NAT, {TENANTS - NAT_TENANTS} NLB), 1M live connections"
    return [
        Stage("fleet.stages_alone", f"{what}: the tenants' stages on the batch already split by slot", _stages_alone),
        Stage("fleet.process", f"{what}: Fleet.process (route, sort, stages, unsort)", _through_fleet(False),
              ("fleet.stages_alone",)),
        Stage("fleet.process.replicated", "the same with replication (each touched slot copied to its secondary)",
              _through_fleet(True), ("fleet.stages_alone",)),
        Stage("fleet.move", "1M NAT connections exported and imported into a fresh stage", _move, unit="connections"),
    ]
