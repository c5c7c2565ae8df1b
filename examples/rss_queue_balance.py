"""How evenly does ENA's RSS spread a trace over a c5's queues, and what does one elephant do?

    python examples/rss_queue_balance.py
"""

from __future__ import annotations

import numpy as np

import hyperplane as hp


def share_per_queue(batch: np.ndarray, rss: hp.Rss) -> np.ndarray:
    """Fraction of the bytes each queue receives."""
    queues = rss.queue(batch)
    return np.bincount(queues, weights=batch["length"], minlength=rss.queues) / batch["length"].sum()


def main() -> None:
    mice = hp.traffic.synthetic(flows=50_000, packets=1_000_000, seed=3)
    elephant = hp.traffic.elephant(200_000, seed=3, gbps=5.0)
    rss = hp.Rss(queues=8)
    for name, batch in (("mice only", mice), ("mice + one 5 Gbps elephant", hp.traffic.merge(mice, elephant))):
        share = share_per_queue(batch, rss)
        bars = "  ".join(f"q{q}:{s:5.1%}" for q, s in enumerate(share))
        print(f"{name:28s} {bars}   busiest/mean = {share.max() * len(share):.2f}")


if __name__ == "__main__":
    main()
