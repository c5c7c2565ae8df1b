"""The README's tour and the examples run as written."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_tour_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no Python tour"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_runs(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("doc", sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"], ids=lambda p: p.name)
def test_files_named_in_docs_exist(doc: Path) -> None:
    # A path a page names (`csrc/runtime/flow_shard.hpp`, `tests/golden/`) must be in the tree,
    # so that the map keeps matching the code.
    named = re.findall(r"`((?:csrc|hyperplane|tests|bench|examples|docs)/[\w./-]*)`", doc.read_text())
    missing = [p for p in named if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"{doc.name} names files that do not exist: {missing}"
