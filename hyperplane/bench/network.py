"""The ``network.*`` benchmark stages: a whole path through ``hp.Network`` against the sum of its
stages run alone on the same packets, in the same run.

The path is an instance's interface → its security groups → its subnet's ACL and route table → a
NAT gateway in the public subnet → the internet gateway, and back, over ``connections`` established
TCP connections. One recorded pass of the path captures the packets every node took; the
``network.stages`` round then makes each node's own call into the engine directly on those packets,
as the node makes it (the ENA interfaces, the security groups' rule match and ConnTrack, the NAT
gateway translating in place, the core's route-table, internet-gateway, internet and source
kernels; nothing for an ACL whose first rule allows everything, as the node does nothing), with no
scheduling, gathering or scattering. The ratio of the two is what hop dispatch costs. Each round
moves the packets' time on by a window, so the stages' state (allowances, timeouts) sees the same
traffic every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hyperplane import _core
from hyperplane.bench.stage import Round, Stage
from hyperplane.bench.workloads import Workload
from hyperplane.packets import Batch, TcpFlag, empty, ip
from hyperplane.topology import Network
from hyperplane.topology import nodes as P
from hyperplane.topology.rules import ALLOW_ALL, acl_decide, first_match, untracked

WINDOW_NS = 60 * 10**9
"""Each round's packets lie in one minute of packet time (a 100k-pps trace at 1M packets)."""


@dataclass
class NetworkSetup:
    net: Network
    batch: Batch
    calls: list[tuple[P.Node, Batch]]
    rounds: int = field(default=0)

    def shifted(self, b: Batch) -> Batch:
        out = b.copy()
        out["ts"] += np.uint64(self.rounds * WINDOW_NS)
        return out


def build(packets: int, connections: int, seed: int) -> NetworkSetup:
    """A VPC, an instance with ``connections`` established connections through a NAT gateway, and
    ``packets`` data packets on them: each one out and its reply back 100 µs later."""
    net = Network(seed=seed)
    vpc = net.add_vpc("10.0.0.0/16")
    pub = vpc.add_subnet("10.0.0.0/24", az="us-east-1a")
    app = vpc.add_subnet("10.0.1.0/24", az="us-east-1a")
    igw = vpc.add_internet_gateway()
    nat = pub.add_nat_gateway(public_ips=[f"203.0.113.{10 + k}" for k in range(2)], capacity=connections * 2,
                              limits=False)  # the engine's speed, not AWS's rate limits
    pub.route_table.add_route("0.0.0.0/0", igw)
    app.route_table.add_route("0.0.0.0/0", nat)
    inst = app.add_instance("c5.xlarge")
    eni = inst.primary_interface
    per_ip = 50_000
    while len(eni.private_ips) * per_ip < connections:
        eni.add_private_ip()
    rng = np.random.default_rng(seed)
    k = np.arange(connections)
    conn = empty(connections)
    conn["src_ip"] = np.array(eni.private_ips, dtype=np.uint32)[k // per_ip]
    conn["src_port"] = 10_000 + k % per_ip
    conn["dst_ip"] = ip("198.18.0.0") + rng.integers(0, 4096, connections)
    conn["dst_port"], conn["proto"], conn["length"] = 443, 6, 64
    spacing = WINDOW_NS // (3 * connections + 3)
    conn["ts"] = np.arange(connections, dtype=np.uint64) * np.uint64(spacing)
    syn = conn.copy()
    syn["tcp_flags"] = TcpFlag.SYN
    sent = net.process(syn)
    if (sent.verdict != 0).any():
        raise RuntimeError("network benchmark: the handshake's SYNs did not all get through")
    public = sent.packets
    synack = empty(connections)
    synack["src_ip"], synack["dst_ip"] = public["dst_ip"], public["src_ip"]
    synack["src_port"], synack["dst_port"] = public["dst_port"], public["src_port"]
    synack["proto"], synack["length"], synack["tcp_flags"] = 6, 64, TcpFlag.SYN | TcpFlag.ACK
    synack["ts"] = syn["ts"] + np.uint64(WINDOW_NS // 3)
    ack = syn.copy()
    ack["tcp_flags"], ack["ts"] = TcpFlag.ACK, syn["ts"] + np.uint64(2 * WINDOW_NS // 3)
    for b in (synack, ack):
        if (net.process(b).verdict != 0).any():
            raise RuntimeError("network benchmark: the handshake did not complete")
    # The timed trace: data out on random connections, each reply 100 µs later.
    half = packets // 2
    pick = rng.integers(0, connections, half)
    out = conn[pick]
    out["tcp_flags"] = TcpFlag.PSH | TcpFlag.ACK
    out["ts"] = np.uint64(WINDOW_NS) + np.arange(half, dtype=np.uint64) * np.uint64(WINDOW_NS // (packets + 1) * 2)
    back = synack[pick]
    back["tcp_flags"], back["ts"] = TcpFlag.PSH | TcpFlag.ACK, out["ts"] + np.uint64(100_000)
    both = np.concatenate([out, back])
    batch = both[np.argsort(both["ts"], kind="stable")]
    setup = NetworkSetup(net, batch, [])
    setup.rounds = 1
    rt = net._path()
    rt.record = setup.calls
    first = net.process(batch)
    rt.record = None
    if (first.verdict != 0).any():
        raise RuntimeError(f"network benchmark: {(first.verdict != 0).sum()} packets dropped on the path")
    return setup


def _alone(node: P.Node, b: Batch) -> Callable[[Batch], object]:
    """The node's stage called directly on a batch like ``b`` (the packets it took in the path): what
    the node does, without the path around it."""
    rt = node.rt
    if isinstance(node, P.EniNode):
        iface = rt.interface(node.eni, node.out)
        scope = rt.scope_allowance(node.eni) if node.out else None
        if scope is None:
            return iface.process

        def ena(b: Batch) -> object:
            iface.process(b)
            return scope.process(b)  # all the benchmark's traffic out leaves the region

        return ena
    if isinstance(node, P.SgNode):
        k = rt.eni_index[node.eni.id]
        rules, other = (rt.sg_egress[k], rt.sg_ingress[k]) if node.out else (rt.sg_ingress[k], rt.sg_egress[k])
        tracker = rt.tracker(node.eni)
        field_ = "dst_ip" if node.out else "src_ip"

        def sg(b: Batch) -> object:
            found, anywhere = first_match(rules, b["proto"], b["dst_port"], b[field_])
            untracked(other, b["proto"], anywhere)
            return tracker.process(b)

        return sg
    if isinstance(node, P.AclNode):
        entries = node.subnet.network_acl.egress if node.out else node.subnet.network_acl.ingress
        f = "dst_ip" if node.out else "src_ip"
        if entries and entries[0].allow and entries[0].match == ALLOW_ALL:
            return lambda b: None  # as the node: a first rule that allows everything decides at once
        return lambda b: acl_decide(entries, b["proto"], b["dst_port"], b[f])
    if isinstance(node, P.NatNode):
        nat = rt.nat_stage(node.g)
        return lambda b: nat.process(b, out=b)  # in place, as the node calls it
    # The address nodes are one call into the core each (csrc/topology/path_nodes.hpp): the same
    # call alone, over the batch, with per-packet state as the path had it (made before timing).
    n = len(b)
    idx = np.arange(n, dtype=np.int64)
    then, from_subnet = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    lookups, via = np.zeros(n, dtype=np.uint8), np.zeros(0, dtype=np.int64)  # no load balancers
    public = np.isin(b["src_ip"], rt.pub_keys)  # from a NAT gateway's address: on the way out
    leaving = public if isinstance(node, P.InternetNode) else np.zeros(n, dtype=np.bool_)
    entering = ~public if isinstance(node, P.IgwNode) else np.zeros(n, dtype=np.bool_)
    if isinstance(node, P.RouteNode):
        me = rt.subnet_index[node.subnet.id]
        zp, zb = np.zeros(len(rt.subnets), dtype=np.uint64), np.zeros(len(rt.subnets), dtype=np.uint64)
        return lambda b: _core.path_route(rt.tables, rt.routes[me], me, idx, b, then, from_subnet, lookups, leaving,
                                          entering, via, zp, zb)
    kernel = {P.IgwNode: _core.path_internet_gateway, P.InternetNode: _core.path_internet}.get(type(node), _core.path_source)
    return lambda b: kernel(rt.tables, idx, b, then, from_subnet, lookups, leaving, entering, via)


def path_round(setup: NetworkSetup) -> float:
    b = setup.shifted(setup.batch)
    setup.rounds += 1
    start = time.perf_counter()
    setup.net.process(b, out=b)  # in place, as a stage's out= allows: the stages alone copy nothing either
    return time.perf_counter() - start


def stages_round(setup: NetworkSetup) -> float:
    calls = [(_alone(node, b), setup.shifted(b)) for node, b in setup.calls]
    setup.rounds += 1
    total = 0.0
    for call, b in calls:
        start = time.perf_counter()
        call(b)
        total += time.perf_counter() - start
    return total


def _network(one_round: Callable[[NetworkSetup], float]) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        if "network" not in w.extra:  # 1M packets on 100k connections; fewer with fewer packets
            packets = min(1_000_000, w.packets)
            w.extra["network"] = build(packets, max(1, packets // 10), w.seed)
        setup: NetworkSetup = w.extra["network"]
        return Round(lambda: one_round(setup), len(setup.batch))

    return prepare


def network_stages() -> list[Stage]:
    """The ``network.*`` stages: the whole path against its stages alone on the same packets."""
    return [
        Stage("network.stages", "the path's stages alone on the packets each saw (sum of their times)", _network(stages_round)),
        Stage(
            "network.path",
            "ENI > SG > route > NAT GW > IGW and back; packets/10 connections (100k at 1M)",
            _network(path_round),
            ("network.stages",),
        ),
    ]
