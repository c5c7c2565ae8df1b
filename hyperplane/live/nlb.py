"""``hyperplane live nlb``: the Network Load Balancer stage between clients and targets.

The front link carries the listener's address (the load balancer's node: the engine answers
ARP for it), the back link the targets' network, where the engine is the targets' default
gateway. Clients' packets go through :meth:`NetworkLoadBalancer.process` (a target chosen by
the flow hash and kept for the flow's life, the destination rewritten to it, the client's
address preserved); the targets' replies through :meth:`~NetworkLoadBalancer.process_replies`,
which finds each one's flow and makes it come from the listener. Health is set, not probed:
``health_file`` names a file of ``ADDRESS:PORT healthy|unhealthy`` lines, read again whenever
it changes, so a target marked unhealthy has its flows reset and gets no new ones.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hyperplane.live.dataplane import Dataplane, Link, RunStats
from hyperplane.live.report import LiveReport
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import Batch

FRONT, BACK = 0, 1
ZONE = "live"


def parse_listener(text: str) -> tuple[str, int, str]:
    """``ADDRESS:PORT/PROTOCOL`` (``192.0.2.80:80/tcp``) -> (address, port, protocol)."""
    try:
        where, proto = text.rsplit("/", 1) if "/" in text else (text, "tcp")
        address, port = where.rsplit(":", 1)
        ipaddress.IPv4Address(address)
        if proto not in ("tcp", "udp") or not 1 <= int(port) <= 65535:
            raise ValueError(text)
    except ValueError:
        raise ValueError(f"listen: {text!r} is not ADDRESS:PORT/tcp or /udp") from None
    return address, int(port), proto


def read_health(path: str) -> dict[str, bool]:
    """The health file: ``ADDRESS:PORT healthy`` or ``unhealthy`` per line (# comments)."""
    health: dict[str, bool] = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 2 or words[1] not in ("healthy", "unhealthy"):
                raise ValueError(f"{path}:{number}: want 'ADDRESS:PORT healthy|unhealthy', got {line.strip()!r}")
            health[words[0]] = words[1] == "healthy"
    return health


@dataclass
class LiveNlb:
    """A load balancer and the dataplane it runs on; :meth:`run` until a stop."""

    nlb: NetworkLoadBalancer
    plane: Dataplane
    targets: list[str]
    description: str

    def step(self, batch: Batch, ingress: npt.NDArray[np.uint32]) -> tuple[Batch, npt.NDArray[np.uint8]]:
        out = batch.copy()
        verdict = np.empty(len(batch), np.uint8)
        front = ingress == FRONT
        for mask, process in ((front, self.nlb.process), (~front, self.nlb.process_replies)):
            if mask.any():
                r = process(batch[mask])
                out[mask], verdict[mask] = r.packets, r.verdict
        return out, verdict

    def run(self, *, duration: float | None = None, packets: int | None = None, stop: threading.Event | None = None,
            health_file: str | None = None) -> RunStats:
        return self.plane.run(self.step, duration=duration, packets=packets, stop=stop,
                              tick=self._watch(health_file) if health_file else None)

    def _watch(self, path: str) -> Callable[[], None]:
        seen: list[float] = [-1.0, 0.0]  # the file's mtime, when last looked at

        def tick() -> None:
            now = time.monotonic()
            if now - seen[1] < 0.1:
                return
            seen[1] = now
            try:
                mtime = os.stat(path).st_mtime
            except FileNotFoundError:
                return
            if mtime != seen[0]:
                seen[0] = mtime
                for target, healthy in read_health(path).items():
                    if target in self.targets:
                        self.nlb.set_health(target, healthy)

        return tick


def live_nlb(front: str, front_address: str, listen: str, back: str, back_address: str, targets: Sequence[str], *,
             back_gateway: str | None = None, idle_timeout: float | None = None, seed: int | None = None,
             netns: str | None = None, batch: int = 256, ring: str = "v3") -> LiveNlb:
    """Opens the links and builds the balancer (one node: the listener's address)."""
    address, port, proto = parse_listener(listen)
    if not targets:
        raise ValueError("targets must name at least one ADDRESS:PORT")
    kw = {} if idle_timeout is None else {"tcp_idle_timeout": idle_timeout}
    nlb = NetworkLoadBalancer([(port, proto)], [(t, ZONE) for t in targets], {ZONE: address}, seed=seed, threads=1,
                              **kw)  # type: ignore[arg-type]
    local = [str(ipaddress.IPv4Interface(a).ip) for a in (front_address, back_address)]
    plane = Dataplane([Link(front, front_address, (address,)), Link(back, back_address, gateway=back_gateway)],
                      local=local, batch=batch, netns=netns, ring=ring)
    what = f"Network Load Balancer {listen} -> {', '.join(targets)} ({front} -> {back})"
    return LiveNlb(nlb, plane, list(targets), what)


def run_nlb(front: str, front_address: str, listen: str, back: str, back_address: str, targets: Sequence[str], *,
            back_gateway: str | None = None, idle_timeout: float | None = None, health_file: str | None = None,
            duration: float | None = None, packets: int | None = None, seed: int | None = None,
            netns: str | None = None, batch: int = 256, stop: threading.Event | None = None,
            on_ready: Callable[[Dataplane], None] | None = None, ring: str = "v3") -> LiveReport:
    """Runs the balancer until a stop and returns its report."""
    lb = live_nlb(front, front_address, listen, back, back_address, targets, back_gateway=back_gateway,
                  idle_timeout=idle_timeout, seed=seed, netns=netns, batch=batch, ring=ring)
    if on_ready:
        on_ready(lb.plane)
    stats = lb.run(duration=duration, packets=packets, stop=stop, health_file=health_file)
    return LiveReport(lb.description, stats, lb.nlb.counters, lb.nlb.metrics, lb.nlb.seed)
