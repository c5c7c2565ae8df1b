"""``hyperplane bench`` end to end, as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hyperplane import _core, bench, cli


def test_bench_quick_end_to_end(tmp_path: Path) -> None:
    # The console script installed beside this interpreter (a venv's bin/), so that a
    # `hyperplane` elsewhere on PATH is never the one tested.
    exe = shutil.which("hyperplane", path=str(Path(sys.executable).parent))
    assert exe, f"the hyperplane command is not installed beside {sys.executable}"
    report_path = tmp_path / "report.json"
    done = subprocess.run([exe, "bench", "--quick", "--json", str(report_path)], capture_output=True,
                          text=True, check=True, timeout=300)
    names = [s.name for s in bench.stages((1_000, 100_000))]
    for name in names:
        assert name in done.stdout
    assert "C5 25G line" in done.stdout and "vs baselines" in done.stdout
    report = json.loads(report_path.read_text())
    assert report["config"]["packets"] == 200_000 and report["config"]["table_sizes"] == [1000, 100_000]
    assert report["command"] == f"hyperplane bench --quick --json {report_path}"
    stages = {s["name"]: s for s in report["stages"]}
    assert list(stages) == names
    for s in stages.values():
        if s["skipped"]:  # only outside baselines (DPDK, dpkt) and kernels this CPU lacks may be missing, saying why
            lacking = s["name"] == "rss.hash[gfni]" and "gfni" not in _core.toeplitz_impls()
            assert s["name"].startswith("dpdk.") or s["name"].endswith("[dpkt]") or lacking
            assert s["skipped"] in done.stdout
            continue
        assert len(s["seconds"]) == 3 and s["mpps"] > 0
        if s["name"].startswith("maglev.build"):  # table slots per second: no line-rate multiple
            assert s["unit"] == "slots" and "interfaces_per_core" not in s
            continue
        if s["name"].startswith("ecs."):  # tasks placed per second: no line-rate multiple either
            assert s["unit"] == "tasks" and "interfaces_per_core" not in s
            continue
        if s["name"].startswith("mesh."):  # simulated requests per second: nor here
            assert s["unit"] == "req" and "interfaces_per_core" not in s
            continue
        assert s["interfaces_per_core"]["C5 25G line"] == pytest.approx(s["mpps"] / 37.2, rel=1e-3)
    rows = [line for line in done.stdout.splitlines() if any(line.startswith(f"{n} ") for n in names)]  # not the notes
    assert len(rows) >= len(names) and max(map(len, rows)) <= 100
    assert "M slots/s" in done.stdout and "2 threads" in done.stdout
    table = stages["rss.hash[table]"]
    assert table["baselines"]["rss.hash[bitserial]"] == pytest.approx(
        stages["rss.hash[bitserial]"]["median_s"] / table["median_s"])
    ct = stages["conntrack.established[100k]"]
    assert set(ct["baselines"]) == {"memory.random_read[100k]", "dpdk.rte_hash[100k]"}


def test_only_selects_stages(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--only", "rss.*", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in report["stages"]] == [
        "rss.hash[bitserial]", "rss.hash[table]", "rss.hash[gfni]", "rss.queue"]


def test_json_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--packets", "20000", "--flows", "500", "--rounds", "1", "--lookups", "5000",
                     "--sizes", "1000", "--only", "traffic.*", "--only", "conntrack.*", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == {"packets": 20000, "flows": 500, "rounds": 1, "seed": 1, "lookups": 5000,
                                "table_sizes": [1000]}
    assert [s["name"] for s in report["stages"]] == [
        "traffic.synthetic", "conntrack.established[1k]", "conntrack.established[1k]x2",
        "conntrack.insert[1k]", "conntrack.mixed", "conntrack.flood[random]", "conntrack.flood[other key]",
        "conntrack.flood[own key]"]


@pytest.mark.parametrize(("args", "message"), [
    (["--packets", "0"], "must be at least 1"),
    (["--packets", "lots"], "is not a count"),
    (["--sizes", "1k,x"], "is not a count"),
    (["--only", "nosuch*"], "no stage matches 'nosuch*'"),
    (["--json", "/nonexistent/x.json"], "the directory /nonexistent does not exist"),
])
def test_bad_arguments_exit_with_usage(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Refused before any work, with exit code 2 and one line naming what was wrong."""
    assert cli.main(["bench", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_counts_take_the_forms_people_write(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--packets", "2e4", "--flows", "500", "--rounds", "1", "--lookups", "5k",
                     "--sizes", "1k", "--only", "conntrack.established*", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == {"packets": 20000, "flows": 500, "rounds": 1, "seed": 1, "lookups": 5000,
                                "table_sizes": [1000]}


def test_line_rates() -> None:
    assert bench.line_rate_mpps(10) == pytest.approx(14.88, abs=0.005)
    assert bench.line_rate_mpps(25) == pytest.approx(37.2, abs=0.05)
    assert bench.line_rate_mpps(100) == pytest.approx(148.8, abs=0.05)
