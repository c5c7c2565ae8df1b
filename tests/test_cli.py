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
        assert s["interfaces_per_core"]["C5 25G line"] == pytest.approx(s["mpps"] / 37.2, rel=1e-3)
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


def test_bad_arguments_exit_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--packets", "0"])
    assert exit_info.value.code == 2
    assert "--packets: must be a positive integer" in capsys.readouterr().err


def test_line_rates() -> None:
    assert bench.line_rate_mpps(10) == pytest.approx(14.88, abs=0.005)
    assert bench.line_rate_mpps(25) == pytest.approx(37.2, abs=0.05)
    assert bench.line_rate_mpps(100) == pytest.approx(148.8, abs=0.05)
