"""The golden run: every stage's results on fixed traces and seeds, as digests recorded
before the code was restructured (tests/golden/record.py says how, and when to re-record)."""

from __future__ import annotations

import json

import pytest

from tests.golden import record

RECORDED: dict[str, str] = json.loads(record.DIGESTS.read_text())


@pytest.fixture(scope="module")
def measured() -> dict[str, str]:
    return record.record()


def test_the_same_parts_are_recorded(measured: dict[str, str]) -> None:
    assert sorted(measured) == sorted(RECORDED)


@pytest.mark.parametrize("part", sorted(RECORDED))
def test_part_unchanged(measured: dict[str, str], part: str) -> None:
    assert measured.get(part) == RECORDED[part], f"{part} differs from the golden run"
