"""Runs the stages: rounds interleaved (every stage once per round) so that a noisy neighbour
slows baseline and fast path alike; each figure the median over rounds, and ratios are ratios
of medians measured in the same process."""

from __future__ import annotations

import os
import platform
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hyperplane import _core
from hyperplane.bench.registry import label, stages
from hyperplane.bench.report import cpu_name
from hyperplane.bench.stage import Round, Skip, Stage
from hyperplane.bench.targets import TARGETS
from hyperplane.bench.workloads import Workload


@dataclass
class StageResult:
    name: str
    what: str
    packets: int
    seconds: list[float]
    baselines: dict[str, float | None]
    skipped: str | None = None
    unit: str = "packets"
    """What ``packets`` counts (Maglev builds: table slots); line-rate multiples only for packets."""

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
            d.update(median_s=self.median_s, mpps=self.mpps, ns_per_packet=self.ns_per_packet)
            if self.unit == "packets":
                d["interfaces_per_core"] = {t.name: self.mpps / t.mpps for t in TARGETS}
        return d


def _group(name: str, sizes: set[str]) -> str:
    """The table size a stage measures (``conntrack.established[1M]`` -> ``1M``), or ``""``."""
    found = re.search(r"\[([^\]]+)\]", name)
    return found[1] if found and found[1] in sizes else ""


def run(
    packets: int = 4_000_000,
    flows: int = 200_000,
    rounds: int = 7,
    seed: int = 1,
    lookups: int = 4_000_000,
    table_sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000, 4_000_000),
    select: Callable[[str], bool] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Measure every stage (those ``select`` keeps); returns what ``hyperplane bench --json`` writes.

    Stages are measured a table size at a time (each with the stages it is compared with), their
    rounds interleaved; then that size's tables are released, so memory peaks at the largest
    size's, not at the sum. ``progress(message, done, total)`` is told of every step."""
    if min(packets, flows, rounds, lookups, *table_sizes) < 1:
        raise ValueError("packets, flows, rounds, lookups and table sizes must be positive")
    chosen = [s for s in stages(table_sizes) if select is None or select(s.name)]
    if not chosen:
        raise ValueError("no stage matches")
    sizes = {label(n) for n in table_sizes}
    groups: dict[str, list[Stage]] = {}
    for s in chosen:
        groups.setdefault(_group(s.name, sizes), []).append(s)
    total = 1 + len(chosen) * (1 + rounds)
    done = 0

    def say(message: str, steps: int = 1) -> None:
        nonlocal done
        done += steps
        if progress:
            progress(message, done, total)

    say(f"generating {packets:,} packets in {flows:,} flows (seed {seed})", 0)
    workload = Workload(flows=flows, packets=packets, seed=seed, lookups=lookups, rounds=rounds)
    say("trace generated")
    results: dict[str, StageResult] = {}
    for members in groups.values():
        prepared: dict[str, Round] = {}
        for s in members:
            say(f"preparing {s.name}", 0)
            try:
                prepared[s.name] = s.prepare(workload)
            except Skip as why:
                results[s.name] = StageResult(s.name, s.what, 0, [], {}, str(why), s.unit)
                say(f"skipped {s.name}", 1 + rounds)
                continue
            say(f"prepared {s.name}")
        seconds: dict[str, list[float]] = {name: [] for name in prepared}
        for r in range(rounds):
            for name, round_ in prepared.items():
                say(f"round {r + 1}/{rounds}: {name}", 0)
                seconds[name].append(round_.run())
                say(f"round {r + 1}/{rounds}: {name}")
        for s in members:
            if s.name in prepared:
                results[s.name] = StageResult(s.name, s.what, prepared[s.name].packets, seconds[s.name], {}, None, s.unit)
        del prepared
        workload.release()
    results = {s.name: results[s.name] for s in chosen}
    for s in chosen:
        res = results[s.name]
        if res.skipped:
            continue
        for b in s.baselines:
            base = results.get(b)
            # How many times the baseline's rate this stage reaches.
            res.baselines[b] = res.mpps / base.mpps if base and not base.skipped else None
    return {
        "command": command,
        "machine": {
            "cpu": cpu_name(),
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
