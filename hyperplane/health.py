"""When an NLB's health checks notice a target go down and come back.

Targets are checked every ``interval_s`` of packet time; a healthy target is
marked unhealthy after ``unhealthy_threshold`` failed checks in a row, an
unhealthy one healthy again after ``healthy_threshold`` passed checks (AWS's
NLB defaults: 30 s, 2, 5). :func:`health_changes` turns a target's real
outages into the times the balancer changes its mind, for
:meth:`~hyperplane.nlb.NetworkLoadBalancer.process_with_outages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHECK_INTERVAL_S = 30.0
HEALTHY_THRESHOLD = 5
UNHEALTHY_THRESHOLD = 2


@dataclass(frozen=True)
class Outage:
    """``address`` does not answer from ``start_ns`` until ``end_ns`` (packet time)."""

    address: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class HealthChange:
    ts_ns: int
    address: str
    healthy: bool


def health_changes(
    outages: Sequence[Outage],
    until_ns: int,
    *,
    interval_s: float = CHECK_INTERVAL_S,
    healthy_threshold: int = HEALTHY_THRESHOLD,
    unhealthy_threshold: int = UNHEALTHY_THRESHOLD,
    first_check_ns: int = 0,
) -> list[HealthChange]:
    """The balancer's view of each target with outages, up to ``until_ns``, in time order.

    Checks run at ``first_check_ns + k * interval_s`` (packet time in ns; the interval in
    seconds); a check fails when it falls in an outage of its target. The thresholds are
    checks in a row.
    """
    if interval_s <= 0 or healthy_threshold < 1 or unhealthy_threshold < 1:
        raise ValueError("interval_s and the thresholds must be positive")
    for o in outages:
        if o.end_ns < o.start_ns:
            raise ValueError(f"outage of {o.address} ends before it starts")
    interval = round(interval_s * 1e9)
    changes = []
    for address in dict.fromkeys(o.address for o in outages):
        down = [(o.start_ns, o.end_ns) for o in outages if o.address == address]
        healthy, streak = True, 0
        for ts in range(first_check_ns, until_ns + 1, interval):
            passed = not any(start <= ts < end for start, end in down)
            streak = streak + 1 if passed != healthy else 0
            if streak == (unhealthy_threshold if healthy else healthy_threshold):
                healthy, streak = not healthy, 0
                changes.append(HealthChange(ts, address, healthy))
    return sorted(changes, key=lambda c: c.ts_ns)
