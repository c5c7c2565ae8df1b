"""Bridge mode's extra hop: docker0, its port-mapping NAT and its MASQUERADE, as whole-batch
translations around the network model's path (``Cluster.process``).

A bridge task's container sits on its instance's docker0 bridge with an address of the bridge's
network; the instance's interface carries its traffic to and from the mapped host ports. So a
packet the path delivers to an instance's interface at a mapped host port goes on through docker0:
its destination becomes the container's address and port (Docker's DNAT) and it meets the bridge's
delay. A container's packet from a mapped port leaves with the instance's address and host port
(the reverse translation) before it takes the path. Both are lookups of sorted keys over the whole
batch (``np.searchsorted``), like the path's own address lookups; no Python runs per packet.

A connection the container opens itself (from a port that is not mapped) leaves through Docker's
MASQUERADE rule (``-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE``, as ``iptables-save``
shows it on a Docker host): a source NAT to the instance's address. That is the engine's ``hp.NatGateway``
stage, one per instance (its address the public one, docker0's network the private one, Linux's
conntrack timeouts and table size, no AWS rate limits), so the translation, its port allocation and its state are
the engine's and cost what they cost; replies the path delivers to the instance go back through the
same stage to the container, and a packet for the instance that matches none of its connections is
the instance's own (delivered to it, as before).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane.conntrack import Timeouts
from hyperplane.nat import NatGateway
from hyperplane.packets import Batch
from hyperplane.topology.addresses import Cidr, address, dotted
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

MASQUERADE_PORTS: Final = 64_512
"""Source ports MASQUERADE may use per destination: Linux's range for a source port of 1024 and up,
1024-65535 (nf_nat_core.c, ``nf_nat_l4proto_unique_tuple``), all of it."""


def conntrack_max(memory_gib: float) -> int:
    """Linux's default ``nf_conntrack_max`` on a host of ``memory_gib``, before 5.15: four entries a
    hash bucket, and "the default size is calculated by dividing total memory by 16384 to determine
    the number of buckets but the hash table will never have fewer than 32 and limited to 16384
    buckets. For systems with more than 4GB of memory it will be 65536 buckets" (kernel
    documentation, nf_conntrack-sysctl; the multiplier of 4 from nf_conntrack_core.c of that era)."""
    size = int(memory_gib * 2**30)
    buckets = 65_536 if size > 4 * 2**30 else max(32, min(size // 16_384, 16_384))
    return 4 * buckets


def masquerade(cluster: Cluster, k: int) -> NatGateway:
    """Container instance ``k``'s MASQUERADE: an engine NAT stage from docker0's network to the
    instance's address, made the first time a container of it opens a connection. Linux picks a
    source port that keeps the connection's tuple unique, the original one when it is free; the
    stage picks from its own allocator (ports differ, uniqueness and exhaustion do not)."""
    ci = cluster.container_instances[k]
    nat = cluster.masquerades.get(ci.id)
    if nat is None:
        seed = int(np.random.default_rng([cluster.net.seed, zlib.crc32(ci.id.encode())]).integers(2**63))
        nat = NatGateway([dotted(ci.instance.private_ip)], [f"{dotted(DOCKER0.base)}/{DOCKER0.prefix}"],
                         capacity=conntrack_max(ci.instance_type.memory_gib), timeouts=Timeouts.linux(), limits=False,
                         per_destination=MASQUERADE_PORTS, threads=1, seed=seed)
        cluster.masquerades[ci.id] = nat
    return nat


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
    """Per docker0 hop: packets = forwarded + every drop reason, as the network's hops count."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.by: dict[str, npt.NDArray[np.int64]] = {}

    def add(self, which: npt.NDArray[np.int64] | npt.NDArray[np.int32], verdict: npt.NDArray[np.uint8] | int) -> None:
        """Count packets at hops ``which`` (indices into ``names``) with their verdicts."""
        which = np.asarray(which, dtype=np.int64)
        v = np.broadcast_to(np.asarray(verdict, dtype=np.uint8), which.shape)
        names = Verdict.name_table()
        for code in np.unique(v).tolist():
            key = "forwarded" if code == Verdict.FORWARD else str(names[code])
            got = np.bincount(which[v == code], minlength=len(self.names))
            self.by[key] = self.by.get(key, np.zeros(len(self.names), dtype=np.int64)) + got

    def flush(self, into: dict[str, dict[str, int]]) -> None:
        for k, name in enumerate(self.names):
            c = {key: int(v[k]) for key, v in self.by.items() if v[k]}
            if not c:
                continue
            row = into.setdefault(name, {"packets": 0, "forwarded": 0})
            for key, v in c.items():
                row[key] = row.get(key, 0) + v
                row["packets"] += v


def _masqueraded(cluster: Cluster, which: npt.NDArray[np.int64], packets: Batch) -> tuple[Batch, npt.NDArray[np.uint8]]:
    """``packets`` (each of container instance ``which``) through their instances' MASQUERADE
    stages, each instance's in order of time: the packets as the stages leave them, and verdicts."""
    out = packets.copy()
    verdict = np.empty(len(packets), dtype=np.uint8)
    for k in np.unique(which).tolist():
        sel = np.flatnonzero(which == k)
        sel = sel[np.argsort(out["ts"][sel], kind="stable")]
        res = masquerade(cluster, k).process(out[sel])
        out[sel], verdict[sel] = res.packets, res.verdict
    return out, verdict


def process(cluster: Cluster, batch: Batch) -> TaskTraffic:
    """Containers' packets out through docker0, everything through the network, and packets for
    mapped host ports or masqueraded connections on through docker0 to their container."""
    check_batch(batch)  # the network's checks (dtype, shape, time order), before anything moves
    net = cluster.net
    br = Bridges(cluster)
    b = batch.copy()
    n = len(b)
    extra = np.zeros(n, dtype=np.uint64)
    bridged = np.zeros(n, dtype=bool)
    base = len(net.hops)
    generic = len(br.names)  # the docker0 hop of an address no container holds
    counts = _Counts([*br.names, "docker0"])
    out_verdict = np.full(n, Verdict.FORWARD, dtype=np.uint8)
    drop_hop = np.zeros(n, dtype=np.int32)
    # ---- out: a container's packet from a mapped port takes its host address and port; from
    # another port, MASQUERADE (the instance's NAT stage); from an address no container holds, dropped
    inside = (b["src_ip"] >= DOCKER0.base) & (b["src_ip"] <= DOCKER0.last)
    if inside.any():
        idx = np.flatnonzero(inside)
        pos, found = _find(br.out_keys, _key(b["src_ip"][idx], b["proto"][idx], b["src_port"][idx]))
        go = idx[found]
        b["src_ip"][go], b["src_port"][go] = br.out_ip[pos[found]], br.out_port[pos[found]]
        counts.add(br.out_ci[pos[found]], Verdict.FORWARD)
        rest = idx[~found]
        owner = np.full(len(rest), -1, dtype=np.int64)
        if len(br.owner_ip):
            opos, ofound = _find(br.owner_ip, b["src_ip"][rest].astype(np.uint64))
            owner[ofound] = br.owner_ci[opos[ofound]]
        lost = rest[owner < 0]
        out_verdict[lost] = Verdict.DROP_NOT_ROUTED
        counts.add(np.full(len(lost), generic, dtype=np.int64), Verdict.DROP_NOT_ROUTED)
        masq, which = rest[owner >= 0], owner[owner >= 0]
        drop_hop[inside] = base + generic
        if len(masq):
            b[masq], out_verdict[masq] = _masqueraded(cluster, which, b[masq])
            counts.add(which, out_verdict[masq])
            drop_hop[masq] = base + which
        crossed = idx[out_verdict[idx] == Verdict.FORWARD]
        b["ts"][crossed] += np.uint64(BRIDGE_DELAY_NS)
        extra[crossed] += np.uint64(BRIDGE_DELAY_NS)
        bridged[crossed] = True
    dropped = out_verdict != Verdict.FORWARD
    keep = np.flatnonzero(~dropped)
    order = keep[np.argsort(b["ts"][keep], kind="stable")]
    res = net.process(b[order])
    packets = b.copy()
    verdict = out_verdict.copy()
    hop = drop_hop.copy()
    delay = extra.copy()
    packets[order], verdict[order], hop[order] = res.packets, res.verdict, res.hop
    delay[order] += res.delay_ns
    # ---- in: delivered to an instance's interface at a mapped host port, or for a masqueraded
    # connection of its containers: on through docker0
    names = net.hops
    ena_in = {k: br.eni_in[name.split("/")[0]] for k, name in enumerate(names)
              if name.endswith("/ena-in") and name.split("/")[0] in br.eni_in}
    if ena_in:
        at = np.full(len(names), -1, dtype=np.int64)
        for k, ci in ena_in.items():
            at[k] = ci
        cand = np.flatnonzero((verdict == Verdict.FORWARD) & ~dropped)
        cand = cand[at[hop[cand]] >= 0]
        mapped = np.zeros(len(cand), dtype=bool)
        if len(br.in_keys):
            pos, found = _find(br.in_keys, _key(packets["dst_ip"][cand], packets["proto"][cand], packets["dst_port"][cand]))
            mapped = found & (br.in_ci[pos] == at[hop[cand]])
            go, pos = cand[mapped], pos[mapped]
            packets["dst_ip"][go], packets["dst_port"][go] = br.in_ip[pos], br.in_port[pos]
            packets["ts"][go] += np.uint64(BRIDGE_DELAY_NS)
            delay[go] += np.uint64(BRIDGE_DELAY_NS)
            hop[go] = base + br.in_ci[pos]
            bridged[go] = True
            counts.add(br.in_ci[pos], Verdict.FORWARD)
        # The rest, at instances whose containers have masqueraded: back through the stage. What
        # matches none of its connections (DROP_UNSOLICITED) is the instance's own, left as it was.
        rest = cand[~mapped]
        ci_of = at[hop[rest]]
        has = np.array([cluster.container_instances[k].id in cluster.masquerades for k in range(len(br.names))] + [False])
        rest, ci_of = rest[has[ci_of]], ci_of[has[ci_of]]
        if len(rest):
            trial, tv = _masqueraded(cluster, ci_of, packets[rest])
            mine = tv != Verdict.DROP_UNSOLICITED
            go = rest[mine]
            packets[go] = trial[mine]
            crossed = np.where(tv[mine] == Verdict.FORWARD, np.uint64(BRIDGE_DELAY_NS), np.uint64(0))
            packets["ts"][go] += crossed
            delay[go] += crossed
            verdict[go] = tv[mine]
            hop[go] = base + ci_of[mine]
            bridged[go] = tv[mine] == Verdict.FORWARD
            counts.add(ci_of[mine], tv[mine])
    counts.flush(cluster.bridge_counters)
    return TaskTraffic(packets, verdict, hop, delay, bridged, [*names, *br.names, "docker0"])
