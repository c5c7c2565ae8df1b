"""``Network.explain()``: one tuple's path through the configuration, as AWS's Reachability Analyzer
answers it — the ordered hops, and the first component that blocks (which rule of which security
group or network ACL, which route table has no route), or that the destination is reachable.

It reads the configuration only: connection state, allowances and NAT port exhaustion are the
packet path's business (``Network.process``). It matches the tuple with the same functions the
packet path uses, on arrays of one, so the two cannot disagree about a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hyperplane.topology.addresses import Cidr, address, dotted
from hyperplane.topology.resources import InternetGateway, LoadBalancerResource, NatGatewayResource, NetworkInterface, Subnet
from hyperplane.topology.rules import acl_decide, first_match, longest_prefix, protocol

if TYPE_CHECKING:
    from hyperplane.topology.network import Network
    from hyperplane.topology.path import Runtime


@dataclass
class Explanation:
    """``hops``: (hop name, what happened there) in order; ``blocked_by``: the first blocking
    component and why, or None when the destination is reachable."""

    src: str
    dst: str
    port: int
    proto: int
    hops: list[tuple[str, str]] = field(default_factory=list)
    blocked_by: str | None = None

    @property
    def reachable(self) -> bool:
        return self.blocked_by is None

    def __str__(self) -> str:
        lines = [f"{self.src} -> {self.dst}:{self.port} proto {self.proto}"]
        lines += [f"  {name}: {what}" for name, what in self.hops]
        lines.append("  reachable" if self.reachable else f"  blocked by {self.blocked_by}")
        return "\n".join(lines)


class _Walk:
    def __init__(self, net: Network, rt: Runtime, e: Explanation) -> None:
        self.net, self.rt, self.e = net, rt, e
        self.proto = np.array([e.proto], dtype=np.uint8)
        self.port = np.array([e.port], dtype=np.uint16)
        self.acls: list[tuple[Subnet, bool, int]] = []
        """The network ACLs passed on the way, with the peer address each one matched."""

    def hop(self, name: str, what: str) -> None:
        self.e.hops.append((name, what))

    def block(self, name: str, why: str) -> Explanation:
        self.hop(name, why)
        self.e.blocked_by = f"{name}: {why}"
        return self.e

    def sg(self, eni: NetworkInterface, out: bool, peer: int) -> bool:
        k = self.rt.eni_index[eni.id]
        rules = self.rt.sg_egress[k] if out else self.rt.sg_ingress[k]
        found, _ = first_match(rules, self.proto, self.port, np.array([peer], dtype=np.uint32))
        groups = [g for g in eni.security_groups for _ in (g.egress if out else g.ingress)]
        raw = [x for g in eni.security_groups for x in (g.egress if out else g.ingress)]
        name = f"{eni.id}/{'sg-out' if out else 'sg-in'}"
        if found[0] < 0:
            ids = ", ".join(g.id for g in eni.security_groups)
            self.block(name, f"no {'egress' if out else 'ingress'} rule of {ids} allows it")
            return False
        self.hop(name, f"allowed by {groups[found[0]].id} {'egress' if out else 'ingress'} rule {raw[found[0]]!r}")
        return True

    def acl(self, s: Subnet, out: bool, peer: int) -> bool:
        acl = s.network_acl
        entries = acl.egress if out else acl.ingress
        k, allow = acl_decide(entries, self.proto, self.port, np.array([peer], dtype=np.uint32))
        name = f"{s.id}/{'acl-out' if out else 'acl-in'}"
        rule = "the default rule *" if k[0] < 0 else f"rule {entries[k[0]].number}"
        if not allow[0]:
            self.block(name, f"denied by {rule} of {acl.id}")
            return False
        self.hop(name, f"allowed by {rule} of {acl.id}")
        self.acls.append((s, out, peer))
        return True

    def return_path(self, port: int) -> Explanation:
        """The reply, to ``port``, through the same ACLs the other way: they are stateless, so each
        must allow it on its own (security groups are stateful and let it through)."""
        reply_port = np.array([port], dtype=np.uint16)
        for s, out, peer in reversed(self.acls):
            acl = s.network_acl
            entries = acl.ingress if out else acl.egress
            k, allow = acl_decide(entries, self.proto, reply_port, np.array([peer], dtype=np.uint32))
            name = f"{s.id}/{'acl-in' if out else 'acl-out'}"
            rule = "the default rule *" if k[0] < 0 else f"rule {entries[k[0]].number}"
            if not allow[0]:
                return self.block(name, f"the reply to port {port} is denied by {rule} of {acl.id}")
            self.hop(name, f"the reply to port {port} is allowed by {rule} of {acl.id}")
        return self.e

    def arrive(self, eni: NetworkInterface, src: int, from_subnet: Subnet | None) -> Explanation:
        if from_subnet is not eni.subnet and not self.acl(eni.subnet, False, src):
            return self.e
        if not self.sg(eni, False, src):
            return self.e
        self.hop(f"{eni.carrier.id}/ena-in", f"delivered to {eni.instance.id}")
        return self.e

    def route(self, s: Subnet, src: int, dst: int) -> Explanation:
        if not Cidr(s.cidr.base, s.cidr.prefix).contains(dst) and not self.acl(s, True, dst):
            return self.e
        table = s.route_table
        k = longest_prefix([r.cidr for r in table.routes], np.array([dst], dtype=np.uint32))[0]
        name = f"{s.id}/{table.id}"
        if k < 0:
            return self.block(name, f"{table.id} has no route to {dotted(dst)}")
        r = table.routes[k]
        t = r.target
        if t == "blackhole" or (isinstance(t, NatGatewayResource) and t.deleted):
            return self.block(name, f"route {r.cidr} of {table.id} is a blackhole")
        self.hop(name, f"route {r.cidr} -> {r.target_name}")
        if t == "local":
            eni = self._eni(dst)
            if eni is not None:
                return self.arrive(eni, src, s)
            node = self._lb_node(dst)
            if node is None:
                return self.block(name, f"no interface holds {dotted(dst)}")
            return self.balance(node[0], node[1], src, s)
        if isinstance(t, NetworkInterface):
            return self.arrive(t, src, s)
        if isinstance(t, InternetGateway):
            pub = self._public_of(src)
            if pub is None:
                return self.block(t.id, f"{dotted(src)} has no public IPv4 address")
            self.hop(t.id, f"source {dotted(src)} as {dotted(pub)}")
            self.hop("internet", f"to {dotted(dst)}")
            return self.e
        assert isinstance(t, NatGatewayResource)
        if t.subnet is not s and not self.acl(t.subnet, False, src):
            return self.e
        self.hop(t.id, f"source {dotted(src)} as {dotted(t.public_ips[0])}")
        return self.route(t.subnet, t.public_ips[0], dst)

    def balance(self, lb: LoadBalancerResource, zone: Subnet, src: int, from_subnet: Subnet | None) -> Explanation:
        """Through a load balancer's node in ``zone`` to the first of the zone's targets (the model's
        stand-in for "some target": the choice per flow is the packet path's)."""
        if from_subnet is not zone and not self.acl(zone, False, src):
            return self.e
        if not any(port == self.e.port for port, _ in lb.listeners):
            return self.block(lb.id, f"no listener on port {self.e.port}")
        cross = lb.config.get("cross_zone", False)
        targets = [(e, p) for e, p in lb.targets if cross or e.subnet.az == zone.az]
        if not targets:
            return self.block(lb.id, f"no target in {zone.az}")
        eni, port = targets[0]
        self.hop(lb.id, f"to a target, e.g. {eni.id} port {port} ({len(targets)} in reach)")
        self.port = np.array([port], dtype=np.uint16)
        return self.arrive(eni, src, zone)

    def _lb_node(self, a: int) -> tuple[LoadBalancerResource, Subnet] | None:
        for v in self.net.vpcs:
            for lb in v.load_balancers:
                for s, node, k in zip(lb.subnets, lb.nodes, range(len(lb.nodes))):
                    if a == node or (lb.public_ips and lb.public_ips[k] == a):
                        return lb, s
        return None

    def _eni(self, a: int) -> NetworkInterface | None:
        return next((e for e in self.net.interfaces if a in e.private_ips), None)

    def _public_of(self, a: int) -> int | None:
        for g in self.net.nat_gateways:
            if a in g.public_ips:
                return a
        eni = self._eni(a)
        return None if eni is None or eni.private_ip != a else eni.public_ip


def explain(net: Network, src: str, dst: str, port: int, proto: str | int, return_port: int | None = None) -> Explanation:
    s, d, p = address(src, "src"), address(dst, "dst"), protocol(proto, "proto")
    for what, value in (("port", port), ("return_port", return_port)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535):
            raise ValueError(f"{what} must be in 0..65535, not {value!r}")
    rt = net._path()
    rt.compile()
    e = Explanation(src, dst, port, p)
    w = _Walk(net, rt, e)
    _forward(net, w, s, d, src, dst)
    if e.reachable and return_port is not None:
        w.return_path(return_port)
    return e


def _forward(net: Network, w: _Walk, s: int, d: int, src: str, dst: str) -> Explanation:
    e = w.e
    eni = w._eni(s)
    if eni is not None:
        w.hop(f"{eni.carrier.id}/ena-out", f"from {eni.instance.id}")
        if not w.sg(eni, True, d):
            return e
        return w.route(eni.subnet, s, d)
    if any(v.cidr.contains(s) for v in net.vpcs):
        return w.block("source", f"no interface holds {src}")
    w.hop("internet", f"from {src}")
    for cand in net.interfaces:
        if cand.public_ip == d:
            gw = cand.subnet.vpc.internet_gateway
            if gw is None:
                return w.block("internet", f"{cand.subnet.vpc.id} has no internet gateway")
            w.hop(gw.id, f"destination {dst} as {dotted(cand.private_ip)}")
            return w.arrive(cand, s, None)
    node = w._lb_node(d)
    if node is not None and node[0].public_ips:
        gw = node[0].vpc.internet_gateway
        if gw is None:
            return w.block("internet", f"{node[0].vpc.id} has no internet gateway")
        w.hop(gw.id, f"destination {dst} as {dotted(node[0].nodes[node[0].subnets.index(node[1])])}")
        return w.balance(node[0], node[1], s, None)
    if any(d in g.public_ips for g in net.nat_gateways):
        return w.block("internet", f"{dst} is a NAT gateway's address: it takes only replies to connections from inside")
    return w.block("internet", f"no resource in the network has the public address {dst}")
