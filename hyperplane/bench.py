"""The packet-rate benchmark behind ``hyperplane bench``.

Each stage is one entry of :func:`stages`: a name, how to prepare one timed
round from the shared :class:`Workload`, and the stages it is compared with.
Rounds are interleaved (every stage once per round) so that a noisy neighbour
slows baseline and fast path alike, and each figure is the median over rounds.
Ratios are ratios of medians measured in the same process.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

import numpy as np

from hyperplane import _core, baselines, bench_network, traffic
from hyperplane.conntrack import ConnTrack
from hyperplane.ena import Interface
from hyperplane.maglev import Maglev, maglev_reference
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import Batch, TcpFlag, empty, ip
from hyperplane.rss import Rss


def line_rate_mpps(gbps: float, frame_bytes: int = 64) -> float:
    """Frames per second on the wire: each frame also costs 8 bytes of preamble and 12 of gap."""
    return gbps * 1e9 / ((frame_bytes + 20) * 8) / 1e6


@dataclass(frozen=True)
class Target:
    name: str
    mpps: float
    source: str


TARGETS = [
    Target("C5 25G line", line_rate_mpps(25), "64-byte line rate of C5's 25 Gbps ENA"),
    Target("C3 10G line", line_rate_mpps(10), "64-byte line rate of C3's 10 Gbps (82599 VF)"),
    # AWS's enhanced-networking launch material (2013): about 2 Mpps per instance
    # with SR-IOV against about 200 kpps through the Xen split driver before it.
    Target("enhanced net", 2.0, "packet rate on record with enhanced networking"),
    Target("pre-SR-IOV", 0.2, "packet rate on record before enhanced networking"),
]


class Skip(Exception):
    """A stage that cannot run here; the message says why (shown in the report)."""


@dataclass(frozen=True)
class Round:
    """One timed round of a stage: ``run()`` returns its seconds for ``packets`` packets."""

    run: Callable[[], float]
    packets: int


def timed(call: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    return run


@dataclass(frozen=True)
class Stage:
    name: str
    what: str
    prepare: Callable[[Workload], Round]
    baselines: tuple[str, ...] = ()


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
    _network: bench_network.NetworkSetup | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.batch = traffic.synthetic(flows=self.flows, packets=self.packets, seed=self.seed)

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


    def network(self) -> bench_network.NetworkSetup:
        """The network path's setup (1M packets on 100k connections; fewer with fewer packets)."""
        if self._network is None:
            packets = min(1_000_000, self.packets)
            self._network = bench_network.build(packets, max(1, packets // 10), self.seed)
        return self._network

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
                                 queues=8, seed=self.seed)
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


def _label(n: int) -> str:
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


def _conntrack_on_nat_flows(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = w.nat(flows)
        out = np.empty(len(setup.outbound), dtype=np.uint8)
        tracker = setup.tracker
        return _timed_process(lambda b: tracker.process(b, verdict_out=out), setup.outbound, tracker, 1)

    return prepare


def _nat_new(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        syn = w.nat(flows).syn

        def run() -> float:
            gateway = NatGateway([f"203.0.113.{10 + i}" for i in range(8)], capacity=flows * 5 // 4 + 8,
                                 queues=8, seed=w.seed, threads=1)
            start = time.perf_counter()
            gateway.process(syn)
            return time.perf_counter() - start

        return Round(run, flows)

    return prepare


def _maglev_build(backends: int, python: bool) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        names = [f"10.{i >> 8}.{i & 255}.1:80" for i in range(backends)]
        if python:
            return Round(timed(lambda: maglev_reference(names, 65537)), 65537)
        return Round(timed(lambda: Maglev(names, size=65537)), 65537)

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


def _conntrack_on_nlb_flows(flows: int) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = w.nlb(flows)
        out = np.empty(len(setup.data), dtype=np.uint8)
        tracker = setup.tracker
        return _timed_process(lambda b: tracker.process(b, verdict_out=out), setup.data, tracker, 1)

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
        size = _label(n)
        out += [
            Stage(f"memory.random_read[{size}]", "64-byte random reads, 16 in flight, table-sized",
                  _random_read(n)),
            Stage(f"dpdk.rte_hash[{size}]", "DPDK rte_hash_lookup_bulk_data, bursts of 32", _rte_hash(n)),
            Stage(f"conntrack.established[{size}]", f"{size} live flows, 8 queues, 1 thread",
                  _established(n, 1), (f"memory.random_read[{size}]", f"dpdk.rte_hash[{size}]")),
            Stage(f"conntrack.established[{size}]x2", "the same, 2 threads", _established(n, 2),
                  (f"conntrack.established[{size}]",)),
        ]
    largest = _label(max(table_sizes))
    out += [
        Stage(f"conntrack.insert[{largest}]", "new connections (SYN) into an empty table",
              _insert(max(table_sizes)), (f"conntrack.established[{largest}]",)),
        Stage("conntrack.mixed", "the synthetic trace into an empty table", _mixed),
        Stage("ena.allowances[c5.xlarge]", "RSS + allowances + latency, no tracking, trace at 1/10 rate",
              _ena("c5.xlarge", 10, conntrack=False), ("rss.queue",)),
        Stage("ena.interface[c5.xlarge]", "the same with the type's conntrack (262,144)", _ena("c5.xlarge", 10),
              ("conntrack.mixed", "ena.allowances[c5.xlarge]")),
        Stage("ena.interface[c5.xlarge]/over", "the trace at its own rate (default 4 Mpps: 3.6x the pps allowance)",
              _ena("c5.xlarge", 1), ("ena.interface[c5.xlarge]",)),
    ]
    for backends in (10, 100, 1000):
        out += [
            Stage(f"maglev.build_python[{backends}]", f"pure-Python Maglev, {backends} backends (M slots/s)",
                  _maglev_build(backends, True)),
            Stage(f"maglev.build[{backends}]", f"Maglev table of 65537 for {backends} backends (M slots/s)",
                  _maglev_build(backends, False), (f"maglev.build_python[{backends}]",)),
        ]
    for n in (n for n in table_sizes if 100_000 <= n <= 1_000_000):
        size = _label(n)
        same = f"conntrack.nlb_flows[{size}]"
        out += [
            Stage(same, f"plain conntrack on the NLB's {size} flows, 1 thread", _conntrack_on_nlb_flows(n)),
            Stage(f"nlb.established[{size}]", f"{size} flows, 2 zones x 16 targets, 8 queues, 1 thread",
                  _nlb_data(n), (same,)),
            Stage(f"nlb.established[{size}]x2", "the same, 2 threads", _nlb_data(n, 2), (f"nlb.established[{size}]",)),
        ]
    for n in (n for n in table_sizes if 100_000 <= n <= 1_000_000):
        size = _label(n)
        same = f"conntrack.nat_flows[{size}]"
        out += [
            Stage(same, f"plain conntrack on the NAT's {size} flows, outbound, 1 thread", _conntrack_on_nat_flows(n)),
            Stage(f"nat.outbound[{size}]", f"{size} connections, 8 addresses, 8 queues, 1 thread",
                  _nat_traffic(n, "outbound"), (same,)),
            Stage(f"nat.inbound[{size}]", "replies translated back, 1 thread", _nat_traffic(n, "inbound"), (same,)),
            Stage(f"nat.mixed[{size}]", "half outbound, half replies, 1 thread", _nat_traffic(n, "mixed"), (same,)),
            Stage(f"nat.mixed[{size}]x2", "the same, 2 threads", _nat_traffic(n, "mixed", 2),
                  (f"nat.mixed[{size}]",)),
            Stage(f"nat.new[{size}]", "new connections (SYN) into an empty gateway, 1 thread", _nat_new(n),
                  (f"nat.outbound[{size}]",)),
        ]
    out += [
        Stage("network.stages", "the path's stages alone on the packets each saw (sum of their times)",
              _network(bench_network.stages_round)),
        Stage("network.path", "ENI > SG > route > NAT GW > IGW and back; packets/10 connections (100k at 1M)",
              _network(bench_network.path_round), ("network.stages",)),
    ]
    return out


def _network(one_round: Callable[[bench_network.NetworkSetup], float]) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        setup = w.network()
        return Round(lambda: one_round(setup), len(setup.batch))

    return prepare


@dataclass
class StageResult:
    name: str
    what: str
    packets: int
    seconds: list[float]
    baselines: dict[str, float | None]
    skipped: str | None = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def mpps(self) -> float:
        return self.packets / self.median_s / 1e6

    @property
    def ns_per_packet(self) -> float:
        return self.median_s / self.packets * 1e9

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.skipped:
            d.update(
                median_s=self.median_s,
                mpps=self.mpps,
                ns_per_packet=self.ns_per_packet,
                interfaces_per_core={t.name: self.mpps / t.mpps for t in TARGETS},
            )
        return d


def run(
    packets: int = 4_000_000,
    flows: int = 200_000,
    rounds: int = 7,
    seed: int = 1,
    lookups: int = 4_000_000,
    table_sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000, 4_000_000),
    select: Callable[[str], bool] | None = None,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Measure every stage (those ``select`` keeps); returns what ``hyperplane bench --json`` writes."""
    if min(packets, flows, rounds, lookups, *table_sizes) < 1:
        raise ValueError("packets, flows, rounds, lookups and table sizes must be positive")
    say = progress or (lambda _msg: None)
    chosen = [s for s in stages(table_sizes) if select is None or select(s.name)]
    say(f"generating {packets:,} packets in {flows:,} flows (seed {seed})")
    workload = Workload(flows=flows, packets=packets, seed=seed, lookups=lookups, rounds=rounds)
    prepared: dict[str, Round] = {}
    skipped: dict[str, str] = {}
    for s in chosen:
        say(f"preparing {s.name}")
        try:
            prepared[s.name] = s.prepare(workload)
        except Skip as why:
            skipped[s.name] = str(why)
    seconds: dict[str, list[float]] = {name: [] for name in prepared}
    for r in range(rounds):
        say(f"round {r + 1}/{rounds}")
        for name, round_ in prepared.items():
            seconds[name].append(round_.run())
    results: dict[str, StageResult] = {}
    for s in chosen:
        if s.name in skipped:
            results[s.name] = StageResult(s.name, s.what, 0, [], {}, skipped[s.name])
        else:
            results[s.name] = StageResult(s.name, s.what, prepared[s.name].packets, seconds[s.name], {})
    for s in chosen:
        res = results[s.name]
        if res.skipped:
            continue
        for b in s.baselines:
            base = results.get(b)
            # How many times the baseline's packet rate this stage reaches.
            res.baselines[b] = res.mpps / base.mpps if base and not base.skipped else None
    return {
        "command": command,
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "toeplitz_impls": _core.toeplitz_impls(),
        },
        "config": {"packets": packets, "flows": flows, "rounds": rounds, "seed": seed, "lookups": lookups,
                   "table_sizes": list(table_sizes)},
        "targets": [asdict(t) for t in TARGETS],
        "stages": [r.as_dict() for r in results.values()],
    }


@cache
def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def format_table(report: dict[str, Any]) -> str:
    """The report as the text table ``hyperplane bench`` prints."""
    cfg = report["config"]
    head = (
        f"hyperplane bench: {cfg['packets']:,}-packet synthetic trace ({cfg['flows']:,} flows), "
        f"{cfg['lookups']:,} lookups per table size, median of {cfg['rounds']} rounds "
        f"({report['machine']['cpu']}, {report['machine']['cores']} cores)"
    )
    cols = ["stage", "Mpps", "ns/pkt", "vs baselines (x their rate)"] + [t["name"] for t in report["targets"]]
    rows, notes = [], []
    for s in report["stages"]:
        if s["skipped"]:
            rows.append([s["name"], "-", "-", "skipped (see below)"] + ["-"] * len(report["targets"]))
            notes.append(f"{s['name']}: skipped: {s['skipped']}")
            continue
        ratios = ", ".join(f"{v:.2f}x {k}" for k, v in s["baselines"].items() if v is not None)
        rows.append([s["name"], f"{s['mpps']:.1f}", f"{s['ns_per_packet']:.2f}", ratios]
                    + [f"{v:.1f}x" for v in s["interfaces_per_core"].values()])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in (0, 3) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    targets = "; ".join(f"{t['name']} = {t['mpps']:.2f} Mpps" for t in report["targets"])
    return "\n".join(
        [head, "", line(cols), line(["-" * w for w in widths]), *map(line, rows), "",
         "Target columns: how many such interfaces one core keeps up with in real time",
         f"({targets}).", *notes]
    )
