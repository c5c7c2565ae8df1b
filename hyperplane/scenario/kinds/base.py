"""What every scenario kind provides: its stage built from one table, packets through it, events, state.

A kind is the small part of a scenario that differs between NAT, NLB, ENA and conntrack runs;
the runner, the reports and the sweeps are shared. A kind reads its own table (``[nat]``,
``[nlb]``, ...) with its :class:`~hyperplane.scenario.schema.Section`, lists the event actions it
takes, and reports its state as plain numbers, so a run saves to JSON and a sweep point pickles.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from hyperplane import units
from hyperplane.packets import Batch
from hyperplane.scenario.schema import Field, Reader, Section

Verdicts = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Event:
    """An ``[[events]]`` table, read: ``action`` at packet time ``at_ns`` with its ``args``."""

    at_ns: int
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""
    """Where it was written (``events[2]``), or what it was derived from."""

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.args.items() if v is not None)
        return f"{units.format_seconds(self.at_ns / 1e9)} {self.action}({args})"


AT = Field("at", units.seconds, "packet time of the event, e.g. \"120s\"", required=True)
ACTION = Field("action", str, "what happens", required=True)


class Kind(ABC):
    """The stage a scenario's traffic goes through."""

    name: ClassVar[str]
    section: ClassVar[Section]
    actions: ClassVar[Mapping[str, Section]] = {}

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        self.config = dict(config)
        self.seed = seed

    @classmethod
    def read(cls, reader: Reader, table: object) -> dict[str, Any]:
        """The kind's table, checked (a kind with no required key may be left out)."""
        return reader.read({} if table is None else table, (cls.name,), cls.section)

    def expand(self, events: list[Event], duration_ns: int) -> list[Event]:
        """The events as the stage sees them (an outage becomes the health checks' changes)."""
        return events

    def resolve(self, name: str) -> list[str]:
        """Addresses of a destination the stage names (``"nlb"``); kinds without such names refuse."""
        raise ValueError(f"a {self.name} scenario has no destination named {name!r}")

    @abstractmethod
    def process(self, batch: Batch) -> Verdicts:
        """One verdict per packet of ``batch`` (in time order); state carries to the next call."""

    def apply(self, event: Event) -> None:
        raise ValueError(f"a {self.name} scenario takes no events")

    @abstractmethod
    def sample(self) -> dict[str, int]:
        """The stage's cumulative counters now (the runner differences them per window)."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """What the report keeps at the end: ``counters``, and where the stage has them ``metrics``
        (CloudWatch's, per minute), ``balance`` ({"label", "values"}) and ``latency`` (ns)."""

    @abstractmethod
    def describe(self) -> str:
        """The stage, for the report's header: its repr with its seed."""


def series(metrics: Mapping[str, npt.NDArray[np.uint64]]) -> dict[str, list[int]]:
    """CloudWatch-style arrays as JSON lists."""
    return {name: [int(v) for v in values] for name, values in metrics.items()}
