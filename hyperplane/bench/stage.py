"""What a benchmark stage is: a name, how to prepare one timed round from the shared workload,
and the stages it is compared with; and the round it prepares. Modules that add stages
(``registry``, ``pcap``) build on these."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hyperplane.bench.workloads import Workload


class Skip(Exception):
    """A stage that cannot run here; the message says why (shown in the report)."""


@dataclass(frozen=True)
class Round:
    """One timed round of a stage: ``run()`` returns its seconds for ``packets`` packets."""

    run: Callable[[], float]
    packets: int


def timed(call: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    return run


@dataclass(frozen=True)
class Stage:
    name: str
    what: str
    prepare: Callable[[Workload], Round]
    baselines: tuple[str, ...] = ()
    unit: str = "packets"
    """What ``Round.packets`` counts: packets, or another item (Maglev builds count table slots)."""
