"""What does each C3, C4 and C5 size sustain before its ENA counters rise, and how fast is the model?

    python examples/instance_limits.py

For every size and for 64-, 512- and 1500-byte packets (IP length), the inbound rate the
interface's allowances sustain once burst credits are spent: the packet-rate allowance or
the baseline bandwidth, whichever binds first. Each figure is checked by running traffic
through ``hyperplane.ena.Interface`` (64 flows, so the single-flow limit stays out of the
way): 100 ms at that rate leaves every counter at zero, and 100 ms at 2% more raises one.
The last columns are how fast this machine takes the same traffic through the model (RSS,
allowances, connection tracking, latency), and so how many such interfaces one core keeps
up with in real time.
"""

from __future__ import annotations

import time

import numpy as np

import hyperplane as hp
from hyperplane.ena.interface import Interface

SIZES = (64, 512, 1500)
FLOWS = 64
SECONDS = 0.1
OVER = 1.02


def inbound(rate_pps: float, length: int) -> np.ndarray:
    """SECONDS of UDP packets at rate_pps, round-robin over FLOWS flows to one instance."""
    n = int(rate_pps * SECONDS)
    batch = hp.empty(n)
    k = np.arange(n, dtype=np.uint64)
    batch["ts"] = (k * np.uint64(10**9) / rate_pps).astype(np.uint64)
    batch["src_ip"] = hp.ip("198.51.100.0") + (k % FLOWS).astype(np.uint32)
    batch["dst_ip"], batch["src_port"], batch["dst_port"] = hp.ip("10.0.0.5"), 40_000, 5201
    batch["proto"], batch["length"] = hp.Proto.UDP, length
    return batch


def run(name: str, batch: np.ndarray) -> tuple[Interface, float]:
    """A fresh interface with its credits spent and a tracker sized for the trace; seconds taken."""
    eni = Interface(name, direction="in", burst_credits=0.0, conntrack=4 * FLOWS, seed=1)
    start = time.perf_counter()
    eni.process(batch)
    return eni, time.perf_counter() - start


def exceeded(eni: Interface) -> int:
    return sum(v for k, v in eni.counters.items() if k.endswith("_exceeded")) + eni.flow_allowance_exceeded


def main() -> None:
    head = (f"{'type':12} {'bytes':>5} {'sustains':>10} {'Gbps':>6}  {'bound by':9} {'at +2%':>14}"
            f"  {'bursts to':>16}  {'engine':>10} {'per core':>8}")
    print(head)
    print("-" * len(head))
    rows = [(t.name, size) for family in ("C3", "C4", "C5") for t in hp.ena.instance_types(family) for size in SIZES]
    for name, size in rows:
        a = Interface(name, conntrack=False).allowances
        rate = a.sustained_pps(size)
        bound = "pps" if rate == a.pps else "bandwidth"
        eni, seconds = run(name, inbound(rate, size))
        assert exceeded(eni) == 0, f"{name} at {rate} pps: {eni.counters}"
        over, _ = run(name, inbound(rate * OVER, size))
        raised = next(k for k, v in over.counters.items() if k.endswith("_exceeded") and v)
        burst = (f"{a.burst_bps / 1e9:g} Gbps {a.credit_seconds / 60:.1f} min" if a.credit_bits else "-")
        engine = eni.verdict_counts["packets"] / seconds
        print(f"{name:12} {size:5} {rate / 1e3:8.1f} k {rate * size * 8 / 1e9:6.2f}  {bound:9} "
              f"{raised.removesuffix('_allowance_exceeded') + ' rises':>14}  {burst:>16}  "
              f"{engine / 1e6:6.1f} Mpps {engine / rate:7.0f}x")
    print()
    print("sustains: inbound packets per second (k) and Gbps (IP bytes) with credits spent; 'up to' sizes")
    print("burst above it while credits last. engine: this machine, one core; per core: interfaces of that")
    print("type at that rate one core models in real time. Figures marked estimates in the catalog")
    print("(packet rates, C3/C4 bandwidth) are estimates here too: see docs/instance-types.md.")


if __name__ == "__main__":
    main()
