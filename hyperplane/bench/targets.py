"""The packet rates the benchmark compares against: line rates of the instances' interfaces and
the rates on record, each with its source."""

from __future__ import annotations

from dataclasses import dataclass


def line_rate_mpps(gbps: float, frame_bytes: int = 64) -> float:
    """Frames per second on the wire: each frame also costs 8 bytes of preamble and 12 of gap."""
    return gbps * 1e9 / ((frame_bytes + 20) * 8) / 1e6


@dataclass(frozen=True)
class Target:
    name: str
    mpps: float
    source: str


TARGETS = [
    Target("C5 25G line", line_rate_mpps(25), "64-byte line rate of C5's 25 Gbps ENA"),
    Target("C3 10G line", line_rate_mpps(10), "64-byte line rate of C3's 10 Gbps (82599 VF)"),
    # AWS's enhanced-networking launch material (2013): about 2 Mpps per instance
    # with SR-IOV against about 200 kpps through the Xen split driver before it.
    Target("enhanced net", 2.0, "packet rate on record with enhanced networking"),
    Target("pre-SR-IOV", 0.2, "packet rate on record before enhanced networking"),
]
