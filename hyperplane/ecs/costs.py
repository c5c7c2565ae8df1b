"""What each network mode's path costs, measured on the same traffic: the time the engine takes
per packet through the network model (and docker0 for bridge tasks), and the latency the path
adds to each packet (ENA interfaces, the bridge's hop).

The traffic is the same for every mode: ``packets`` packets from one client over ``packets / 10``
flows (a SYN, then data), spread evenly over the mode's running tasks, addressed to where each
task is reached (its own address in awsvpc, its instance's address and host port otherwise).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hyperplane.packets import TcpFlag, empty, ip
from hyperplane.topology.resources import Instance
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.ecs.cluster import Cluster


@dataclass(frozen=True)
class PathCost:
    """One mode's path: ``ns_per_packet`` of engine time, ``latency_us`` added per delivered packet
    (mean), and the share of packets delivered."""

    mode: str
    tasks: int
    ns_per_packet: float
    latency_us: float
    delivered: float


def path_costs(cluster: Cluster, client: Instance, *, packets: int = 20_000, port: int | None = None) -> dict[str, PathCost]:
    """Send the same traffic from ``client`` to each mode's tasks (``port``: the container port,
    default each task's first TCP mapping) and measure it. Modes without reachable tasks are left out."""
    if not isinstance(client, Instance):
        raise TypeError(f"client must be an Instance of the network, not {type(client).__name__}")
    if isinstance(packets, bool) or not isinstance(packets, int) or packets < 10:
        raise ValueError(f"packets must be an integer of at least 10, not {packets!r}")
    out: dict[str, PathCost] = {}
    start_ns = 0
    for mode in ("awsvpc", "bridge", "host"):
        ends = []
        for t in cluster.tasks:
            if t.network_mode != mode:
                continue
            tcp = [b for b in t.bindings if b.protocol == "tcp" and (port is None or b.container_port == port)]
            if tcp:
                ends.append((ip(tcp[0].bind_ip), tcp[0].host_port))
        if not ends:
            continue
        flows = packets // 10
        k = np.arange(packets)
        flow = k % flows
        b = empty(packets)
        b["src_ip"], b["src_port"] = client.private_ip, 20_000 + flow % 40_000
        dst = np.array(ends, dtype=np.int64)[flow % len(ends)]
        b["dst_ip"], b["dst_port"] = dst[:, 0], dst[:, 1]
        b["proto"], b["length"] = 6, 100
        b["tcp_flags"] = np.where(k < flows, int(TcpFlag.SYN), int(TcpFlag.ACK))
        b["ts"] = np.uint64(start_ns) + k.astype(np.uint64) * np.uint64(20_000)  # 50 kpps
        start_ns += packets * 20_000 + 10**9
        t0 = time.perf_counter()
        res = cluster.process(b)
        seconds = time.perf_counter() - t0
        ok = res.verdict == Verdict.FORWARD
        latency = float(res.delay_ns[ok].mean()) / 1e3 if ok.any() else float("nan")
        out[mode] = PathCost(mode, len(ends), seconds * 1e9 / packets, latency, float(ok.mean()))
    return out
