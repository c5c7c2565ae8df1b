"""The scenario loader under arbitrary and mutated files (tests/scenario_fuzz.py): a scenario or a
ScenarioError naming the file, never a traceback of another kind."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from .scenario_fuzz import scenario_target


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 2**32 - 1))
def test_loader_survives_anything(raw: bytes, seed: int) -> None:
    scenario_target(raw, seed)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(0, 2**32 - 1))
def test_loader_survives_any_text(text: str, seed: int) -> None:
    scenario_target(text.encode(), seed * 4)
