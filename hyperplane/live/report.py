"""What a live run prints when it stops: the stage's own counters and CloudWatch metrics, and
the frame I/O's counters, as ``hyperplane replay`` prints a capture's run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hyperplane.live.dataplane import RunStats


@dataclass(frozen=True)
class LiveReport:
    stage: str
    """What ran: ``NAT gateway`` or ``Network Load Balancer``, with its configuration."""
    run: RunStats
    verdicts: dict[str, int]
    """The stage's packets by verdict (its ``counters``)."""
    metrics: dict[str, npt.NDArray[np.uint64]]
    """The stage's CloudWatch metrics per minute of packet time (its ``metrics``)."""
    seed: int

    def __str__(self) -> str:
        r = self.run
        fate = ", ".join(f"{k} {v:,}" for k, v in self.verdicts.items() if v and k != "packets") or "none"
        io = ", ".join(f"{k} {v:,}" for k, v in r.io.items() if v) or "none"
        lines = [
            f"engine   {self.stage}; seed {self.seed}",
            f"ran      {r.seconds:.1f} s, stopped by {r.stopped_by}: {r.packets:,} packets in {r.batches:,} batches",
            f"stage    {self.verdicts.get('packets', 0):,} packets: {fate}",
            f"frames   {io}",
        ]
        minutes = len(self.metrics.get("Timestamp", ()))
        if minutes:
            lines.append(f"metrics  per minute of packet time ({minutes} minute{'s' if minutes > 1 else ''}):")
            width = max(len(k) for k in self.metrics)
            for name, values in self.metrics.items():
                if name != "Timestamp":
                    lines.append(f"  {name:<{width}}  {' '.join(f'{int(v):,}' for v in values[-5:])}")
        return "\n".join(lines)
