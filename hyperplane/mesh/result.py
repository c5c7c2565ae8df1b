"""What one simulation reports: latency quantiles, request counts (checked to add up), the share
and bytes of traffic that crossed zones and their cost, and how the load spread over endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hyperplane.mesh.pricing import cross_az_cost_usd

QUANTILES = {"p50": 0.5, "p99": 0.99, "p999": 0.999}


@dataclass(frozen=True)
class MeshResult:
    """One run: ``balancer``, ``endpoints`` (labels of the server's tasks), and the engine's counts."""

    balancer: str
    endpoints: list[str]
    latencies_s: npt.NDArray[np.float64]
    """Every completed request, arrival to final response (retries included), in seconds."""
    raw: dict[str, Any]
    wall_seconds: float
    seconds: float

    def __post_init__(self) -> None:
        c = self.counts
        if c["sent"] != c["completed"] + c["timed_out"] + c["failed"]:
            raise RuntimeError(f"mesh: requests do not add up: {c}")

    def latency(self) -> dict[str, float]:
        """p50, p99 and p999 of completed requests, seconds (NaN when none completed)."""
        if len(self.latencies_s) == 0:
            return {k: float("nan") for k in QUANTILES}
        q = np.quantile(self.latencies_s, list(QUANTILES.values()))
        return {k: float(v) for k, v in zip(QUANTILES, q)}

    @property
    def counts(self) -> dict[str, int]:
        """Requests: sent = completed + timed_out + failed."""
        return {k: int(self.raw[k]) for k in ("sent", "completed", "timed_out", "failed")}

    @property
    def attempts(self) -> dict[str, int]:
        """Attempts (a request's first try and its retries), and how many timed out or failed."""
        return {k: int(self.raw[k]) for k in ("attempts", "retries", "attempt_timeouts", "attempt_failures")}

    @property
    def tier_attempts(self) -> dict[str, int]:
        t = self.raw["tier_attempts"]
        return {"same_host": int(t[0]), "same_az": int(t[1]), "cross_az": int(t[2])}

    @property
    def cross_az_fraction(self) -> float:
        """Share of attempts sent to an endpoint in another zone."""
        a = int(self.raw["attempts"])
        return int(self.raw["tier_attempts"][2]) / a if a else 0.0

    @property
    def cross_az_bytes(self) -> int:
        """Request bytes of every cross-zone attempt and response bytes of every cross-zone response."""
        return int(self.raw["cross_az_bytes"])

    @property
    def cross_az_cost_usd(self) -> float:
        """:attr:`cross_az_bytes` at AWS's inter-AZ rate ($0.01/GB in each direction: pricing.py)."""
        return cross_az_cost_usd(self.cross_az_bytes)

    @property
    def cross_az_usd_per_month(self) -> float:
        """The same traffic kept up for 30 days."""
        return self.cross_az_cost_usd * (30 * 86400 / self.seconds)

    def load(self) -> dict[str, int]:
        """Attempts each server task was sent."""
        return {name: int(n) for name, n in zip(self.endpoints, self.raw["endpoint_attempts"])}

    @property
    def load_spread(self) -> float:
        """Most-loaded endpoint's attempts over the mean (1 = even)."""
        a = np.asarray(self.raw["endpoint_attempts"], dtype=np.float64)
        return float(a.max() / a.mean()) if a.sum() else 0.0

    @property
    def requests_per_wall_second(self) -> float:
        """Simulated requests per second of wall time (the engine's speed)."""
        return self.counts["sent"] / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        """The figures as plain data (for tables, JSON and scenario reports)."""
        return {
            "balancer": self.balancer, **{f"{k}_ms": v * 1e3 for k, v in self.latency().items()}, **self.counts,
            **self.attempts, "cross_az_fraction": self.cross_az_fraction, "cross_az_bytes": self.cross_az_bytes,
            "cross_az_cost_usd": self.cross_az_cost_usd, "load_spread": self.load_spread, "load": self.load(),
            "requests_per_wall_second": self.requests_per_wall_second,
        }
