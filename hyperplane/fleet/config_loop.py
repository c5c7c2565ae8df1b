"""Hyperplane's constant-work configuration loop, as a constant load on every node.

AWS: Hyperplane nodes fetch their whole configuration on a fixed period "whether or not it has
changed", always the maximum size, so the work does not grow when many changes arrive at once
(docs/fleet.md quotes it). The load is therefore one number per node, the same before, during and
after a deployment; what it is made of is an estimate (AWS publishes neither the period nor the
size).
"""

from __future__ import annotations

from dataclasses import dataclass

PERIOD_S = 1.0
"""Estimate: how often a node reloads its configuration."""
MAX_CONFIG_BYTES = 64 * 2**20
"""Estimate: the maximum configuration a node loads each period (every tenant slot it may host)."""


@dataclass(frozen=True)
class ConfigLoop:
    period_s: float = PERIOD_S
    max_config_bytes: int = MAX_CONFIG_BYTES

    @property
    def bytes_per_s(self) -> float:
        """The load on each node: the same whatever the fleet's tenants or changes."""
        return self.max_config_bytes / self.period_s

    def load(self, nodes: int) -> list[float]:
        """Bytes per second each of ``nodes`` nodes reads: constant work."""
        return [self.bytes_per_s] * nodes
