"""``hyperplane bench`` end to end, as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hyperplane import bench, cli


def test_bench_quick_end_to_end(tmp_path: Path) -> None:
    exe = shutil.which("hyperplane")
    assert exe, "the hyperplane command is not installed"
    report_path = tmp_path / "report.json"
    done = subprocess.run([exe, "bench", "--quick", "--json", str(report_path)], capture_output=True,
                          text=True, check=True, timeout=300)
    for stage in bench.STAGES:
        assert stage.name in done.stdout
    assert "C5 25G line" in done.stdout and "speed-up" in done.stdout
    report = json.loads(report_path.read_text())
    assert report["config"]["packets"] == 200_000
    assert report["command"] == f"hyperplane bench --quick --json {report_path}"
    stages = {s["name"]: s for s in report["stages"]}
    assert list(stages) == [s.name for s in bench.STAGES]
    for s in stages.values():
        assert len(s["seconds"]) == 3 and s["mpps"] > 0
        assert s["interfaces_per_core"]["C5 25G line"] == pytest.approx(s["mpps"] / 37.2, rel=1e-3)
    table = stages["rss.hash[table]"]
    assert table["speedup"] == pytest.approx(stages["rss.hash[bitserial]"]["median_s"] / table["median_s"])


def test_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--packets", "20000", "--flows", "500", "--rounds", "1", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == {"packets": 20000, "flows": 500, "rounds": 1, "seed": 1}


def test_bad_arguments_exit_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--packets", "0"])
    assert exit_info.value.code == 2
    assert "--packets: must be a positive integer" in capsys.readouterr().err


def test_line_rates() -> None:
    assert bench.line_rate_mpps(10) == pytest.approx(14.88, abs=0.005)
    assert bench.line_rate_mpps(25) == pytest.approx(37.2, abs=0.05)
    assert bench.line_rate_mpps(100) == pytest.approx(148.8, abs=0.05)
