"""The fuzz targets of tests/stage_fuzz.py under hypothesis: arbitrary bytes as packet headers,
arbitrary small configurations, every invariant checked (conservation, unique NAT public tuples,
NLB targets, RSS implementations agreeing, Maglev tables in range). CI runs this file under
ASan+UBSan as part of the suite; tests/fuzz_stages.py runs the same targets under atheris."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .stage_fuzz import TARGETS


@pytest.mark.parametrize("name", list(TARGETS))
@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=3072), seed=st.integers(0, 2**32 - 1))
def test_target_survives(name: str, raw: bytes, seed: int) -> None:
    TARGETS[name](raw, seed)


CORPUS = Path(__file__).parent / "fuzz_corpus"
FOUND = sorted(CORPUS.glob("*/*"))


@pytest.mark.parametrize("path", FOUND, ids=[f"{p.parent.name}/{p.name}" for p in FOUND])
def test_inputs_that_found_bugs(path: Path) -> None:
    """Every input a fuzzer found a bug with (tests/fuzz_corpus/<target>/), as atheris feeds it:
    the first 4 bytes seed the configuration, the rest are header bytes."""
    data = path.read_bytes()
    TARGETS[path.parent.name](data[4:], int.from_bytes(data[:4].ljust(4, b"\0"), "little"))
