"""Mesh scenario files: the shipped ones load and run, and a bad one names its file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperplane.mesh.scenario import load

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "examples" / "mesh").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_load_and_run(path: Path) -> None:
    sc = load(path)
    assert len(sc.mesh.services["api"]) == 9 and len({t.az for t in sc.mesh.services["api"]}) == 3
    cmp = sc.compare(seconds=1, rps=5000)
    assert [r.balancer for r in cmp.results] == sc.balancers
    for r in cmp.results:
        c = r.counts
        assert c["sent"] == c["completed"] + c["timed_out"] + c["failed"]


def test_the_figure_draws(tmp_path: Path) -> None:
    cmp = load(SHIPPED[0]).compare(seconds=0.5, rps=2000)
    assert cmp.save_plot(tmp_path / "m.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[mesh]\n[run]\nclient='web'\n", "needs at least one service"),
        ("[mesh]\n[[mesh.service]]\nname='web'\ntasks=[['h1','a']]\n[run]\nclient='web'\n", "run: server is required"),
        ("[mesh]\n[[mesh.service]]\nname='web'\ntasks=[['h1','a']]\nspeed=1\n", r"mesh.service\[0\]: unknown key\(s\) speed"),
        ("[mesh]\n[[mesh.service]]\nname='web'\ntasks=[['h1','a']]\n[[mesh.slow]]\nservice='web'\ntask=4\nfactor=2\n"
         "[run]\nclient='web'\nserver='web'\nrps=1\nseconds=1\n", r"mesh.slow\[0\]: task"),
        ("[mesh]\n[[mesh.service]]\nname='web'\ntasks=[['h1','a']]\n[mesh.latency]\ncross_az='fast'\n", "mesh.latency: cross_az"),
        ("[mesh]\n[[mesh.service]]\nname='web'\ntasks=[['h1','a']]\n[run]\nclient='web'\nserver='web'\nrps=1\nseconds=1\n"
         "balancers=['best']\n", "run.balancers"),
        ("[meshes]\n", "unknown table"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ValueError, match=match) as e:
        load(p)
    assert "bad.toml" in str(e.value)


def test_the_mesh_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hyperplane.cli import main

    out = tmp_path / "m.json"
    assert main(["mesh", str(SHIPPED[0]), "--seconds", "0.5", "--rps", "2000", "--json", str(out),
                 "--plot", str(tmp_path / "m.png")]) == 0
    assert "locality-ewma" in capsys.readouterr().out
    rows = json.loads(out.read_text())
    assert [r["balancer"] for r in rows] == load(SHIPPED[0]).balancers and (tmp_path / "m.png").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nclient='web'\n")
    assert main(["mesh", str(bad)]) == 2
    assert "bad.toml" in capsys.readouterr().err
