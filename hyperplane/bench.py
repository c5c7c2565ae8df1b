"""The packet-rate benchmark behind ``hyperplane bench``.

Each stage is one entry in :data:`STAGES`: a name, how to build the timed call
from the shared workload, and the stage it is compared with. Runs are
interleaved (every stage once per round) so that a noisy neighbour slows
baseline and fast path alike, and each figure is the median over rounds.
Speed-ups are ratios of medians measured in the same process.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hyperplane import _core, traffic
from hyperplane.packets import Batch
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


@dataclass
class Workload:
    """What every stage runs on: one synthetic trace, generated once."""

    flows: int
    packets: int
    seed: int
    batch: Batch = field(init=False)

    def __post_init__(self) -> None:
        self.batch = traffic.synthetic(flows=self.flows, packets=self.packets, seed=self.seed)


@dataclass(frozen=True)
class Stage:
    name: str
    what: str
    prepare: Callable[[Workload], Callable[[], object]]
    baseline: str | None = None


def _synthetic(w: Workload) -> Callable[[], object]:
    return lambda: traffic.synthetic(flows=w.flows, packets=w.packets, seed=w.seed)


def _rss_hash(impl: str) -> Callable[[Workload], Callable[[], object]]:
    def prepare(w: Workload) -> Callable[[], object]:
        rss, out = Rss(queues=8), np.empty(len(w.batch), dtype=np.uint32)
        return lambda: rss.hash(w.batch, out=out, impl=impl)  # type: ignore[arg-type]

    return prepare


def _rss_queue(w: Workload) -> Callable[[], object]:
    rss, out = Rss(queues=8), np.empty(len(w.batch), dtype=np.uint16)
    return lambda: rss.queue(w.batch, out=out)


STAGES: list[Stage] = [
    Stage("traffic.synthetic", "generate the trace (numpy)", _synthetic),
    Stage("rss.hash[bitserial]", "Toeplitz, bit by bit (reference)", _rss_hash("bitserial")),
    Stage("rss.hash[table]", "Toeplitz, byte tables", _rss_hash("table"), baseline="rss.hash[bitserial]"),
    *(
        [Stage("rss.hash[gfni]", "Toeplitz, AVX-512 GFNI", _rss_hash("gfni"), baseline="rss.hash[bitserial]")]
        if "gfni" in _core.toeplitz_impls()
        else []
    ),
    Stage("rss.queue", "hash + 128-entry indirection", _rss_queue, baseline="rss.hash[bitserial]"),
]


@dataclass
class StageResult:
    name: str
    what: str
    packets: int
    seconds: list[float]
    baseline: str | None
    speedup: float | None = None

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
    stages: list[Stage] | None = None,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Measure every stage; returns what ``hyperplane bench --json`` writes."""
    if packets < 1 or flows < 1 or rounds < 1:
        raise ValueError("packets, flows and rounds must be positive")
    stages = STAGES if stages is None else stages
    say = progress or (lambda _msg: None)
    say(f"generating {packets:,} packets in {flows:,} flows (seed {seed})")
    workload = Workload(flows=flows, packets=packets, seed=seed)
    calls = {s.name: s.prepare(workload) for s in stages}
    seconds: dict[str, list[float]] = {s.name: [] for s in stages}
    for r in range(rounds):
        say(f"round {r + 1}/{rounds}")
        for s in stages:
            start = time.perf_counter()
            calls[s.name]()
            seconds[s.name].append(time.perf_counter() - start)
    results = {s.name: StageResult(s.name, s.what, packets, seconds[s.name], s.baseline) for s in stages}
    for res in results.values():
        if res.baseline in results:
            res.speedup = results[res.baseline].median_s / res.median_s
    return {
        "command": command,
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "toeplitz_impls": _core.toeplitz_impls(),
        },
        "config": {"packets": packets, "flows": flows, "rounds": rounds, "seed": seed},
        "targets": [asdict(t) for t in TARGETS],
        "stages": [r.as_dict() for r in results.values()],
    }


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
        f"hyperplane bench: {cfg['packets']:,} packets, {cfg['flows']:,} flows, "
        f"median of {cfg['rounds']} rounds, one core ({report['machine']['cpu']})"
    )
    cols = ["stage", "Mpps", "ns/pkt", "speed-up"] + [t["name"] for t in report["targets"]]
    rows = []
    for s in report["stages"]:
        speedup = f"{s['speedup']:.1f}x {s['baseline']}" if s["speedup"] else ""
        rows.append(
            [s["name"], f"{s['mpps']:.1f}", f"{s['ns_per_packet']:.2f}", speedup]
            + [f"{v:.1f}x" for v in s["interfaces_per_core"].values()]
        )
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in (0, 3) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    targets = "; ".join(f"{t['name']} = {t['mpps']:.2f} Mpps" for t in report["targets"])
    return "\n".join(
        [head, "", line(cols), line(["-" * w for w in widths]), *map(line, rows), "",
         "Target columns: how many such interfaces one core keeps up with in real time",
         f"({targets})."]
    )
