"""``hyperplane run``, ``report``, ``sweep`` and ``catalog`` as a user runs them: output and exit codes.

Exit codes: 0 done, 1 the work failed (a check, a point), 2 bad usage (an option, a file, a key).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hyperplane import cli

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
NAT = str(SCENARIOS / "nat_port_exhaustion.toml")
SMALL = ["--set", "connections=3k", "--set", "clients=3000", "--set", "per_destination=1000"]


def test_run_saves_and_report_shows_it_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nat"
    assert cli.main(["run", NAT, *SMALL, "--set", "expect.0.min=1000", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "DROP_NO_PORT" in shown and "ErrorPortAllocation" in shown and "2,000" in shown
    assert {"report.json", "report.html", "drops_by_reason.png", "metrics.svg"} <= {p.name for p in out.iterdir()}
    assert cli.main(["report", str(out)]) == 0
    again = capsys.readouterr().out
    assert "DROP_NO_PORT" in again and "ErrorPortAllocation" in again
    assert cli.main(["report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdicts"] == {"FORWARD": 1000, "DROP_NO_PORT": 2000}


def test_a_failed_check_exits_with_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", NAT, *SMALL, "--quiet"]) == 1  # the file expects 55,000 forwarded
    assert "1 check(s) failed: verdicts.FORWARD" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["run", "/nonexistent.toml"], "cannot read it"),
    (["run", NAT, "--set", "nosuch=1"], "no such key"),
    (["run", NAT, "--set", "clients"], "write KEY=VALUE"),
    (["run", NAT, "--set", "duration=10"], "with its unit"),
    (["report", "/nonexistent"], "cannot read it"),
    (["sweep", NAT, "--set", "nosuch=1,2"], "no such key"),
    (["catalog", "z9"], "no instance type matches 'z9'"),
    (["run", NAT, "--bogus"], "No such option"),
])
def test_bad_usage_exits_with_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_sweep_prints_one_table_and_exits_1_when_a_point_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["sweep", NAT, *SMALL[:4], "--set", "expect.0.min=0", "--set", "per_destination=1000,2000",
                     "--set", "public_ips=1,300", "--workers", "1", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1 and "2 of 4 points failed" in captured.err
    assert "Sweep of NAT port exhaustion (4 points, all with connections=3k" in captured.out
    assert "per_destination" in captured.out and "point 1: ScenarioError" in captured.out
    assert cli.main(["report", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["values"]["FORWARD"] for p in data["points"] if not p["error"]] == [1000, 2000]


def test_catalog_lists_a_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog", "c5"]) == 0
    out = capsys.readouterr().out
    assert "c5.large" in out and "c5.24xlarge" in out and "c5n" not in out
    assert cli.main(["catalog", "c5.large", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "c5.large" and row["pps"] == 550_000 and "pps" in row["estimates"]


def test_every_command_has_help_with_examples() -> None:
    exe = shutil.which("hyperplane", path=str(Path(sys.executable).parent))
    assert exe
    for command in ("bench", "run", "report", "sweep", "catalog", "replay"):
        done = subprocess.run([exe, command, "--help"], capture_output=True, text=True, check=True)
        assert "Examples:" in done.stdout and f"hyperplane {command}" in done.stdout
