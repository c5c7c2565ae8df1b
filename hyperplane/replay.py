"""``hyperplane replay``: a capture through a NAT gateway, written out as it leaves.

The capture streams in batches (``hp.pcap``); its IPv4 frames go through one
:class:`~hyperplane.nat.NatGateway` in order, every other frame (IPv6, ARP, ...)
is carried through untouched, and the output holds what the gateway forwards,
rewritten, plus the RST it sends for each RESET. The report says what was read,
what the gateway did and what was written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hyperplane import pcap
from hyperplane.nat import PRIVATE_CIDRS, NatGateway
from hyperplane.packets import network


@dataclass(frozen=True)
class ReplayReport:
    source: str
    output: str
    read: pcap.CaptureStats
    verdicts: dict[str, int]
    """The gateway's packets by verdict (its ``counters``)."""
    outbound: int
    """IPv4 frames from a private network (translated on their way out, when forwarded)."""
    written: dict[str, int]
    seconds: float
    seed: int
    """The gateway's seed (port choice): the one given, or the one drawn; passing it back replays the run."""

    def __str__(self) -> str:
        r, w = self.read, self.written
        bad = ", ".join(f"{k} {v:,}" for k, v in r.malformed.items() if v) or "none"
        links = ", ".join(f"{pcap.LinkType(k).name if k in pcap.LinkType._value2member_map_ else k}: {v:,}"
                          for k, v in r.linktypes.items())
        fate = ", ".join(f"{k} {v:,}" for k, v in self.verdicts.items() if v and k != "packets")
        rate = f" ({r.frames / self.seconds / 1e6:.2f} Mpps)" if self.seconds > 0 else ""
        return "\n".join([
            f"read     {self.source}: {r.frames:,} frames ({links}); IPv4 {r.ipv4:,}, IPv6 {r.ipv6:,}, "
            f"other {r.other:,}; {r.fragments:,} fragments, {r.snapped:,} cut by the snaplen",
            f"skipped  malformed: {bad}",
            f"gateway  {self.verdicts.get('packets', 0):,} IPv4 packets ({self.outbound:,} from private networks): "
            f"{fate or 'none'}; seed {self.seed}",
            f"wrote    {self.output}: {w['written']:,} frames ({w['rewritten']:,} rewritten, {w['resets']:,} RSTs); "
            f"{w['dropped']:,} dropped",
            f"time     {self.seconds:.3f} s{rate}",
        ])


def replay(source: str | os.PathLike[str], output: str | os.PathLike[str], public_ips: Sequence[str],
           private_cidrs: Sequence[str] = PRIVATE_CIDRS, *, seed: int | None = None, batch: int = 1_000_000,
           idle_timeout: float | None = None) -> ReplayReport:
    """Runs the capture ``source`` through a NAT gateway and writes ``output`` (pcap or pcapng by suffix).

    ``public_ips`` and ``private_cidrs`` configure the gateway; ``seed`` fixes its port choice
    (default: drawn, and reported); ``batch`` is frames per batch; ``idle_timeout`` is seconds
    (default AWS's 350)."""
    kw = {} if idle_timeout is None else {"idle_timeout": idle_timeout}
    nat = NatGateway(list(public_ips), list(private_cidrs), seed=seed, threads=1, **kw)  # type: ignore[arg-type]
    nets = [network(c) for c in private_cidrs]
    cap = pcap.open(source)
    start = time.perf_counter()
    outbound = 0
    with pcap.Writer(output) as writer:
        for frames in cap.batches(batch):
            ipv4 = frames.ipv4
            packets = frames.packets.copy()
            verdict = np.zeros(len(frames), np.uint8)  # FORWARD: frames the gateway does not see go on
            sub = packets[ipv4]
            src = sub["src_ip"].astype(np.int64)
            outbound += int(sum(np.count_nonzero((src >= first) & (src < first + size)) for first, size in nets))
            out, v = nat.process(sub)
            packets[ipv4], verdict[ipv4] = out, v
            writer.write(frames, packets, verdict=verdict)
    return ReplayReport(os.fspath(source), os.fspath(output), cap.stats, nat.counters, outbound, writer.stats,
                        time.perf_counter() - start, nat.seed)

