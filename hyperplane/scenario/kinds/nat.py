"""``kind = "nat"``: the traffic leaves private subnets through one NAT gateway.

``public_ips`` may be a count (that many addresses from 203.0.113.0/24, a documentation range)
so a sweep can vary it as a number. The balance is connections per public address: AWS's
limit is per (public address, destination), so an exhaustion study reads it there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperplane import units
from hyperplane.nat import IDLE_TIMEOUT_S, PORTS_PER_DESTINATION, PRIVATE_CIDRS, NatGateway
from hyperplane.packets import Batch, ip
from hyperplane.scenario.kinds.base import Kind, Verdicts, series
from hyperplane.scenario.schema import Field, Section, address, cidr, flag, list_of, positive_count


def _public_ips(value: object) -> list[str]:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= 200:
            raise ValueError(f"must be a count of 1..200 addresses or a list of them, not {value}")
        return [f"203.0.113.{10 + k}" for k in range(value)]
    return list_of(address)(value)


class NatKind(Kind):
    name = "nat"
    section = Section("nat", "the NAT gateway (hp.NatGateway)", (
        Field("public_ips", _public_ips, "its public addresses, or how many (from 203.0.113.10 on)", 1),
        Field("private_cidrs", list_of(cidr), "networks whose sources are translated", list(PRIVATE_CIDRS)),
        Field("capacity", positive_count, "connections it can hold", 1_000_000),
        Field("idle_timeout", units.seconds, "how long a connection may idle (AWS: 350s)", IDLE_TIMEOUT_S),
        Field("per_destination", positive_count,
              "connections per public address to one destination (AWS: 55,000)", PORTS_PER_DESTINATION),
        Field("limits", flag, "AWS's packet and bit rate limits (1 Mpps / 5 Gbps scaling to 10 Mpps / 100 Gbps)", True),
        Field("beyond_aws", flag, "allow more than AWS's 8 public addresses", False),
    ))

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        super().__init__(config, seed)
        c = self.config
        self.nat = NatGateway(c["public_ips"], c["private_cidrs"], capacity=c["capacity"], idle_timeout=c["idle_timeout"],
                              per_destination=c["per_destination"], limits=c["limits"], beyond_aws=c["beyond_aws"],
                              threads=1, seed=seed)

    def process(self, batch: Batch) -> Verdicts:
        return self.nat.process(batch).verdict

    def sample(self) -> dict[str, int]:
        return self.nat.counters

    def state(self) -> dict[str, Any]:
        public = self.nat.connections()["public_ip"]
        per_ip = {a: int(np.count_nonzero(public == ip(a))) for a in self.nat.public_ips}
        return {"counters": self.nat.counters, "metrics": series(self.nat.metrics),
                "balance": {"label": "connections per public address", "values": per_ip}}

    def describe(self) -> str:
        return f"{self.nat!r}, seed={self.seed}"

