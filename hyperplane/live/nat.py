"""``hyperplane live nat``: the NAT gateway stage between two real interfaces.

The inside link faces the private network (the engine answers ARP for ``inside_address``,
the hosts' default gateway); the outside link carries the public addresses (the first one's
prefix is the outside network, ``outside_gateway`` the next hop beyond it). Each batch goes
through one :class:`~hyperplane.nat.NatGateway` exactly as a capture does in
``hyperplane replay``: its verdicts, counters and CloudWatch metrics are the stage's own, a
RESET leaves as a real RST to the client, and time is the frames' receive time, so the idle
timeout runs in packet time.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from hyperplane.live.dataplane import Dataplane, Link
from hyperplane.live.report import LiveReport
from hyperplane.nat import IDLE_TIMEOUT_S, NatGateway
from hyperplane.packets import Batch


def run_nat(inside: str, inside_address: str, outside: str, public_ips: Sequence[str], private: Sequence[str], *,
            idle_timeout: float = IDLE_TIMEOUT_S, outside_gateway: str | None = None,
            duration: float | None = None, packets: int | None = None, seed: int | None = None,
            netns: str | None = None, batch: int = 256, stop: threading.Event | None = None,
            on_ready: Callable[[Dataplane], None] | None = None, ring: str = "v3") -> LiveReport:
    """Runs the gateway until a stop (``duration`` s, ``packets``, a signal or ``stop``) and
    returns its report. ``inside_address`` and the first of ``public_ips`` are ``address/prefix``;
    ``on_ready`` is called once the interfaces are open, before the first frame is read."""
    if not public_ips:
        raise ValueError("public_ips must hold at least one address")
    first = ipaddress.IPv4Interface(public_ips[0]) if "/" in public_ips[0] else None
    if first is None:
        raise ValueError(f"public_ips: the first address needs its prefix (e.g. {public_ips[0]}/24)")
    addresses = [str(ipaddress.IPv4Interface(a).ip) for a in public_ips]
    nat = NatGateway(addresses, list(private), idle_timeout=idle_timeout, seed=seed, threads=1)
    links = [Link(inside, inside_address), Link(outside, public_ips[0], tuple(addresses[1:]), outside_gateway)]
    plane = Dataplane(links, local=[str(ipaddress.IPv4Interface(inside_address).ip)], batch=batch, netns=netns, ring=ring)
    if on_ready:
        on_ready(plane)

    def step(batch: Batch, ingress: npt.NDArray[np.uint32]) -> tuple[Batch, npt.NDArray[np.uint8]]:
        result = nat.process(batch)  # both directions: the gateway tells them apart by address
        return result.packets, result.verdict

    stats = plane.run(step, duration=duration, packets=packets, stop=stop)
    what = (f"NAT gateway {', '.join(addresses)} for {', '.join(private)} "
            f"({inside} -> {outside}, idle timeout {idle_timeout:g} s)")
    return LiveReport(what, stats, nat.counters, nat.metrics, nat.seed)
