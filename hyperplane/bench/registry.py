"""The benchmark's stages: each a name, how to prepare one timed round from the shared
:class:`~hyperplane.bench.workloads.Workload`, and the stages it is compared with. A new stage
is one more entry of :func:`stages`."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from hyperplane import _core, baselines, traffic
from hyperplane.bench.ecs import ecs_stages
from hyperplane.bench.fleet import fleet_stages
from hyperplane.bench.mesh import mesh_stages
from hyperplane.bench.network import network_stages
from hyperplane.bench.pcap import pcap_stages
from hyperplane.bench.stage import Round, Skip, Stage, timed
from hyperplane.bench.workloads import Workload
from hyperplane.conntrack import ConnTrack
from hyperplane.ena import Interface
from hyperplane.flooding import colliding_flows, random_flows
from hyperplane.maglev import Maglev, maglev_reference
from hyperplane.nat import NatGateway
from hyperplane.packets import Batch, TcpFlag, empty
from hyperplane.rss import Rss


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


def _synthetic(w: Workload) -> Round:
    return Round(timed(lambda: traffic.synthetic(flows=w.flows, packets=w.packets, seed=w.seed)), w.packets)


def _rss_hash(impl: str) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        if impl not in _core.toeplitz_impls():
            raise Skip(f"this CPU lacks what the {impl} path needs (AVX-512 and GFNI)")
        rss, out = Rss(queues=8), np.empty(len(w.batch), dtype=np.uint32)
        return Round(timed(lambda: rss.hash(w.batch, out=out, impl=impl)), len(w.batch))  # type: ignore[arg-type]

    return prepare


def _rss_queue(w: Workload) -> Round:
    rss, out = Rss(queues=8), np.empty(len(w.batch), dtype=np.uint16)
    return Round(timed(lambda: rss.queue(w.batch, out=out)), len(w.batch))


def _random_read(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        size = w.tracker(flows).memory_bytes
        return Round(lambda: float(_core.random_read_seconds(size, w.lookups, w.seed)[0]), w.lookups)

    return prepare


def _rte_hash(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        reason = baselines.dpdk_available()
        if reason:
            raise Skip(reason)
        setup, _, pick = w.established(flows)
        keys = np.zeros(flows, baselines.FLOW_KEY_DTYPE)
        lo = (setup["src_ip"].astype(np.uint64) << 16 | setup["src_port"]) <= (
            setup["dst_ip"].astype(np.uint64) << 16 | setup["dst_port"])
        keys["ip_lo"] = np.where(lo, setup["src_ip"], setup["dst_ip"])
        keys["ip_hi"] = np.where(lo, setup["dst_ip"], setup["src_ip"])
        keys["port_lo"] = np.where(lo, setup["src_port"], setup["dst_port"])
        keys["port_hi"] = np.where(lo, setup["dst_port"], setup["src_port"])
        keys["proto"] = setup["proto"]
        # The harness times its own rounds (one process, no Python in the loop);
        # they are handed out one per round of this benchmark.
        result = baselines.dpdk_hash_lookup_rate(keys, pick, rounds=w.rounds, entries=flows * 5 // 4 + 8)
        seconds = iter(result["lookup_s"])
        return Round(lambda: float(next(seconds)), w.lookups)

    return prepare


def _established(flows: int, threads: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        ct = w.tracker(flows)
        _, lookups, _ = w.established(flows)
        out = np.empty(len(lookups), dtype=np.uint8)

        def run() -> float:
            ct.threads = threads
            start = time.perf_counter()
            ct.process(lookups, verdict_out=out)
            return time.perf_counter() - start

        return Round(run, len(lookups))

    return prepare


def _insert(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup, _, _ = w.established(flows)
        syns = setup.copy()
        syns["tcp_flags"], syns["length"] = TcpFlag.SYN, 60

        def run() -> float:
            ct = ConnTrack(flows * 5 // 4 + 8, queues=8, seed=w.seed, threads=1)
            start = time.perf_counter()
            ct.process(syns)
            return time.perf_counter() - start

        return Round(run, flows)

    return prepare


FLOOD_FLOWS = 20_000


def _flood(crafted: str) -> Callable[[Workload], Round]:
    """New flows into a fresh table (one shard, seed 2): random ones ("none"), ones crafted to
    collide under another table's key ("other": what an attacker can do), or under this table's
    own key ("own": what the secret key prevents)."""

    def prepare(w: Workload) -> Round:
        key = ConnTrack(8, seed=2 if crafted == "own" else 1).hash_key
        flows = random_flows(FLOOD_FLOWS, seed=w.seed) if crafted == "none" else colliding_flows(FLOOD_FLOWS, key)

        def run() -> float:
            ct = ConnTrack(FLOOD_FLOWS * 5 // 4, queues=1, seed=2, threads=1)
            start = time.perf_counter()
            ct.process(flows)
            return time.perf_counter() - start

        return Round(run, FLOOD_FLOWS)

    return prepare


def _timed_process(stage: Callable[[Batch], object], batch: Batch, threads_of: Any, threads: int) -> Round:
    def run() -> float:
        threads_of.threads = threads
        start = time.perf_counter()
        stage(batch)
        return time.perf_counter() - start

    return Round(run, len(batch))


def _nat_traffic(flows: int, which: str, threads: int = 1) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = w.nat(flows)
        batch: Batch = getattr(setup, which)
        out, verdict = empty(len(batch)), np.empty(len(batch), dtype=np.uint8)
        gateway = setup.gateway
        return _timed_process(lambda b: gateway.process(b, out=out, verdict_out=verdict), batch, gateway, threads)

    return prepare


def _nat_new(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        syn = w.nat(flows).syn

        def run() -> float:
            gateway = NatGateway([f"203.0.113.{10 + i}" for i in range(8)], capacity=flows * 5 // 4 + 8,
                                 queues=8, seed=w.seed, threads=1, limits=False)
            start = time.perf_counter()
            gateway.process(syn)
            return time.perf_counter() - start

        return Round(run, flows)

    return prepare


def _maglev_build(backends: int, python: bool) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        names = [f"10.{i >> 8}.{i & 255}.1:80" for i in range(backends)]
        build = (lambda: maglev_reference(names, 65537)) if python else (lambda: Maglev(names, size=65537))

        def quiet() -> object:
            # 1000 backends in 65537 slots is below Maglev's M > 100 N on purpose: the build's
            # cost at that count is what is measured, not its balance.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return build()

        return Round(timed(quiet), 65537)

    return prepare


def _nlb_data(flows: int, threads: int = 1) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = w.nlb(flows)
        n = len(setup.data)
        out, verdict, target = empty(n), np.empty(n, dtype=np.uint8), np.empty(n, dtype=np.uint32)
        balancer = setup.balancer
        return _timed_process(lambda b: balancer.process(b, out=out, verdict_out=verdict, target_out=target),
                              setup.data, balancer, threads)

    return prepare


def _conntrack_beside(stage: str, flows: int) -> Callable[[Workload], Round]:
    """Plain connection tracking over the flows and packets ``stage`` ("nat" or "nlb") is timed on:
    its baseline."""

    def prepare(w: Workload) -> Round:
        tracker, batch = (w.nat(flows).tracker, w.nat(flows).outbound) if stage == "nat" else (
            w.nlb(flows).tracker, w.nlb(flows).data)
        out = np.empty(len(batch), dtype=np.uint8)
        return _timed_process(lambda b: tracker.process(b, verdict_out=out), batch, tracker, 1)

    return prepare


def _mixed(w: Workload) -> Round:
    def run() -> float:
        ct = ConnTrack(w.flows * 5 // 4 + 8, queues=8, seed=w.seed, threads=1)
        start = time.perf_counter()
        ct.process(w.batch)
        return time.perf_counter() - start

    return Round(run, len(w.batch))


def _ena(type_name: str, slowdown: int, conntrack: bool = True) -> Callable[[Workload], Round]:
    """The synthetic trace through a fresh ENA interface each round; ``slowdown`` stretches its time
    (the trace is 4 Mpps over 1 s by default: a tenth of that fits a c5.xlarge's allowances)."""

    def prepare(w: Workload) -> Round:
        batch = w.batch
        if slowdown != 1:
            batch = batch.copy()
            batch["ts"] *= np.uint64(slowdown)
        verdict, delay = np.empty(len(batch), dtype=np.uint8), np.empty(len(batch), dtype=np.uint64)

        def run() -> float:
            eni = Interface(type_name, seed=w.seed, conntrack=conntrack)
            start = time.perf_counter()
            eni.process(batch, verdict_out=verdict, delay_out=delay)
            return time.perf_counter() - start

        return Round(run, len(batch))

    return prepare


def stages(table_sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000, 4_000_000)) -> list[Stage]:
    """Every stage, in report order. A new stage is one more entry here."""
    out = [
        Stage("traffic.synthetic", "generate the trace (numpy)", _synthetic),
        Stage("rss.hash[bitserial]", "Toeplitz, bit by bit (reference)", _rss_hash("bitserial")),
        Stage("rss.hash[table]", "Toeplitz, byte tables", _rss_hash("table"), ("rss.hash[bitserial]",)),
        Stage("rss.hash[gfni]", "Toeplitz, AVX-512 GFNI", _rss_hash("gfni"), ("rss.hash[bitserial]",)),
        Stage("rss.queue", "hash + 128-entry indirection", _rss_queue, ("rss.hash[bitserial]",)),
    ]
    for n in table_sizes:
        size = label(n)
        out += [
            Stage(f"memory.random_read[{size}]", "64-byte random reads, 16 in flight, table-sized",
                  _random_read(n)),
            Stage(f"dpdk.rte_hash[{size}]", "DPDK rte_hash_lookup_bulk_data, bursts of 32", _rte_hash(n)),
            Stage(f"conntrack.established[{size}]", f"{size} live flows, 8 queues, 1 thread",
                  _established(n, 1), (f"memory.random_read[{size}]", f"dpdk.rte_hash[{size}]")),
            Stage(f"conntrack.established[{size}]x2", "the same, 2 threads", _established(n, 2),
                  (f"conntrack.established[{size}]",)),
        ]
    largest = label(max(table_sizes))
    out += [
        Stage(f"conntrack.insert[{largest}]", "new connections (SYN) into an empty table",
              _insert(max(table_sizes)), (f"conntrack.established[{largest}]",)),
        Stage("conntrack.mixed", "the synthetic trace into an empty table", _mixed),
        Stage("conntrack.flood[random]", "20k random new flows into a fresh randomly keyed table", _flood("none")),
        Stage("conntrack.flood[other key]", "20k flows crafted to collide under another key", _flood("other"),
              ("conntrack.flood[random]",)),
        Stage("conntrack.flood[own key]", "20k flows crafted under the table's own key (what a secret key prevents)",
              _flood("own"), ("conntrack.flood[random]",)),
        Stage("ena.allowances[c5.xlarge]", "RSS + allowances + latency, no tracking, trace at 1/10 rate",
              _ena("c5.xlarge", 10, conntrack=False), ("rss.queue",)),
        Stage("ena.interface[c5.xlarge]", "the same with the type's conntrack (262,144)", _ena("c5.xlarge", 10),
              ("conntrack.mixed", "ena.allowances[c5.xlarge]")),
        Stage("ena.interface[c5.xlarge]/over", "the trace at its own rate (default 4 Mpps: 3.6x the pps allowance)",
              _ena("c5.xlarge", 1), ("ena.interface[c5.xlarge]",)),
    ]
    for backends in (10, 100, 1000):
        out += [
            Stage(f"maglev.build_python[{backends}]", f"pure-Python Maglev, {backends} backends",
                  _maglev_build(backends, True), unit="slots"),
            Stage(f"maglev.build[{backends}]", f"Maglev table of 65537 for {backends} backends",
                  _maglev_build(backends, False), (f"maglev.build_python[{backends}]",), unit="slots"),
        ]
    for n in (n for n in table_sizes if 100_000 <= n <= 1_000_000):
        size = label(n)
        same = f"conntrack.nlb_flows[{size}]"
        out += [
            Stage(same, f"plain conntrack on the NLB's {size} flows, 1 thread",
                  _conntrack_beside("nlb", n)),
            Stage(f"nlb.established[{size}]", f"{size} flows, 2 zones x 16 targets, 8 queues, 1 thread",
                  _nlb_data(n), (same,)),
            Stage(f"nlb.established[{size}]x2", "the same, 2 threads", _nlb_data(n, 2), (f"nlb.established[{size}]",)),
        ]
    for n in (n for n in table_sizes if 100_000 <= n <= 1_000_000):
        size = label(n)
        same = f"conntrack.nat_flows[{size}]"
        out += [
            Stage(same, f"plain conntrack on the NAT's {size} flows, outbound, 1 thread",
                  _conntrack_beside("nat", n)),
            Stage(f"nat.outbound[{size}]", f"{size} connections, 8 addresses, 8 queues, 1 thread",
                  _nat_traffic(n, "outbound"), (same,)),
            Stage(f"nat.inbound[{size}]", "replies translated back, 1 thread", _nat_traffic(n, "inbound"), (same,)),
            Stage(f"nat.mixed[{size}]", "half outbound, half replies, 1 thread", _nat_traffic(n, "mixed"), (same,)),
            Stage(f"nat.mixed[{size}]x2", "the same, 2 threads", _nat_traffic(n, "mixed", 2),
                  (f"nat.mixed[{size}]",)),
            Stage(f"nat.new[{size}]", "new connections (SYN) into an empty gateway, 1 thread", _nat_new(n),
                  (f"nat.outbound[{size}]",)),
        ]
    # The fleet's stages hold 1M connections: only in runs that measure tables of that size.
    fleet = fleet_stages() if 1_000_000 in table_sizes else []
    return out + network_stages() + pcap_stages() + ecs_stages() + mesh_stages() + fleet
