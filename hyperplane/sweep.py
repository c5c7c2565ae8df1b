"""Sweeps: a scenario run at every point of a product of values, locally or as Ray tasks.

Each point's seed is derived from the sweep's seed and the point's own values (not its place in
the list), and a point runs alone from its scenario, so its result is the same serially, on any
number of worker processes, on Ray, and in any order. A point that fails keeps its error and
the others finish. Worker processes are spawned, not forked: the engine's thread pools do not
survive a fork. Ray is imported only when asked for (``pip install "hyperplane[ray]"``).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperplane.scenario import Run, Scenario, ScenarioError
from hyperplane.scenario.seeds import derive, draw

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA = "hyperplane.sweep/1"
SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class Point:
    """One point of a sweep: the values it sets and its seed."""

    index: int
    values: Mapping[str, Any]
    seed: int


def points(scenario: Scenario, values: Mapping[str, Sequence[Any]], seed: int) -> list[Point]:
    """The product of ``values`` (key -> list), in the order given, each with its derived seed."""
    if not values:
        raise ScenarioError(f"{scenario.origin}: nothing to sweep: give --set KEY=V1,V2 or a [sweep] table")
    for key, options in values.items():
        scenario.resolve(key)
        if not options:
            raise ScenarioError(f"{scenario.origin}: sweep of {key} has no values")
    keys = list(values)
    out = []
    for index, combo in enumerate(itertools.product(*(values[k] for k in keys))):
        point = dict(zip(keys, combo))
        out.append(Point(index, point, derive(seed, "point", json.dumps(point, sort_keys=True, default=str))))
    return out


def summary(run: Run) -> dict[str, float]:
    """The numbers a sweep's table shows for a point: packets, verdicts and the checked values."""
    values: dict[str, float] = {"packets": float(run.data["packets"])}
    values |= {name: float(count) for name, count in run.verdicts.items()}
    for check in run.data.get("checks", []):
        name = check["value"].removeprefix("verdicts.")
        values[name] = check["actual"]
    return values


def run_point(scenario: Scenario, point: Point) -> dict[str, Any]:
    """Run one point; its error, if any, is kept as text (the sweep goes on)."""
    try:
        run = scenario.with_values(point.values).run(seed=point.seed)
    except Exception as e:  # noqa: BLE001 - a failed point is a result, reported with its error
        return {"index": point.index, "point": dict(point.values), "seed": point.seed, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc()}
    return {"index": point.index, "point": dict(point.values), "seed": point.seed, "error": None, "ok": run.ok,
            "values": summary(run), "report": run.data}


Progress = Callable[[int, int], None]


def _local(scenario: Scenario, todo: list[Point], workers: int, progress: Progress | None) -> list[dict[str, Any]]:
    if workers == 1:
        results = []
        for k, p in enumerate(todo):
            results.append(run_point(scenario, p))
            if progress:
                progress(k + 1, len(todo))
        return results
    results = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_point, scenario, p) for p in todo]
        for k, future in enumerate(as_completed(futures)):
            results.append(future.result())
            if progress:
                progress(k + 1, len(todo))
    return results


def _ray(scenario: Scenario, todo: list[Point], address: str, workers: int, progress: Progress | None) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise RuntimeError('Ray is not installed: pip install "hyperplane[ray]"') from None
    started = not ray.is_initialized()
    if started:
        if address == "auto":
            ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        else:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1)(run_point)
        pending = [task.remote(scenario, p) for p in todo]
        results = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done))
            if progress:
                progress(len(results), len(todo))
        return results
    finally:
        if started:
            ray.shutdown()


class SweepResult:
    """A sweep's points (in point order, whichever finished first) and its report."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a hyperplane sweep report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        self.data = data

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [p for p in self.data["points"] if p.get("error") or not p.get("ok", True)]

    def save(self, directory: str | os.PathLike[str], *, plots: bool = True) -> Path:
        """``sweep.json`` (each point's report inside), the plots of each metric and ``sweep.html``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / SWEEP_FILE).write_text(json.dumps(self.data, indent=1) + "\n", encoding="utf-8")
        if plots:
            from hyperplane.report.html import sweep_page
            from hyperplane.report.plots import sweep_figure
            from hyperplane.report.tables import swept

            keys, _ = swept(self.data)
            for k, metric in enumerate(self.data["metrics"] if keys else []):
                fig = sweep_figure(self.data["points"], keys, metric)
                fig.savefig(out / f"metric-{k}.png", dpi=100)
            (out / "sweep.html").write_text(sweep_page(self.data), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> SweepResult:
        path = Path(directory)
        path = path / SWEEP_FILE if path.is_dir() else path
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except OSError as e:
            raise ValueError(f"{path}: cannot read it ({e.strerror})") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None

    def print(self, console: Console | None = None) -> None:
        from hyperplane.report.tables import print_sweep

        print_sweep(self.data, console)


def sweep(
    scenario: Scenario,
    values: Mapping[str, Sequence[Any]] | None = None,
    *,
    workers: int | None = None,
    ray: str | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Run ``scenario`` at every point of ``values`` (default: its ``[sweep]`` table).

    ``workers`` processes (default: this machine's cores; 1 runs them here), or Ray tasks with
    ``ray="auto"`` (a local Ray of ``workers`` CPUs) or ``ray="ADDRESS"`` (a running cluster)."""
    values = dict(scenario.sweep if values is None else values)
    seed_drawn = seed is None and scenario.seed is None
    base = draw() if seed_drawn else scenario.seed if seed is None else seed
    assert base is not None
    todo = points(scenario, values, base)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    results = _ray(scenario, todo, ray, workers, progress) if ray else _local(scenario, todo, workers, progress)
    results.sort(key=lambda r: r["index"])
    metrics = list(dict.fromkeys(m for r in results for m in r.get("values", {})))
    return SweepResult({"schema": SCHEMA, "scenario": scenario.name, "origin": scenario.origin, "seed": base,
                        "seed_drawn": seed_drawn, "keys": list(values), "metrics": metrics, "points": results,
                        "runner": f"ray {ray}" if ray else f"{workers} local process{'es' if workers > 1 else ''}"})
