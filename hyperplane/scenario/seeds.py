"""Seeds derived from a scenario's one seed, so every random choice is replayed from it.

A derived seed is numpy's ``SeedSequence`` of the scenario seed and a path of names and numbers
("traffic", source, window): it does not depend on the order in which parts of a run, or points
of a sweep, are computed, nor on the process that computes them.
"""

from __future__ import annotations

import hashlib

import numpy as np

from hyperplane.stage import draw_seed


def draw() -> int:
    """A fresh seed, for a scenario that gives none (reports show it, so the run can be replayed)."""
    return draw_seed(None)


def derive(seed: int, *path: str | int) -> int:
    """A 63-bit seed for the part of a run named by ``path``."""
    words = [int.from_bytes(hashlib.blake2b(str(p).encode(), digest_size=4).digest(), "little") if isinstance(p, str)
             else p for p in path]
    state = np.random.SeedSequence([seed, *words]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])
