"""What each network mode's path costs, measured on the same traffic: the time the engine takes
per packet through the network model (and docker0 for bridge tasks), and the latency the path
adds to each packet (ENA interfaces, the bridge's hop).

The traffic is the same for every mode: ``packets`` packets from one client over ``packets / 10``
flows (a SYN, then data), spread evenly over the mode's running tasks, addressed to where each
task is reached (its own address in awsvpc, its instance's address and host port otherwise).
``bridge-masquerade`` is the bridge containers opening the flows to the client themselves, through
their instances' MASQUERADE (an engine NAT stage each, which tracks TCP as Linux does, so each flow
is a real handshake): the SYNs, the client's SYN-ACKs to the ports the stage chose, and the
containers' data, in three calls (``Cluster.process`` takes a call's container packets through the
stage before the path's replies, so a handshake within one call would not be seen in order); all
three are timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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

    def measure(mode: str, tasks: int, first: np.ndarray, *then: Callable[[np.ndarray], np.ndarray]) -> None:
        """Time ``first`` through the cluster, then each of ``then`` (given what arrived of the one before)."""
        nonlocal start_ns
        seconds, sent, latencies = 0.0, 0, []
        steps = list(then)
        b: np.ndarray | None = first
        while b is not None:
            b["ts"] = np.uint64(start_ns) + np.arange(len(b), dtype=np.uint64) * np.uint64(20_000)  # 50 kpps
            start_ns += len(b) * 20_000 + 10**6
            t0 = time.perf_counter()
            res = cluster.process(b)
            seconds += time.perf_counter() - t0
            sent += len(b)
            latencies.append(res.delay_ns[res.verdict == Verdict.FORWARD])
            b = steps.pop(0)(res.packets) if steps else None
        lat = np.concatenate(latencies)
        start_ns += 10**9
        latency = float(lat.mean()) / 1e3 if len(lat) else float("nan")
        out[mode] = PathCost(mode, tasks, seconds * 1e9 / sent, latency, len(lat) / sent)

    flows = packets // 10
    k = np.arange(packets)
    flow = k % flows
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
        b = _flows(packets, flows)
        b["src_ip"], b["src_port"] = client.private_ip, 20_000 + flow % 40_000
        dst = np.array(ends, dtype=np.int64)[flow % len(ends)]
        b["dst_ip"], b["dst_port"] = dst[:, 0], dst[:, 1]
        measure(mode, len(ends), b)
    containers = [ip(t.bridge_ip) for t in cluster.tasks if t.network_mode == "bridge" and t.bridge_ip is not None]
    if containers:
        syn = _flows(flows, flows)
        syn["src_ip"] = np.array(containers, dtype=np.uint32)[np.arange(flows) % len(containers)]
        syn["src_port"] = 20_000 + np.arange(flows) % 40_000
        syn["dst_ip"], syn["dst_port"] = client.private_ip, 443 if port is None else port

        def answered(arrived: np.ndarray) -> np.ndarray:
            """The client's SYN-ACK to where each SYN arrived from."""
            ack = _flows(flows, 0)
            ack["src_ip"], ack["src_port"] = arrived["dst_ip"], arrived["dst_port"]
            ack["dst_ip"], ack["dst_port"] = arrived["src_ip"], arrived["src_port"]
            ack["tcp_flags"] = int(TcpFlag.SYN | TcpFlag.ACK)
            return ack

        def data(_: np.ndarray) -> np.ndarray:
            """The containers' data on the flows, now established."""
            d = _flows(packets - 2 * flows, 0)
            g = np.arange(len(d)) % flows
            for f in ("src_ip", "src_port", "dst_ip", "dst_port"):
                d[f] = syn[f][g]
            return d

        measure("bridge-masquerade", len(containers), syn, answered, data)
    return out


def _flows(packets: int, flows: int) -> np.ndarray:
    """``packets`` 100-byte TCP packets: the first ``flows`` SYNs, the rest data (ACK)."""
    k = np.arange(packets)
    b = empty(packets)
    b["proto"], b["length"] = 6, 100
    b["tcp_flags"] = np.where(k < flows, int(TcpFlag.SYN), int(TcpFlag.ACK))
    return b
