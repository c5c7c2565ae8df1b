"""What the scenario loader must survive: any text at all, and shipped scenario files with their
bytes changed. The invariant: ``Scenario.loads`` returns a scenario or raises ``ScenarioError``
naming where it is wrong -- never another exception -- and so does ``with_values`` with any key
and value. tests/test_scenario_fuzz.py drives it with hypothesis; tests/fuzz_stages.py with
atheris (target ``scenario``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyperplane.scenario import Scenario, ScenarioError, parse_value

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "examples" / "scenarios").glob("*.toml"))
TEXTS = [p.read_text() for p in SHIPPED]


def mutated(raw: bytes, seed: int) -> str:
    """A shipped scenario with a few of its bytes replaced, inserted or deleted as ``raw`` says."""
    rng = np.random.default_rng(seed)
    text = bytearray(TEXTS[seed % len(TEXTS)].encode())
    for k in range(0, len(raw) - 2, 3):
        at = int.from_bytes(raw[k:k + 2], "little") % (len(text) + 1)
        op = rng.integers(0, 3)
        if op == 0 and at < len(text):
            text[at] = raw[k + 2]
        elif op == 1:
            text.insert(at, raw[k + 2])
        elif at < len(text):
            del text[at]
    return text.decode("utf-8", errors="replace")


def scenario_target(raw: bytes, seed: int) -> None:
    text = raw.decode("utf-8", errors="replace") if seed % 4 == 0 else mutated(raw, seed)
    try:
        sc = Scenario.loads(text, "<fuzz>", str(SHIPPED[0].parent))
    except ScenarioError as e:
        assert str(e).startswith("<fuzz>"), e
        return
    keys = sorted(sc.paths())
    key = keys[seed % len(keys)] if keys else "x"
    value = parse_value(raw[:12].decode("utf-8", errors="replace"))
    try:
        sc.with_values({key: value})
    except ScenarioError as e:
        assert str(e).startswith("<fuzz>"), e
