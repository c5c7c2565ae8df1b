"""Checks every stage's tests share."""

from __future__ import annotations

import numpy as np

from hyperplane.verdict import Verdict, counter_name


def assert_conserved(counters: dict[str, int], verdict: np.ndarray) -> None:
    """packets = forwarded + every drop reason, and the per-packet verdicts agree with the tallies."""
    per_verdict = {counter_name(v): counters[counter_name(v)] for v in Verdict}
    assert counters["packets"] == sum(per_verdict.values())
    tally = np.bincount(verdict, minlength=len(Verdict))
    for v in Verdict:
        assert per_verdict[counter_name(v)] == tally[v], counter_name(v)
