"""A soak of the NAT gateway: packet time at a steady rate with churn, checking what must stay true.

    python bench/soak_nat.py [--minutes 60] [--pps 1000000] [--seed 1]

Each second of packet time is one batch of ``pps`` UDP packets from a population of private
sources (to 64 destinations, so no destination nears its 55,000 per address) that turns over:
every second a slice of the sources falls silent (its connections idle out after 350 s) and as
many new ones start, so connections keep opening, living and timing out. Every simulated minute
it prints resident memory, the connections held (``len(nat)``, after ``expire()``) against the
connections the generator knows to be live, and whether the minute's metrics add up to its
packets. At the end: the peak and final resident memory. A program, not a test: an hour of
packet time takes about four minutes here.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import hyperplane as hp
from hyperplane.nat import NatGateway

S = 10**9
IDLE_S = 350


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=int, default=60, help="minutes of packet time (default 60)")
    ap.add_argument("--pps", type=int, default=1_000_000, help="packets per second of packet time (default 1M)")
    ap.add_argument("--active", type=int, default=100_000, help="sources sending at any time (default 100k)")
    ap.add_argument("--turnover", type=float, default=0.01, help="share of sources replaced each second (default 1%%)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if min(args.minutes, args.pps, args.active) < 1 or not 0 < args.turnover <= 1:
        ap.error("--minutes, --pps and --active must be positive, --turnover in (0, 1]")

    rng = np.random.default_rng(args.seed)
    # Without rate limits: a soak checks state over time, and 1 Mpps sits at the gateway's base
    # rate (its shards' shares of it overflow by RSS's unevenness until it scales up).
    nat = NatGateway([f"203.0.113.{10 + i}" for i in range(8)], capacity=args.active * 8, queues=8, seed=args.seed,
                     limits=False)
    batch = hp.packets.empty(args.pps)
    batch["dst_port"], batch["proto"], batch["length"] = 53, 17, 100
    offsets = (np.arange(args.pps, dtype=np.uint64) * np.uint64(S // args.pps))
    first_source = 0  # sources are numbered; the sending ones are [first_source, first_source + active)
    replaced = max(1, int(args.active * args.turnover))
    total = args.active + replaced * args.minutes * 60
    last_ts = np.zeros(total, dtype=np.uint64)  # each source's latest packet (0: none yet)
    peak = 0.0
    start = time.perf_counter()
    print(f"soak: {args.minutes} min of packet time at {args.pps:,} pps, {args.active:,} sources, "
          f"{replaced:,} replaced each second (seed {args.seed})")
    ok = True
    for second in range(args.minutes * 60):
        src = first_source + rng.integers(0, args.active, args.pps)
        batch["ts"] = np.uint64(second * S + 1) + offsets
        batch["src_ip"] = hp.ip("10.0.0.0") + (src // 50_000).astype(np.uint32)
        batch["src_port"] = 1024 + (src % 50_000).astype(np.uint16)
        batch["dst_ip"] = hp.ip("198.51.100.0") + (src % 64).astype(np.uint32)  # 64 destinations: far from 55,000 each
        _, v = nat.process(batch)
        if (v != hp.Verdict.FORWARD).any():
            print(f"  second {second}: {(v != hp.Verdict.FORWARD).sum()} packets not forwarded")
            ok = False
        last_ts[src] = batch["ts"]  # times rise through the batch: each source keeps its latest
        first_source += replaced
        if (second + 1) % 60 == 0:
            now = (second + 1) * S
            nat.expire(now)
            # Live: sources whose latest packet is less than 350 s old (AWS: idle 350 s or more times out).
            live = int(((last_ts > 0) & (last_ts > np.uint64(max(0, now - IDLE_S * S)))).sum())
            held = len(nat)
            minute = (second + 1) // 60 - 1
            adds_up = int(nat.metrics["PacketsInFromSource"][minute]) == 60 * args.pps
            peak = max(peak, rss_mib())
            ok &= adds_up and held == live
            print(f"  minute {minute + 1:3d}: rss {rss_mib():7.1f} MiB, held {held:,}, live {live:,}, "
                  f"metrics add up: {adds_up}, {time.perf_counter() - start:6.1f} s")
    counters = nat.counters
    print(f"done: {counters['packets']:,} packets, {counters['forwarded']:,} forwarded; "
          f"peak rss {peak:.1f} MiB, final {rss_mib():.1f} MiB; {'all checks held' if ok else 'CHECKS FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
