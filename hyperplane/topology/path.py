"""The packet path: a network run as VPP runs its graph of nodes.

Every hop is a node (one per resource and direction: an interface's ENA allowances out and in, its
security groups out and in, a subnet's network ACL out and in and its route table, a NAT gateway,
an internet gateway, the internet). A node takes all its pending packets at once, in order of
``ts``, makes one call into the engine or a few whole-array numpy operations, and hands each packet
on by index: to the next node, or to its verdict. The scheduler then runs the node whose earliest
pending packet is earliest (ties by the hop order), until no packet is pending. No Python runs per
packet: the loop runs once per node call, and a node takes every packet pending at it. The node
classes are in ``nodes.py``; this file builds the graph and the stages, and runs it.

The per-packet state is a handful of arrays over the batch: the packets themselves (rewritten by NAT
and the internet gateway; ``ts`` moved on by an interface's delay), the verdict and the hop that
decided it, the delay so far, the node to go to after a network ACL in, the subnet the packet was
routed from, and a count of route lookups (a loop guard).

Stateful stages (connection trackers, NAT gateways, ENA interfaces) see each call's packets in
time order, and calls come in order of their earliest packet, so a reply in the same batch as its
request meets the tracker and the NAT gateway after the request whenever it is sent after the
request arrived (a reply sent before that, which AWS could not see either, is unsolicited). Since a
node takes all its pending packets at once, a packet that reaches a node after that node has
already taken later packets is seen in a later call with an earlier time; the stages count such a
packet at the latest time they have seen (their clocks never go back).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.conntrack import ConnTrack, Timeouts
from hyperplane.ena.interface import COUNTERS, LINK_LOCAL, Interface
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import PACKET_DTYPE, Batch
from hyperplane.topology.addresses import dotted
from hyperplane.topology.nodes import (
    I64,
    MAX_ROUTE_LOOKUPS,
    AclNode,
    EniNode,
    IgwNode,
    InternetNode,
    NatNode,
    Next,
    NlbNode,
    Node,
    RouteNode,
    Run,
    SgNode,
    SourceNode,
    Then,
    V,
)
from hyperplane.topology.resources import InternetGateway, LoadBalancerResource, NatGatewayResource, NetworkInterface
from hyperplane.topology.rules import SgMatch
from hyperplane.verdict import Verdict, packet_counters


class NetworkResult(NamedTuple):
    packets: Batch
    """Each packet as it arrived (rewritten by NAT or the internet gateway, ``ts`` moved on by the
    interfaces' delays), or as it was when it was dropped."""
    verdict: V
    """A :class:`~hyperplane.verdict.Verdict` per packet: FORWARD when it reached its destination."""
    hop: npt.NDArray[np.int32]
    """The hop that decided the packet's fate (its name: ``net.hops[hop]``)."""
    delay_ns: npt.NDArray[np.uint64]
    """The delay it met on the way (ENA latency and queueing), up to its deciding hop."""


def _addresses(keys: npt.NDArray[Any], **values: npt.NDArray[Any]) -> _core.PathAddresses:
    a = _core.PathAddresses()
    a.keys = keys.tolist()
    for name, v in values.items():
        setattr(a, name, v.tolist())
    return a


def check_batch(batch: object) -> None:
    """The checks every stage makes, once, before any hop runs (an error names ``batch``)."""
    if not isinstance(batch, np.ndarray):
        raise TypeError(f"batch must be a numpy array of hp.PACKET_DTYPE, not {type(batch).__name__}")
    if batch.dtype != PACKET_DTYPE:
        raise TypeError(f"batch must have dtype hp.PACKET_DTYPE, not {batch.dtype}")
    if batch.ndim != 1:
        raise ValueError(f"batch must be one-dimensional, not of shape {batch.shape}")
    ts = batch["ts"]
    if len(batch) > 1 and bool((ts[1:] < ts[:-1]).any()):
        raise ValueError("batch must be in order of time (ts never decreasing)")


class Runtime:
    """The nodes and stages of one network, and the scheduler that runs a batch through them."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.nodes: list[Node] = []
        self._by_key: dict[tuple[str, str], int] = {}
        self._interfaces: dict[str, Interface] = {}
        self._trackers: dict[str, ConnTrack] = {}
        self._nats: dict[str, NatGateway] = {}
        self._lbs: dict[str, NetworkLoadBalancer] = {}
        self._cross: dict[tuple[str, str], list[int]] = {}
        self._seeds: dict[str, int] = {}
        self.record: list[tuple[Node, Batch]] | None = None
        """When a list, every node call appends (node, its packets as it took them): the benchmark's
        way to run each stage alone on exactly the packets it saw in the path."""

    # ---- stages, built from the configuration the first time they are needed ----------------

    def _seed(self, rid: str) -> int:
        if rid not in self._seeds:
            self._seeds[rid] = int(np.random.default_rng([self.net.seed, len(self._seeds)]).integers(2**63))
        return self._seeds[rid]

    def interface(self, eni: NetworkInterface, out: bool) -> Interface:
        """The ENA allowances of the interface's instance for one direction. AWS counts bandwidth and
        packet rate per instance, over all its interfaces ("bw_in_allowance_exceeded: The number of
        packets queued or dropped because the inbound aggregate bandwidth exceeded the maximum for the
        instance", ENA documentation), so every interface of an instance (a secondary one, an awsvpc
        task's, a trunk's branches) takes from the same pair. The two directions are two
        ``hp.ena.Interface``s, since a path reaches an interface's way out and its way in in separate
        node calls, each in time order; they share one packet-rate allowance, which AWS counts over
        both directions together ("pps_allowance_exceeded: The number of packets queued or dropped
        because the bidirectional PPS exceeded the maximum for the instance"):
        ``Interface.share_packet_rate``. Bandwidth is per direction. Two interfaces' calls are not in
        time order with each other: a packet older than one the pair has seen counts at the pair's
        clock, as a stage's clock never goes back."""
        inst = eni.instance
        key = f"{inst.id}/{'out' if out else 'in'}"
        if key not in self._interfaces:
            pair = {}
            for way in ("out", "in"):  # both at once: the allowance is shared before either sees a packet
                pair[way] = Interface(
                    inst.instance_type,
                    direction=way,
                    conntrack=False,  # the security groups' trackers are the conntrack allowance
                    placement_group=inst.placement_group is not None,
                    link_local=[*LINK_LOCAL, f"{dotted(eni.subnet.vpc.resolver)}/32"],  # one VPC an instance
                    seed=self._seed(f"{inst.primary_interface.id}/{way}"),
                )
            pair["out"].share_packet_rate(pair["in"])
            for way, iface in pair.items():
                self._interfaces[f"{inst.id}/{way}"] = iface
        return self._interfaces[key]

    def scope_allowance(self, eni: NetworkInterface) -> Interface | None:
        """The aggregate allowance out of the region (the catalog's ``bw_elsewhere_gbps``: to other
        Regions, an internet gateway or Direct Connect), when it is below the type's own bandwidth;
        None otherwise. It is one more ``hp.ena.Interface`` per instance holding only that bandwidth
        (no packet rate, no link-local, no added latency); what it queues or drops counts as
        ``bw_out_allowance_exceeded``."""
        inst = eni.instance
        key = f"{inst.id}/elsewhere"
        if key not in self._interfaces:
            t = inst.instance_type
            if t.bw_elsewhere_gbps >= max(t.baseline_gbps, t.burst_gbps):
                return None
            self._interfaces[key] = Interface(
                t, direction="out", conntrack=False, link_local=[], seed=self._seed(f"{inst.primary_interface.id}/elsewhere"),
                placement_group=inst.placement_group is not None,
                baseline_gbps=t.bw_elsewhere_gbps, burst_gbps=t.bw_elsewhere_gbps,
                pps=2**40, latency_us=1e-4,  # no packet-rate limit; rounds to 0 ns
            )
        return self._interfaces[key]

    def sg_out_of(self, eni: NetworkInterface, src: npt.NDArray[np.uint32]) -> int | I64:
        """The security-group node out of each packet's own interface, for packets from ``src`` leaving
        by ``eni``'s instance (one node for all when the instance has one interface)."""
        ks = self.instance_enis[eni.instance.id]
        if len(ks) == 1:
            return int(self.sg_out[ks[0]])
        pos = np.minimum(np.searchsorted(self.priv_keys, src), len(self.priv_keys) - 1)
        k = np.where(self.priv_keys[pos] == src, self.priv_eni[pos], self.eni_index[eni.id])
        out: I64 = self.sg_out[k]
        return out

    def tracker(self, eni: NetworkInterface) -> ConnTrack:
        if eni.id not in self._trackers:
            self._trackers[eni.id] = ConnTrack(
                eni.instance.instance_type.conntrack, timeouts=Timeouts.aws_sg(), threads=1, seed=self._seed(eni.id + "/sg")
            )
        return self._trackers[eni.id]

    def nat_stage(self, g: NatGatewayResource) -> NatGateway:
        if g.id not in self._nats:
            cfg = {"threads": 1, **g.config}
            self._nats[g.id] = NatGateway(
                [dotted(a) for a in g.public_ips], [str(g.subnet.vpc.cidr)], seed=self._seed(g.id), **cfg
            )
        return self._nats[g.id]

    def lb_stage(self, lb: LoadBalancerResource) -> NetworkLoadBalancer:
        if lb.id not in self._lbs:
            cfg = {"threads": 1, **lb.config}
            self._lbs[lb.id] = NetworkLoadBalancer(
                lb.listeners,
                [(f"{dotted(e.private_ip)}:{port}", e.subnet.az) for e, port in lb.targets],
                {s.az: dotted(a) for s, a in zip(lb.subnets, lb.nodes)},
                seed=self._seed(lb.id),
                **cfg,
            )
            for e, port in lb.targets:
                if (e.id, port) in lb.unhealthy:
                    self._lbs[lb.id].set_health(f"{dotted(e.private_ip)}:{port}", healthy=False)
        return self._lbs[lb.id]

    # ---- the graph, recompiled from the configuration at every call ------------------------

    def _node(self, key: tuple[str, str], make: Callable[[], Node]) -> int:
        if key not in self._by_key:
            self._by_key[key] = len(self.nodes)
            self.nodes.append(make())
        return self._by_key[key]

    def compile(self) -> None:
        net = self.net
        self.source = self._node(("source", ""), partial(SourceNode, self, "source"))
        self.internet = self._node(("internet", ""), partial(InternetNode, self, "internet"))
        subnets = list(net.subnets)
        self.subnet_index = {s.id: k for k, s in enumerate(subnets)}
        self.subnets = subnets
        self.zones = sorted({s.az for s in subnets})
        self.subnet_zone = np.array([self.zones.index(s.az) for s in subnets], dtype=np.int64)
        self.acl_out = np.array([self._node(("acl-out", s.id), partial(AclNode, self, s, True)) for s in subnets], dtype=np.int64)
        self.acl_in = np.array([self._node(("acl-in", s.id), partial(AclNode, self, s, False)) for s in subnets], dtype=np.int64)
        # A route node per subnet and associated table: a new association counts on its own.
        self.route = np.array(
            [self._node(("route", f"{s.id}/{s.route_table.id}"), partial(RouteNode, self, s)) for s in subnets],
            dtype=np.int64,
        )
        enis: list[NetworkInterface] = net.interfaces
        self.eni_index = {e.id: k for k, e in enumerate(enis)}
        # A device's ENA nodes: an interface's own, or its trunk's when it is a branch.
        self.ena_out = np.array([self._node(("ena-out", e.carrier.id), partial(EniNode, self, e.carrier, True)) for e in enis],
                                dtype=np.int64)
        self.sg_out = np.array([self._node(("sg-out", e.id), partial(SgNode, self, e, True)) for e in enis], dtype=np.int64)
        self.sg_in = np.array([self._node(("sg-in", e.id), partial(SgNode, self, e, False)) for e in enis], dtype=np.int64)
        self.ena_in = np.array([self._node(("ena-in", e.carrier.id), partial(EniNode, self, e.carrier, False)) for e in enis],
                               dtype=np.int64)
        # Per instance, its interfaces' positions; per node, the nodes it shares a stage with.
        self.instance_enis: dict[str, list[int]] = {}
        for k, e in enumerate(enis):
            self.instance_enis.setdefault(e.instance.id, []).append(k)
        by_stage: dict[str, list[int]] = {}
        for k, node in enumerate(self.nodes):
            if node.shares is not None:
                by_stage.setdefault(node.shares, []).append(k)
        self.together = {k: ids for ids in by_stage.values() if len(ids) > 1 for k in ids}
        self.eni_subnet = np.array([self.subnet_index[e.subnet.id] for e in enis], dtype=np.int64)
        self.eni_private = np.array([e.private_ip for e in enis], dtype=np.uint32)
        # private addresses -> interface
        pairs = sorted((a, k) for k, e in enumerate(enis) for a in e.private_ips)
        self.priv_keys = np.array([a for a, _ in pairs], dtype=np.uint32)
        self.priv_eni = np.array([k for _, k in pairs], dtype=np.int64)
        # load balancers: their nodes (one per zone) and their targets' (address, port)
        lbs = [lb for v in net.vpcs for lb in v.load_balancers]
        self.lb_node = {lb.id: self._node(("nlb", lb.id), partial(NlbNode, self, lb)) for lb in lbs}
        nodes = [(lb, s, a, (lb.public_ips[j] if lb.public_ips else None)) for lb in lbs
                 for j, (s, a) in enumerate(zip(lb.subnets, lb.nodes))]
        self.lbn_private = np.array([a for _, _, a, _ in nodes], dtype=np.uint32)
        self.lbn_subnet = np.array([self.subnet_index[s.id] for _, s, _, _ in nodes], dtype=np.int64)
        self.lbn_node = np.array([self.lb_node[lb.id] for lb, _, _, _ in nodes], dtype=np.int64)
        order = np.argsort(self.lbn_private, kind="stable")
        self.lbn_keys, self.lbn_index = self.lbn_private[order], order.astype(np.int64)
        # load balancer targets (address << 16 | port) -> (load balancer, the target's index in it)
        self.lb_list = lbs
        self.lb_rows = [[j for j, (l2, _, _, _) in enumerate(nodes) if l2 is lb] for lb in lbs]
        rows_t = sorted(((e.private_ip << 16) | port, k, t) for k, lb in enumerate(lbs) for t, (e, port) in enumerate(lb.targets))
        self.lbt_keys = np.array([x for x, _, _ in rows_t], dtype=np.uint64)
        self.lbt_lb = np.array([k for _, k, _ in rows_t], dtype=np.int64)
        self.lbt_target = np.array([t for _, _, t in rows_t], dtype=np.int64)
        # private addresses with a public one, for the internet gateway's 1:1 translation
        pairs = sorted([(e.private_ip, e.public_ip) for e in enis if e.public_ip is not None]
                       + [(a, pub) for _, _, a, pub in nodes if pub is not None])
        self.eip_priv_keys = np.array([a for a, _ in pairs], dtype=np.uint32)
        self.eip_public = np.array([b for _, b in pairs], dtype=np.uint32)
        self.eip_index = np.arange(len(pairs), dtype=np.int64)
        # NAT gateways and internet gateways
        nats = [g for g in net.nat_gateways if not g.deleted]
        self.nat = {g.id: self._node(("nat", g.id), partial(NatNode, self, g)) for g in nats}
        self.nat_by_index = np.array([self.nat[g.id] for g in nats], dtype=np.int64)
        self.nat_subnet = np.array([self.subnet_index[g.subnet.id] for g in nats], dtype=np.int64)
        self.igw: dict[str, int] = {}
        vpc_igw = []
        for v in net.vpcs:
            gw = v.internet_gateway
            if gw is not None:
                self.igw[gw.id] = self._node(("igw", gw.id), partial(IgwNode, self, gw))
            vpc_igw.append(self.igw[gw.id] if gw is not None else -1)
        self.vpc_igw = np.array(vpc_igw + [-1], dtype=np.int64)
        # public addresses -> (kind 0: interface, 1: NAT gateway; owner index; VPC index)
        vpc_index = {v.id: k for k, v in enumerate(net.vpcs)}
        rows = [(e.public_ip, 0, k, vpc_index[e.subnet.vpc.id]) for k, e in enumerate(enis) if e.public_ip is not None]
        rows += [(a, 1, k, vpc_index[g.subnet.vpc.id]) for k, g in enumerate(nats) for a in g.public_ips]
        rows += [(pub, 2, k, vpc_index[lb.vpc.id]) for k, (lb, _, _, pub) in enumerate(nodes) if pub is not None]
        rows.sort()
        self.pub_keys = np.array([x[0] for x in rows], dtype=np.uint32)
        self.pub_kind = np.array([x[1] for x in rows], dtype=np.int64)
        self.pub_owner = np.array([x[2] for x in rows], dtype=np.int64)
        self.pub_vpc = np.array([x[3] for x in rows], dtype=np.int64)
        self.tables = self._tables(nats, nodes)
        self.routes = [self._routes(s) for s in subnets]
        # security groups: each interface's rules, with referenced groups as member addresses
        members: dict[str, list[int]] = {}
        for e in enis:
            for g in e.security_groups:
                members.setdefault(g.id, []).extend(e.private_ips)
        member_arrays = {k: np.unique(np.array(a, dtype=np.uint32)) for k, a in members.items()}
        empty = np.zeros(0, dtype=np.uint32)

        def compiled(rules: list[Any]) -> list[SgMatch]:
            return [SgMatch(x.match, None if x.group is None else member_arrays.get(x.group.id, empty)) for x in rules]

        self.sg_ingress = [compiled([x for g in e.security_groups for x in g.ingress]) for e in enis]
        self.sg_egress = [compiled([x for g in e.security_groups for x in g.egress]) for e in enis]

    def _tables(self, nats: list[NatGatewayResource], lb_nodes: list[Any]) -> _core.PathTables:
        """The address tables the core's address nodes read (csrc/topology/path_nodes.hpp), each
        address resolved to the nodes and subnet it leads to."""
        t = _core.PathTables()
        pe = self.priv_eni
        t.priv = _addresses(self.priv_keys, start=self.ena_out[pe], next=self.acl_in[self.eni_subnet[pe]],
                            then=self.sg_in[pe], subnet=self.eni_subnet[pe])
        n = self.lbn_index
        t.lb_nodes = _addresses(self.lbn_keys, next=self.acl_in[self.lbn_subnet[n]], then=self.lbn_node[n],
                                subnet=self.lbn_subnet[n])
        t.lb_node_next = self.acl_in[self.lbn_subnet].tolist()
        t.lb_node_then = self.lbn_node.tolist()
        t.lb_node_subnet = self.lbn_subnet.tolist()
        # public addresses: kind 0 an interface's, 1 a NAT gateway's, 2 a load balancer node's
        owners = (
            (self.eni_private.astype(np.int64), self.sg_in, self.eni_subnet),
            (np.full(len(nats), -1, dtype=np.int64), self.nat_by_index, self.nat_subnet),
            (self.lbn_private.astype(np.int64), self.lbn_node, self.lbn_subnet),
        )
        rewrite, then, acl = (np.zeros(len(self.pub_keys), dtype=np.int64) for _ in range(3))
        for kind, (private, node, subnet) in enumerate(owners):
            m = self.pub_kind == kind
            o = self.pub_owner[m]
            rewrite[m], then[m], acl[m] = private[o], node[o], self.acl_in[subnet[o]]
        t.pub = _addresses(self.pub_keys, next=acl, then=then, rewrite=rewrite, nat=(self.pub_kind == 1).astype(np.uint8),
                           gateway=self.vpc_igw[self.pub_vpc])
        t.eip = _addresses(self.eip_priv_keys, rewrite=self.eip_public.astype(np.int64))
        t.vpc_base = [v.cidr.base for v in self.net.vpcs]
        t.vpc_mask = [v.cidr.mask for v in self.net.vpcs]
        t.subnet_zone = self.subnet_zone.tolist()
        t.internet = self.internet
        t.max_lookups = MAX_ROUTE_LOOKUPS
        t.drop_not_routed, t.drop_unreachable = Verdict.DROP_NOT_ROUTED, Verdict.DROP_UNREACHABLE
        t.drop_no_public_ip, t.drop_loop, t.drop_no_route = Verdict.DROP_NO_PUBLIC_IP, Verdict.DROP_LOOP, Verdict.DROP_NO_ROUTE
        return t

    def _routes(self, s: Any) -> list[_core.PathRoute]:
        """A subnet's route table for the core, most specific route first, each target resolved."""
        out = []
        for route in sorted(s.route_table.routes, key=lambda x: -x.cidr.prefix):
            r = _core.PathRoute()
            r.base, r.mask, r.verdict = route.cidr.base, route.cidr.mask, Verdict.FORWARD
            t = route.target
            if t == "local":
                r.local = True
            elif isinstance(t, InternetGateway):
                r.next = self.igw[t.id]
            elif isinstance(t, NetworkInterface):  # an appliance (a firewall, a NAT instance): delivered to it
                ei = self.eni_index[t.id]
                r.next, r.then, r.subnet = int(self.acl_in[self.eni_subnet[ei]]), int(self.sg_in[ei]), int(self.eni_subnet[ei])
            elif isinstance(t, NatGatewayResource) and not t.deleted:
                sub = self.subnet_index[t.subnet.id]
                r.next, r.then, r.subnet = int(self.acl_in[sub]), self.nat[t.id], sub
            else:
                r.verdict = Verdict.DROP_BLACKHOLE
            out.append(r)
        return out

    # ---- running a batch ---------------------------------------------------------------------

    def process(self, batch: Batch, out: Batch | None = None) -> NetworkResult:
        check_batch(batch)
        if out is not None:
            if not isinstance(out, np.ndarray) or out.dtype != PACKET_DTYPE or out.shape != batch.shape:
                raise TypeError("out must be a PACKET_DTYPE array of the batch's length")
            if not out.flags.writeable or not out.flags.c_contiguous:
                raise ValueError("out must be writable and C-contiguous")
        self.compile()
        r = Run(batch, out, len(self.lbt_keys) > 0)
        # Per node, the parts pending there, each with whether it is known to be in time order (what
        # a node that delays nothing hands on keeps the order it was taken in).
        pending: list[list[tuple[I64, bool]]] = [[] for _ in self.nodes]
        head = np.full(len(self.nodes), np.iinfo(np.uint64).max, dtype=np.uint64)
        ranks = np.array([n.rank for n in self.nodes], dtype=np.uint64)
        if len(batch):
            pending[self.source].append((np.arange(len(batch), dtype=np.int64), True))
            head[self.source] = r.ts[0]
        owner = np.empty(len(batch) if self.together else 0, dtype=np.int64)
        idle = np.iinfo(np.uint64).max
        while any(pending):
            # The node whose earliest pending packet is earliest goes next (ties: by rank), with the
            # nodes it shares a stage with. A node that waits (see Node.waits) does not while nodes
            # of a lower rank have packets that may still reach it.
            nid = int(np.lexsort((ranks, head))[0])
            if self.nodes[nid].waits:
                earlier = (head != idle) & (ranks < ranks[nid])
                if earlier.any():
                    nid = int(np.lexsort((ranks, np.where(earlier, head, idle)))[0])
            members = self.together.get(nid, [nid])
            parts = []
            for m in members:
                if len(members) > 1:
                    for x, _ in pending[m]:
                        owner[x] = m
                parts += pending[m]
                pending[m] = []
                head[m] = np.iinfo(np.uint64).max
            if len(parts) == 1 and parts[0][1]:
                idx = parts[0][0]
            else:  # in time order, ties in the order they came: one pass in the core (a part in order is itself)
                idx = _core.path_order([x for x, _ in parts], [o for _, o in parts], r.ts)
            node = self.nodes[nid]
            if self.record is not None:
                self.record.append((node, _core.path_gather(r.pk, idx)))
            v, nxt = node.run(r, idx)
            if len(members) == 1:
                self._hand_on(r, nid, idx, v, nxt, pending, head)
                continue
            at = owner[idx]
            for m in members:  # each packet counts at its own node
                sel = np.flatnonzero(at == m)
                if len(sel):
                    mine = nxt if isinstance(nxt, int | Then) else nxt[sel]
                    self._hand_on(r, m, idx[sel], v[sel], mine, pending, head)
        return NetworkResult(r.pk, r.verdict, r.hop, r.delay)

    def _hand_on(self, r: Run, nid: int, idx: I64, v: V, nxt: Next, pending: list[list[tuple[I64, bool]]],
                 head: npt.NDArray[np.uint64]) -> None:
        """After node ``nid`` decided ``idx``: the done get their verdict and hop, the others wait at
        their next nodes."""
        node = self.nodes[nid]
        ordered = not node.delays
        if isinstance(nxt, int) and nxt >= 0 and not v.any():  # the common case: all go on to one node
            node.counts[0] += np.uint64(len(idx))
            pending[nxt].append((idx, ordered))
            head[nxt] = min(head[nxt], r.ts[idx[0]] if ordered else r.ts[idx].min())
            return
        grouped, targets, starts, heads = _core.path_dispatch(
            idx, v, r.then if isinstance(nxt, Then) else nxt, isinstance(nxt, Then), nid, len(self.nodes), r.ts, ordered,
            r.verdict, r.hop, node.counts
        )
        for k, t in enumerate(targets.tolist()):
            pending[t].append((grouped[starts[k]:starts[k + 1]], ordered))
            head[t] = min(head[t], heads[k])

    # ---- what the runs leave behind ----------------------------------------------------------

    def hop_names(self) -> list[str]:
        if not self.nodes:
            self.compile()
        return [n.name for n in self.nodes]

    def counters(self) -> dict[str, dict[str, int]]:
        if not self.nodes:
            self.compile()
        return {n.name: packet_counters([int(c) for c in n.counts]) for n in self.nodes}

    def count_cross_az(self, me: int, packets: npt.NDArray[np.uint64], octets: npt.NDArray[np.uint64]) -> None:
        """Add the packets and bytes routed from subnet ``me`` into each other zone (by zone index)."""
        for z in np.flatnonzero(packets).tolist():
            row = self._cross.setdefault((self.zones[self.subnet_zone[me]], self.zones[z]), [0, 0])
            row[0] += int(packets[z])
            row[1] += int(octets[z])

    def cross_az(self) -> dict[tuple[str, str], dict[str, int]]:
        return {k: {"packets": p, "bytes": b} for k, (p, b) in sorted(self._cross.items())}

    def interface_counters(self, eni: NetworkInterface) -> dict[str, int]:
        out = dict.fromkeys(COUNTERS, 0)
        for way in ("out", "in", "elsewhere"):
            iface = self._interfaces.get(f"{eni.instance.id}/{way}")
            if iface is not None:
                for name, n in iface.counters.items():
                    out[name] += n
        ct = self._trackers.get(eni.id)
        if ct is not None:
            c = ct.counters
            out["conntrack_allowance_exceeded"] = c["table_full"]
            out["conntrack_allowance_available"] = c["capacity"] - c["live"]
        else:
            out["conntrack_allowance_available"] = eni.instance.instance_type.conntrack
        return out
