"""The fuzz targets of tests/stage_fuzz.py under hypothesis: arbitrary bytes as packet headers,
arbitrary small configurations, every invariant checked (conservation, unique NAT public tuples,
NLB targets, RSS implementations agreeing, Maglev tables in range). CI runs this file under
ASan+UBSan as part of the suite; tests/fuzz_stages.py runs the same targets under atheris."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .stage_fuzz import TARGETS


@pytest.mark.parametrize("name", list(TARGETS))
@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=3072), seed=st.integers(0, 2**32 - 1))
def test_target_survives(name: str, raw: bytes, seed: int) -> None:
    TARGETS[name](raw, seed)
