"""A sweep's points give the same results serially, on two worker processes and as Ray tasks, in any order."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from hyperplane.scenario import Scenario
from hyperplane.sweep import SweepResult, points, sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
VALUES = {"public_ips": [1, 2], "connections": ["4k", "6k"]}


def small() -> Scenario:
    return Scenario.load(SCENARIOS / "nat_port_exhaustion.toml").with_values(
        {"clients": 6000, "per_destination": 2500, "duration": "6s", "connections": "6k", "expect.0.min": 0})


def results(result: SweepResult) -> list[dict[str, Any]]:
    """Each point without its timings (the one thing allowed to differ between identical runs)."""
    out = []
    for p in result.data["points"]:
        report = {k: v for k, v in p["report"].items() if k != "timings"}
        out.append({**{k: v for k, v in p.items() if k != "report"}, "report": report})
    return out


@pytest.fixture(scope="module")
def serial() -> SweepResult:
    return sweep(small(), VALUES, workers=1, seed=5)


def test_points_are_the_product_with_seeds_of_their_own_values() -> None:
    pts = points(small(), VALUES, seed=5)
    assert [dict(p.values) for p in pts] == [
        {"public_ips": 1, "connections": "4k"}, {"public_ips": 1, "connections": "6k"},
        {"public_ips": 2, "connections": "4k"}, {"public_ips": 2, "connections": "6k"}]
    reordered = points(small(), {"connections": ["6k", "4k"], "public_ips": [2, 1]}, seed=5)
    seed_of = {tuple(sorted(p.values.items())): p.seed for p in pts}
    assert all(seed_of[tuple(sorted(p.values.items()))] == p.seed for p in reordered)
    assert len(set(seed_of.values())) == 4


def test_serial_results_answer_the_question(serial: SweepResult) -> None:
    forwarded = {(p["point"]["public_ips"], p["point"]["connections"]): p["values"]["FORWARD"] for p in serial.data["points"]}
    assert forwarded == {(1, "4k"): 2500, (1, "6k"): 2500, (2, "4k"): 4000, (2, "6k"): 5000}


def test_two_worker_processes_give_the_same_points(serial: SweepResult) -> None:
    assert results(sweep(small(), VALUES, workers=2, seed=5)) == results(serial)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'hyperplane[ray]')")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="Ray's own binaries do not start under the AddressSanitizer preload (the plain run tests Ray)")
def test_ray_gives_the_same_points(serial: SweepResult) -> None:
    """A local Ray of 2 CPUs, started and stopped by the sweep."""
    assert results(sweep(small(), VALUES, ray="auto", workers=2, seed=5)) == results(serial)


def test_a_failed_point_keeps_its_error_and_the_others_finish() -> None:
    result = sweep(small(), {"public_ips": [1, 300]}, workers=1, seed=5)
    ok, bad = result.data["points"]
    assert ok["error"] is None and ok["values"]["FORWARD"] == 2500
    assert "public_ips" in bad["error"] and result.failed == [bad]


def test_save_and_load(serial: SweepResult, tmp_path: Path) -> None:
    serial.save(tmp_path)
    assert SweepResult.load(tmp_path).data == serial.data
    assert (tmp_path / "sweep.html").stat().st_size > 10_000 and list(tmp_path.glob("metric-*.png"))
