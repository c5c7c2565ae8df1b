"""Runs a scenario window by window: generate, cut at events, process, count, report.

Per window the runner keeps only counts (verdicts by reason, the stage's counters), so memory is
one window's packets whatever the duration. Events split the packets at their time: those before
go through the stage, the event is applied, the rest follow. Nothing depends on wall time but
the timings; packets in equals forwarded plus dropped by reason, checked at the end.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperplane import __version__
from hyperplane.scenario.kinds import KINDS, Event
from hyperplane.scenario.run import SCHEMA, Run
from hyperplane.scenario.seeds import derive, draw
from hyperplane.scenario.traffic import windows
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.scenario.scenario import Scenario

Progress = Callable[[int, int], None]
_VERDICTS = len(Verdict)


def _bar(total_ns: int, name: str) -> tuple[Progress, Callable[[], None]]:
    """A rich progress bar over packet time; returns its update and its close."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[at]}"),
                   TimeElapsedColumn(), transient=False)
    task = bar.add_task(name, total=total_ns, at="")
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, at=f"{done / 1e9:,.1f} s of {total / 1e9:,.1f} s packet time")

    return update, bar.stop


def execute(sc: Scenario, seed: int | None, progress: bool | Progress) -> Run:
    drawn = seed is None and sc.seed is None
    seed = (sc.seed if seed is None else seed) if not drawn else draw()
    assert seed is not None
    started = time.perf_counter()
    kind = KINDS[sc.kind](sc.stage, derive(seed, "stage"))
    events = kind.expand(list(sc.events), sc.duration_ns)
    pending = iter(events)
    upcoming: Event | None = next(pending, None)
    applied: list[dict[str, Any]] = []
    verdicts_per_window: list[np.ndarray] = []
    samples: list[dict[str, int]] = []
    ends: list[int] = []
    packets, stage_s = 0, 0.0
    update, close = (_bar(sc.duration_ns, sc.name) if progress is True else
                     (progress, lambda: None) if callable(progress) else (None, lambda: None))
    try:
        for _, end, batch in windows(sc.sources, sc.duration_ns, sc.window_ns, derive(seed, "traffic"), kind.resolve):
            verdict = np.empty(len(batch), dtype=np.uint8)
            start = 0
            t0 = time.perf_counter()
            while upcoming is not None and upcoming.at_ns < end:
                cut = int(np.searchsorted(batch["ts"], upcoming.at_ns, side="left"))
                verdict[start:cut] = kind.process(batch[start:cut])
                kind.apply(upcoming)
                applied.append({"at_s": upcoming.at_ns / 1e9, "action": upcoming.action, "origin": upcoming.origin,
                                "args": dict(upcoming.args), "text": upcoming.describe()})
                start = cut
                upcoming = next(pending, None)
            verdict[start:] = kind.process(batch[start:])
            stage_s += time.perf_counter() - t0
            packets += len(batch)
            verdicts_per_window.append(np.bincount(verdict, minlength=_VERDICTS)[:_VERDICTS])
            samples.append(kind.sample())
            ends.append(end)
            if update is not None:
                update(end, sc.duration_ns)
    finally:
        close()
    per_window = np.array(verdicts_per_window, dtype=np.int64).reshape(-1, _VERDICTS)
    totals = per_window.sum(axis=0)
    state = kind.state()
    if int(totals.sum()) != packets:
        raise RuntimeError(f"packets in ({packets}) differ from verdicts counted ({int(totals.sum())})")
    wall = time.perf_counter() - started
    series_counters = sorted({k for s in samples for k in s})
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "scenario": {"name": sc.name, "kind": sc.kind, "description": sc.description, "origin": sc.origin,
                     "document": sc.document, "duration_s": sc.duration_ns / 1e9, "window_s": sc.window_ns / 1e9},
        "seed": seed,
        "seed_drawn": drawn,
        "stage": kind.describe(),
        "versions": {"hyperplane": __version__, "numpy": np.__version__, "python": platform.python_version()},
        "packets": packets,
        "verdicts": {v.name: int(totals[v]) for v in Verdict if totals[v] or v == Verdict.FORWARD},
        "events": applied,
        "series": {
            "t_s": [e / 1e9 for e in ends],
            "verdicts": {v.name: per_window[:, v].tolist() for v in Verdict if totals[v]},
            "counters": {k: _deltas([s.get(k, 0) for s in samples]) for k in series_counters},
        },
        **state,
        "timings": {"wall_s": wall, "stage_s": stage_s, "packets_per_s": packets / stage_s if stage_s else 0.0},
    }
    run = Run(report)
    run.data["checks"] = run.evaluate([(e.value, e.min, e.max) for e in sc.expect])
    return run


def _deltas(cumulative: list[int]) -> list[int]:
    """Per-window increments of a cumulative counter."""
    values = np.array(cumulative, dtype=np.int64)
    return [int(v) for v in np.diff(values, prepend=0)]
