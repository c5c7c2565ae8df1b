"""Bridge mode's extra hop: docker0 and its port-mapping NAT, as whole-batch translations around
the network model's path (``Cluster.process``).

A bridge task's container sits on its instance's docker0 bridge with an address of the bridge's
network; the instance's interface carries its traffic to and from the mapped host ports. So a
packet the path delivers to an instance's interface at a mapped host port goes on through docker0:
its destination becomes the container's address and port (Docker's DNAT) and it meets the bridge's
delay. A container's packet from a mapped port leaves with the instance's address and host port
(the reverse translation) before it takes the path. Both are lookups of sorted keys over the whole
batch (``np.searchsorted``), like the path's own address lookups; no Python runs per packet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane.packets import Batch
from hyperplane.topology.addresses import Cidr, address
from hyperplane.topology.path import check_batch
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.ecs.cluster import Cluster

DOCKER0: Final = Cidr.parse("172.17.0.0/16", "docker0")
"""Docker's default bridge network (the gateway, docker0 itself, is 172.17.0.1). Docker gives every
host the same network; the model numbers containers across the cluster (from 172.17.0.2) so that an
address names one container."""

BRIDGE_DELAY_NS: Final = 2_500
"""Estimate: one-way latency the bridge and its NAT add, 2.5 µs. Weiwei Yang, 'Docker Network Tests
under Host/Bridge Mode' (2017, https://yangwwei.github.io/2017/11/22/docker-network-tests.html):
qperf tcp_lat between two machines, 20 µs in bridge mode against 17.5 µs in host mode."""

UNMAPPED: Final = "container-initiated traffic (Docker's MASQUERADE) is not modelled"


class TaskTraffic(NamedTuple):
    """``Cluster.process``'s answer: the network's result with the docker0 hops added. ``hop``
    indexes ``hops`` (the network's hops, then each instance's ``<id>/docker0``)."""

    packets: Batch
    verdict: npt.NDArray[np.uint8]
    hop: npt.NDArray[np.int32]
    delay_ns: npt.NDArray[np.uint64]
    bridged: npt.NDArray[np.bool_]
    """Packets that crossed a docker0 bridge (translated in or out)."""
    hops: list[str]


def _key(ip: npt.NDArray[np.uint32], proto: npt.NDArray[np.uint8], port: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint64]:
    k = ip.astype(np.uint64) * np.uint64(1 << 24) + proto.astype(np.uint64) * np.uint64(1 << 16) + port.astype(np.uint64)
    return np.asarray(k, dtype=np.uint64)


def _find(keys: npt.NDArray[np.uint64], want: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    pos = np.searchsorted(keys, want)
    pos = np.minimum(pos, max(len(keys) - 1, 0))
    found = (keys[pos] == want) if len(keys) else np.zeros(len(want), dtype=bool)
    return pos, found


class Bridges:
    """Every bridge task's mappings in one cluster, as sorted keys (rebuilt at each call, as the
    path recompiles its graph: tasks come and go between calls)."""

    def __init__(self, cluster: Cluster) -> None:
        cis = cluster.container_instances
        self.names = [f"{ci.id}/docker0" for ci in cis]
        rows_in, rows_out, owners = [], [], []
        for k, ci in enumerate(cis):
            host = ci.instance.private_ip
            for t in ci.tasks:
                if t.network_mode != "bridge" or t.bridge_ip is None:
                    continue
                cip = address(t.bridge_ip, "bridge_ip")
                owners.append((cip, k))
                for b in t.bindings:
                    proto = 6 if b.protocol == "tcp" else 17
                    rows_in.append(((host << 24) | (proto << 16) | b.host_port, cip, b.container_port, k))
                    rows_out.append(((cip << 24) | (proto << 16) | b.container_port, host, b.host_port, k))
        rows_in.sort()
        rows_out.sort()
        owners.sort()
        self.in_keys = np.array([r[0] for r in rows_in], dtype=np.uint64)
        self.in_ip = np.array([r[1] for r in rows_in], dtype=np.uint32)
        self.in_port = np.array([r[2] for r in rows_in], dtype=np.uint16)
        self.in_ci = np.array([r[3] for r in rows_in], dtype=np.int64)
        self.out_keys = np.array([r[0] for r in rows_out], dtype=np.uint64)
        self.out_ip = np.array([r[1] for r in rows_out], dtype=np.uint32)
        self.out_port = np.array([r[2] for r in rows_out], dtype=np.uint16)
        self.out_ci = np.array([r[3] for r in rows_out], dtype=np.int64)
        self.owner_ip = np.array([o[0] for o in owners], dtype=np.uint64)
        self.owner_ci = np.array([o[1] for o in owners], dtype=np.int64)
        self.eni_in = {ci.instance.primary_interface.id: k for k, ci in enumerate(cis)}


class _Counts:
    """Per docker0 hop: packets = forwarded + DROP_NOT_ROUTED, as the network's hops count."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.by: dict[str, npt.NDArray[np.int64]] = {}

    def add(self, which: npt.NDArray[np.int64] | npt.NDArray[np.int32], key: str) -> None:
        got = np.bincount(np.asarray(which, dtype=np.int64), minlength=len(self.names))
        self.by[key] = self.by.get(key, np.zeros(len(self.names), dtype=np.int64)) + got

    def flush(self, into: dict[str, dict[str, int]]) -> None:
        for k, name in enumerate(self.names):
            c = {key: int(v[k]) for key, v in self.by.items()}
            if not any(c.values()):
                continue
            row = into.setdefault(name, {"packets": 0, "forwarded": 0, "DROP_NOT_ROUTED": 0})
            for key, v in c.items():
                row[key] += v
                row["packets"] += v


def process(cluster: Cluster, batch: Batch) -> TaskTraffic:
    """Containers' packets out through docker0, everything through the network, and packets for
    mapped host ports on through docker0 to their container."""
    check_batch(batch)  # the network's checks (dtype, shape, time order), before anything moves
    net = cluster.net
    br = Bridges(cluster)
    b = batch.copy()
    n = len(b)
    extra = np.zeros(n, dtype=np.uint64)
    bridged = np.zeros(n, dtype=bool)
    base = len(net.hops)
    counts = _Counts([*br.names, "docker0"])
    # ---- out: a container's packet from a mapped port takes its host address and port
    inside = (b["src_ip"] >= DOCKER0.base) & (b["src_ip"] <= DOCKER0.last)
    dropped = np.zeros(n, dtype=bool)
    drop_hop = np.zeros(n, dtype=np.int32)
    if inside.any():
        idx = np.flatnonzero(inside)
        pos, found = _find(br.out_keys, _key(b["src_ip"][idx], b["proto"][idx], b["src_port"][idx]))
        go = idx[found]
        b["src_ip"][go], b["src_port"][go] = br.out_ip[pos[found]], br.out_port[pos[found]]
        b["ts"][go] += np.uint64(BRIDGE_DELAY_NS)
        extra[go] += np.uint64(BRIDGE_DELAY_NS)
        bridged[go] = True
        lost = idx[~found]
        dropped[lost] = True
        drop_hop[lost] = base + len(br.names)  # an address no container holds: the generic docker0
        if len(br.owner_ip):
            opos, ofound = _find(br.owner_ip, b["src_ip"][lost].astype(np.uint64))
            drop_hop[lost[ofound]] = base + br.owner_ci[opos[ofound]]
        counts.add(drop_hop[lost] - base, "DROP_NOT_ROUTED")
        counts.add(br.out_ci[pos[found]], "forwarded")
    keep = np.flatnonzero(~dropped)
    order = keep[np.argsort(b["ts"][keep], kind="stable")]
    res = net.process(b[order])
    packets = b.copy()
    verdict = np.full(n, Verdict.DROP_NOT_ROUTED, dtype=np.uint8)
    hop = drop_hop.copy()
    delay = extra.copy()
    packets[order], verdict[order], hop[order] = res.packets, res.verdict, res.hop
    delay[order] += res.delay_ns
    # ---- in: delivered to an instance's interface at a mapped host port: on through docker0
    names = net.hops
    ena_in = {k: br.eni_in[name.split("/")[0]] for k, name in enumerate(names)
              if name.endswith("/ena-in") and name.split("/")[0] in br.eni_in}
    if ena_in and len(br.in_keys):
        at = np.full(len(names), -1, dtype=np.int64)
        for k, ci in ena_in.items():
            at[k] = ci
        cand = np.flatnonzero((verdict == Verdict.FORWARD) & ~dropped)
        cand = cand[at[hop[cand]] >= 0]
        pos, found = _find(br.in_keys, _key(packets["dst_ip"][cand], packets["proto"][cand], packets["dst_port"][cand]))
        go, pos = cand[found], pos[found]
        ok = br.in_ci[pos] == at[hop[go]]
        go, pos = go[ok], pos[ok]
        packets["dst_ip"][go], packets["dst_port"][go] = br.in_ip[pos], br.in_port[pos]
        packets["ts"][go] += np.uint64(BRIDGE_DELAY_NS)
        delay[go] += np.uint64(BRIDGE_DELAY_NS)
        hop[go] = base + br.in_ci[pos]
        bridged[go] = True
        counts.add(br.in_ci[pos], "forwarded")
    counts.flush(cluster.bridge_counters)
    return TaskTraffic(packets, verdict, hop, delay, bridged, [*names, *br.names, "docker0"])
