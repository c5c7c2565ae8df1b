"""The engine on live frames: a NAT gateway or a Network Load Balancer between real
interfaces of network namespaces (``docs/live.md``).

:class:`Dataplane` is the frame I/O (AF_PACKET TPACKET_V3 rings, ARP, Ethernet rewrite, in
C++); :func:`run_nat` and :func:`run_nlb` run a stage on it; :mod:`hyperplane.live.lab`
makes and removes labs of namespaces to run them in.
"""

from hyperplane.live.dataplane import IO_COUNTERS, Dataplane, Link, RunStats
from hyperplane.live.nat import run_nat
from hyperplane.live.netns import namespace
from hyperplane.live.report import LiveReport

__all__ = ["IO_COUNTERS", "Dataplane", "Link", "LiveReport", "RunStats", "namespace", "run_nat"]
