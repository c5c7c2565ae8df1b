"""``kind = "conntrack"``: the traffic goes through a connection tracker of a fixed size.

A bare table, without an instance around it: the scenario for studying a table under a flood
(``early_drop`` on and off) apart from ENA's allowances, which ``kind = "ena"`` adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperplane.conntrack import ConnTrack, Timeouts
from hyperplane.packets import Batch
from hyperplane.scenario.kinds.base import Kind, Verdicts
from hyperplane.scenario.schema import Field, Section, flag, one_of, positive_count


class ConnTrackKind(Kind):
    name = "conntrack"
    section = Section("conntrack", "a connection tracker (hp.ConnTrack)", (
        Field("capacity", positive_count, "connections the table holds", required=True),
        Field("timeouts", one_of("linux", "aws_sg"), "Linux's nf_conntrack timeouts or EC2 security groups'", "linux"),
        Field("early_drop", flag, "a new connection may evict an unconfirmed one when the table is full", False),
        Field("loose", flag, "pick up TCP connections mid-stream on a bare ACK (Linux's default)", True),
    ))

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        super().__init__(config, seed)
        c = self.config
        timeouts = Timeouts.linux() if c["timeouts"] == "linux" else Timeouts.aws_sg()
        self.table = ConnTrack(c["capacity"], timeouts=timeouts, loose=c["loose"], early_drop=c["early_drop"], threads=1,
                               seed=seed)

    def process(self, batch: Batch) -> Verdicts:
        return self.table.process(batch).verdict

    def sample(self) -> dict[str, int]:
        return self.table.counters

    def state(self) -> dict[str, Any]:
        return {"counters": self.table.counters | {"connections": len(self.table), "capacity": self.table.capacity}}

    def describe(self) -> str:
        return f"{self.table!r}, seed={self.seed}"
