"""The nodes of the packet path: one class per kind of hop, and the per-packet state they share.

A node's ``run(run, idx)`` takes the packets ``idx`` (in order of ``ts``), decides for each one a
verdict (FORWARD to go on) and the node it goes to next (-1: it has arrived), and may rewrite the
packets or note where they go after a network ACL. It makes one call into the engine or a few
whole-array numpy operations; the scheduler (``path.py``) does the rest. See docs/network.md for
the hop order and what each hop does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.ena.interface import LINK_LOCAL
from hyperplane.packets import Batch, PacketFlag
from hyperplane.topology.addresses import Cidr
from hyperplane.topology.resources import (
    InternetGateway,
    LoadBalancerResource,
    NatGatewayResource,
    NetworkInterface,
    Subnet,
    Vpc,
)
from hyperplane.topology.rules import ALLOW_ALL, acl_decide, first_match, untracked
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.topology.path import Runtime

V = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
NV = len(Verdict)
FWD, PENDING = np.uint8(Verdict.FORWARD), np.uint8(255)
MAX_ROUTE_LOOKUPS = 4
"""The longest path the model has looks a route up three times (instance → NAT gateway → internet
gateway, or back); a packet looked up more often is in a loop (``DROP_LOOP``)."""

class Then:
    """A node's next nodes as each packet's own ``Run.then`` (what the hop that routed it there set)."""


THEN = Then()
Next = I64 | int | Then
"""Where a node's packets go: a node per packet, one node for all (-1: arrived), or ``THEN``."""

RANKS = ("source", "ena-out", "sg-out", "acl-out", "route", "nat", "nlb", "igw", "internet", "acl-in", "sg-in", "ena-in")


class Run:
    """One call's packets and their per-packet state."""

    def __init__(self, batch: Batch, out: Batch | None, load_balancers: bool) -> None:
        n = len(batch)
        if out is None:
            self.pk = batch.copy()
        else:
            if out is not batch:
                out[...] = batch
            self.pk = out
        self.ts = self.pk["ts"].copy()
        """Each packet's ``ts``, kept contiguous beside the packets for the scheduler."""
        self.verdict = np.full(n, PENDING, dtype=np.uint8)
        self.hop = np.full(n, -1, dtype=np.int32)
        self.delay = np.zeros(n, dtype=np.uint64)
        self.then = np.empty(n, dtype=np.int64)
        """Where a packet goes after the ACL in it is routed to: written by the hop that routes it
        there (a route table, an internet gateway) before the ACL reads it."""
        self.from_subnet = np.empty(n, dtype=np.int64)
        """The subnet a packet was routed from (-1: from the internet), written as ``then`` is."""
        self.lookups = np.zeros(n, dtype=np.uint8)
        self.leaving = np.zeros(n, dtype=np.bool_)
        self.entering = np.zeros(n, dtype=np.bool_)
        self.via = np.full(n if load_balancers else 0, -1, dtype=np.int64)
        """A target's reply to a load balancer flow: the row of the node the flow came through (an
        empty array in a network without load balancers)."""
        self.lb_port = np.zeros(n if load_balancers else 0, dtype=np.uint16)
        """... and the listener's port it came to."""
        self.cached: tuple[I64, Batch] | None = None
        """A node's packets as it hands them all to one next node, with their indices (see gather)."""

    def state(self) -> tuple[Batch, I64, I64, npt.NDArray[np.uint8], npt.NDArray[np.bool_], npt.NDArray[np.bool_], I64]:
        """The arrays the core's address nodes read and write (csrc/topology/path_nodes.hpp)."""
        return self.pk, self.then, self.from_subnet, self.lookups, self.leaving, self.entering, self.via


def gather(r: Run, idx: I64) -> Batch:
    """The packets ``idx`` as a contiguous batch (one pass in the core), or the batch a node before
    left in ``Run.cached`` with these very indices: a packet is pending at one node only, and the
    nodes between handed the same indices on whole without writing the packets (a node that writes
    them keeps the batch as they are, or drops it)."""
    if r.cached is not None and r.cached[0] is idx:
        return r.cached[1]
    out: Batch = _core.path_gather(r.pk, idx)
    r.cached = (idx, out)
    return out


def scatter(r: Run, idx: I64, batch: Batch) -> None:
    """Write ``batch`` back over the packets ``idx``."""
    _core.path_scatter(r.pk, idx, batch)


class Node(ABC):
    """A hop: ``run(run, idx)`` gives each packet of ``idx`` a verdict (FORWARD to go on) and the
    node it goes to next (-1: it has arrived), as an array, an int when the same for all, or ``THEN``."""

    kind = "source"
    delays = False
    """Whether the node moves packets' ``ts`` on (then its output is no longer known to be in order)."""
    shares: str | None = None
    """Nodes that share one stage say so here (the ENA nodes of one instance and direction): the
    scheduler runs them together, their packets in one call in order of time, as the stage must see
    them; each packet still counts at its own node."""
    waits = False
    """Whether the scheduler holds the node while nodes of a lower rank have packets pending, so that
    it takes all its packets in one call, in order of time. Each node takes all its pending packets
    at once, so packets from two branches of the graph (two senders' interfaces, two zones) reach a
    node one branch after the other, each call spanning the same time; a stateful stage would meet
    the second call's packets at its clock, all at once. Safe only for the nodes that end the path
    (no packet goes from them to a lower rank, so holding them never holds up what feeds them)."""

    def __init__(self, rt: Runtime, name: str) -> None:
        self.rt, self.name = rt, name
        self.rank = RANKS.index(self.kind)
        self.counts = np.zeros(NV, dtype=np.uint64)

    @abstractmethod
    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        """Decide for the packets ``idx`` (see the class)."""


def _lookup(keys: npt.NDArray[Any], values: I64, x: npt.NDArray[Any]) -> I64:
    """values[k] where keys[k] == x, else -1 (``keys`` sorted)."""
    if len(keys) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, x), len(keys) - 1)
    return np.where(keys[pos] == x, values[pos], -1)


_LINK_LOCAL = Cidr.parse(LINK_LOCAL[0], "link_local")


def _in(c: Cidr, x: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = (x & np.uint32(c.mask)) == np.uint32(c.base)
    return out


class SourceNode(Node):
    """Where every packet starts: at the interface that holds its source address, or at the
    internet when the source is outside every VPC."""

    kind = "source"

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        v, nxt = _core.path_source(self.rt.tables, idx, *r.state())
        return v, nxt


class EniNode(Node):
    """A device's way through its instance's ENA allowances, one ``hp.ena.Interface`` per direction
    shared by the instance's devices (see ``Runtime.interface``; the scheduler runs an instance's ENA
    nodes of one direction together). A device is an interface, with the branches it carries when it
    is a trunk (``NetworkInterface.carrier``). Packets out to link-local services end here (the card
    answers them)."""

    delays = True

    def __init__(self, rt: Runtime, eni: NetworkInterface, out: bool) -> None:
        self.kind = "ena-out" if out else "ena-in"
        super().__init__(rt, f"{eni.id}/{self.kind}")
        self.eni, self.out = eni, out
        self.shares = f"{eni.instance.id}/{self.kind}"
        self.waits = not out  # the way in ends the path; the way out is fed by the source alone, once

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        iface = self.rt.interface(self.eni, self.out)
        p = gather(r, idx)
        res = iface.process(p)
        v, d = res.verdict, res.delay_ns  # a dropped packet's delay is 0
        if not self.out:
            _core.path_move_on(r.pk, r.ts, r.delay, idx, d, p)
            return v, -1
        rt, vpcs = self.rt, self.rt.net.vpcs
        resolver = Cidr(self.eni.subnet.vpc.resolver, 32)
        where = _core.path_destinations(p, [_LINK_LOCAL.base, resolver.base], [_LINK_LOCAL.mask, resolver.mask],
                                        [v.cidr.base for v in vpcs], [v.cidr.mask for v in vpcs])
        local = where == 1  # to link-local services: the card answers them
        _core.path_move_on(r.pk, r.ts, r.delay, idx, d, p)  # p moves on with them
        scope = rt.scope_allowance(self.eni)
        if scope is not None:
            # Beyond the region (every address outside the network's VPCs): the type's aggregate
            # ceiling for that scope, as a second allowance after the interface's own.
            away = (where == 2) & (v == FWD)
            ts = p["ts"]
            if away.all() and not bool((ts[1:] < ts[:-1]).any()):
                res2 = scope.process(p)
                v = res2.verdict
                if res2.delay_ns.any():
                    _core.path_move_on(r.pk, r.ts, r.delay, idx, res2.delay_ns, p)
            elif away.any():
                pos = np.flatnonzero(away)
                if bool((ts[pos][1:] < ts[pos][:-1]).any()):  # queueing may have reordered them
                    pos = pos[np.argsort(ts[pos], kind="stable")]
                res2 = scope.process(p[pos])
                _core.path_move_on(r.pk, r.ts, r.delay, idx[pos], res2.delay_ns)
                v = v.copy()
                v[pos] = res2.verdict
                r.cached = None  # p no longer holds these packets as they are
        sg = rt.sg_out_of(self.eni, p["src_ip"])  # each packet's own interface's groups
        if not local.any():
            return v, sg
        return v, np.where(local, -1, sg).astype(np.int64)


class SgNode(Node):
    """An interface's security groups, stateful on the engine's ConnTrack (one tracker per
    interface, in both directions, with EC2's security-group timeouts and the type's size)."""

    def __init__(self, rt: Runtime, eni: NetworkInterface, out: bool) -> None:
        self.kind = "sg-out" if out else "sg-in"
        super().__init__(rt, f"{eni.id}/{self.kind}")
        self.eni, self.out = eni, out

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        rt, k = self.rt, self.rt.eni_index[self.eni.id]
        rules, other = (rt.sg_egress[k], rt.sg_ingress[k]) if self.out else (rt.sg_ingress[k], rt.sg_egress[k])
        p = gather(r, idx)
        peer = p["dst_ip"] if self.out else p["src_ip"]
        found, anywhere = first_match(rules, p["proto"], p["dst_port"], peer)
        allowed = found >= 0
        tracked = ~(untracked(other, p["proto"], anywhere) & allowed)
        v = np.full(len(idx), FWD, dtype=np.uint8)
        if tracked.any():
            sub = p if tracked.all() else p[tracked]
            marked = not allowed.all()
            if marked:
                if sub is p:
                    r.cached = None  # p's flags are about to differ from the packets'
                sub["flags"] |= np.where(allowed[tracked], 0, int(PacketFlag.TRACKED_ONLY)).astype(np.uint8)
            cv = rt.tracker(self.eni).process(sub).verdict
            if sub is p and not marked and not cv.any():  # all allowed and tracked, all forwarded
                return self._next(cv)
            a = allowed[tracked]
            tv = np.where(a, np.where(cv == Verdict.DROP_TABLE_FULL, np.uint8(Verdict.DROP_TABLE_FULL), FWD),
                          np.where(cv == FWD, FWD, np.uint8(Verdict.DROP_SECURITY_GROUP)))
            v[tracked] = tv
        return self._next(v)

    def _next(self, v: V) -> tuple[V, int]:
        """Out: to the subnet's ACL out. In: to the interface's way in."""
        rt = self.rt
        if self.out:
            return v, int(rt.acl_out[rt.subnet_index[self.eni.subnet.id]])
        return v, int(rt.ena_in[rt.eni_index[self.eni.id]])


class AclNode(Node):
    """A subnet's network ACL, stateless, for traffic leaving (out) or entering (in) the subnet;
    traffic that stays inside the subnet does not meet it."""

    def __init__(self, rt: Runtime, subnet: Subnet, out: bool) -> None:
        self.kind = "acl-out" if out else "acl-in"
        super().__init__(rt, f"{subnet.id}/{self.kind}")
        self.subnet, self.out = subnet, out

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        rt, s = self.rt, self.subnet
        acl = s.network_acl
        entries = acl.egress if self.out else acl.ingress
        nxt: Next = int(rt.route[rt.subnet_index[s.id]]) if self.out else THEN
        if entries and entries[0].allow and entries[0].match == ALLOW_ALL:
            return np.zeros(len(idx), dtype=np.uint8), nxt  # its first rule allows everything
        pk = r.pk
        peer = pk["dst_ip"][idx] if self.out else pk["src_ip"][idx]
        stays = _in(s.cidr, peer) if self.out else r.from_subnet[idx] == rt.subnet_index[s.id]
        _, allow = acl_decide(entries, pk["proto"][idx], pk["dst_port"][idx], peer)
        v = np.where(stays | allow, FWD, np.uint8(Verdict.DROP_NETWORK_ACL)).astype(np.uint8)
        return v, nxt


class RouteNode(Node):
    """A subnet's route table: longest prefix match on the destination, then the target's node."""

    kind = "route"

    def __init__(self, rt: Runtime, subnet: Subnet) -> None:
        super().__init__(rt, f"{subnet.id}/{subnet.route_table.id}")
        self.subnet = subnet

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        rt = self.rt
        me = rt.subnet_index[self.subnet.id]
        if len(rt.lbt_keys):
            self._replies(r, idx)
        zp, zb = np.zeros(len(rt.subnets), dtype=np.uint64), np.zeros(len(rt.subnets), dtype=np.uint64)
        v, nxt = _core.path_route(rt.tables, rt.routes[me], me, idx, *r.state(), zp, zb)
        rt.count_cross_az(me, zp, zb)
        return v, nxt

    def _replies(self, r: Run, idx: I64) -> None:
        """Mark (``Run.via``, ``Run.lb_port``) the packets that are a load balancer target's replies
        to a live flow of the load balancer: from the target's address and port to a client whose
        flow, asked of the stage node by node and listener by listener, has that target. Other
        traffic of the target (a client that reached it directly) is routed as any other."""
        rt = self.rt
        key = (r.pk["src_ip"][idx].astype(np.uint64) << np.uint64(16)) | r.pk["src_port"][idx]
        at = _lookup(rt.lbt_keys, np.arange(len(rt.lbt_keys), dtype=np.int64), key)
        cand = np.flatnonzero(at >= 0)
        if not len(cand):
            return
        ci, at = idx[cand], at[cand]
        probe = _core.path_gather(r.pk, ci)  # the flow as the client sent it: client -> node:listener
        probe["src_ip"], probe["src_port"] = probe["dst_ip"].copy(), probe["dst_port"].copy()
        for k in np.unique(rt.lbt_lb[at]).tolist():
            lb = rt.lb_list[k]
            stage = rt._lbs.get(lb.id)
            if stage is None:  # no packet has reached it: it has no flows
                continue
            mine = rt.lbt_lb[at] == k
            target = rt.lbt_target[at]
            for row, node in zip(rt.lb_rows[k], lb.nodes):
                for port, _ in lb.listeners:
                    open_ = mine & (r.via[ci] < 0)
                    if not open_.any():
                        break
                    sub = probe[open_]
                    sub["dst_ip"], sub["dst_port"] = node, port
                    hit = np.flatnonzero(open_)[stage.flow_targets(sub).astype(np.int64) == target[open_]]
                    r.via[ci[hit]], r.lb_port[ci[hit]] = row, port


class NatNode(Node):
    """A NAT gateway: the engine's ``hp.NatGateway``; what leaves it goes out through its subnet."""

    kind = "nat"

    def __init__(self, rt: Runtime, g: NatGatewayResource) -> None:
        super().__init__(rt, g.id)
        self.g = g

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        p = gather(r, idx)
        res = self.rt.nat_stage(self.g).process(p, out=p)  # translated in place, then back
        scatter(r, idx, p)
        nxt = self.rt.acl_out[self.rt.subnet_index[self.g.subnet.id]]
        return res.verdict, int(nxt)  # the dropped end here whatever their next


class NlbNode(Node):
    """A Network Load Balancer: the engine's ``hp.NetworkLoadBalancer`` picks each new flow's target
    and keeps it; the packet goes on through the node's subnet to the target. The stage models the
    client-to-target direction only, so the way back is the topology's: a target's reply (from its
    address and port) is routed to its zone's node, which answers from its own address and the
    listener's port (the first listener's, when there are several), then out through its subnet."""

    kind = "nlb"

    def __init__(self, rt: Runtime, lb: LoadBalancerResource) -> None:
        super().__init__(rt, lb.id)
        self.lb = lb

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        rt = self.rt
        p = gather(r, idx)
        node = _lookup(rt.lbn_keys, rt.lbn_index, p["dst_ip"])
        fwd = node >= 0
        v = np.full(len(idx), FWD, dtype=np.uint8)
        nxt = np.full(len(idx), -1, dtype=np.int64)
        if fwd.any():
            res = rt.lb_stage(self.lb).process(p[fwd] if not fwd.all() else p)
            p[fwd] = res.packets
            v[fwd] = res.verdict
            nxt[fwd] = rt.route[rt.lbn_subnet[node[fwd]]]
        back = ~fwd
        if back.any():  # replies to its flows (RouteNode._replies): from the node and listener the flow came to
            bi = idx[back]
            n = r.via[bi]
            p["src_ip"][back] = rt.lbn_private[n]
            p["src_port"][back] = r.lb_port[bi]
            nxt[back] = rt.acl_out[rt.lbn_subnet[n]]
            r.via[bi] = -1
        scatter(r, idx, p)
        return v, nxt


class IgwNode(Node):
    """An internet gateway: out, a private source becomes its public address (an interface's, or a
    load balancer node's; a NAT gateway's packets are public already); in, a public destination
    becomes the private one (an interface, a load balancer node) or goes to its NAT gateway."""

    kind = "igw"

    def __init__(self, rt: Runtime, igw: InternetGateway) -> None:
        super().__init__(rt, igw.id)
        self.vpc: Vpc = igw.vpc

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        r.cached = None  # it rewrites addresses in the packets themselves
        v, nxt = _core.path_internet_gateway(self.rt.tables, idx, *r.state())
        return v, nxt


class InternetNode(Node):
    """The internet: where packets leaving through an internet gateway arrive, and where packets from
    outside every VPC start, sent to the gateway of the VPC that holds their public destination."""

    kind = "internet"

    def run(self, r: Run, idx: I64) -> tuple[V, Next]:
        v, nxt = _core.path_internet(self.rt.tables, idx, *r.state())
        return v, nxt
