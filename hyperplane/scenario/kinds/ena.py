"""``kind = "ena"``: the traffic crosses one instance's ENA interface and its allowances.

Which allowance binds first is the question these scenarios answer, so the report's counters are
ENA's own (``ethtool -S`` names: ``pps_allowance_exceeded``, ``bw_in_allowance_exceeded``,
``conntrack_allowance_exceeded``, ...) sampled every window, beside the verdicts by reason;
the balance is packets per queue (RSS), the latency the interface's quantiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperplane.ena import Interface, instance_type
from hyperplane.ena.interface import QUEUE_DEPTH
from hyperplane.packets import Batch
from hyperplane.scenario.kinds.base import Kind, Verdicts
from hyperplane.scenario.schema import Field, Section, cidr, flag, fraction, integer, list_of, one_of, positive_count, text


def _instance_type(value: object) -> str:
    name = text(value)
    instance_type(name)  # raises ValueError naming the close matches
    return name


def _conntrack(value: object) -> bool | int:
    if isinstance(value, bool):
        return value
    return positive_count(value)


class EnaKind(Kind):
    name = "ena"
    section = Section("ena", "one instance's ENA interface (hp.ena.Interface)", (
        Field("instance_type", _instance_type, "the instance type, e.g. \"c5.xlarge\"", required=True),
        Field("direction", one_of("in", "out", "both"), "which way the packets go (\"both\" needs instance_ips)"),
        Field("instance_ips", list_of(cidr), "the instance's addresses, to tell inbound from outbound"),
        Field("conntrack", _conntrack, "track connections (true: the type's allowance; a number: that many)", True),
        Field("queue_depth_packets", integer, "packets a queue holds over an allowance before dropping", QUEUE_DEPTH),
        Field("placement_group", flag, "inside a cluster placement group (its single-flow limit)", False),
        Field("burst_credits", fraction, "fraction of burst credits held at the start", 1.0),
        Field("vpc_cidr", cidr, "the VPC, whose resolver counts as link-local"),
    ))

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        super().__init__(config, seed)
        c = self.config
        self.ena = Interface(c["instance_type"], c["direction"], instance_ips=c["instance_ips"], conntrack=c["conntrack"],
                             queue_depth_packets=c["queue_depth_packets"], placement_group=c["placement_group"],
                             burst_credits=c["burst_credits"], vpc_cidr=c["vpc_cidr"], seed=seed)

    def process(self, batch: Batch) -> Verdicts:
        return self.ena.process(batch).verdict

    def sample(self) -> dict[str, int]:
        return {k: v for k, v in self.ena.counters.items() if k != "conntrack_allowance_available"}

    def state(self) -> dict[str, Any]:
        stats = self.ena.queue_stats
        rows = stats["rx_cnt"] + stats["tx_cnt"]
        return {"counters": self.ena.verdict_counts | self.ena.counters,
                "balance": {"label": "packets per queue", "values": {f"queue {q}": int(n) for q, n in enumerate(rows)}},
                "latency": self.ena.latency()}

    def describe(self) -> str:
        return f"{self.ena!r}, seed={self.seed}"
