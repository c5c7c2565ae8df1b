"""The resources of a VPC network as configuration: what a user builds and AWS's describe JSON
holds. They are plain Python objects that pickle and deep-copy (scenarios travel to worker
processes); the stages that carry packets (ENA interfaces, connection trackers, NAT gateways) are
built from them by the packet path (``path.py``) and are not part of them.

Every check that AWS makes when a resource is created is made here, with a ``ValueError`` naming
the resource and the argument: a subnet outside its VPC or overlapping another, an address
outside its subnet or among the five AWS reserves, more interfaces or addresses than the
instance type takes, a route to a gateway of another VPC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from hyperplane.ena.catalog import InstanceType
from hyperplane.ena.catalog import instance_type as _lookup
from hyperplane.topology.addresses import ANYWHERE, Cidr, address, dotted
from hyperplane.topology.rules import AclEntry, Match, port_range, protocol

if TYPE_CHECKING:
    from hyperplane.topology.network import Network

RESERVED_LOW = 4
"""AWS: "The first four IP addresses and the last IP address in each subnet CIDR block are not
available for you to use, and cannot be assigned to an instance" (VPC User Guide, subnet CIDR blocks)."""
VPC_PREFIXES = (16, 28)
"""AWS's VPC and subnet IPv4 blocks range from /16 (65,536 addresses) to /28 (16) (VPC User Guide,
VPC CIDR blocks; paraphrased)."""
ACL_NUMBERS = (1, 32766)
"""AWS: network ACL rule numbers run from 1 to 32766."""


def _prefix_ok(c: Cidr, what: str) -> None:
    lo, hi = VPC_PREFIXES
    if not lo <= c.prefix <= hi:
        raise ValueError(f"{what}: {c} — AWS allows block sizes from /{lo} to /{hi}")


class Vpc:
    """A VPC: an IPv4 CIDR, its subnets, security groups, network ACLs and at most one internet gateway."""

    def __init__(self, network: Network, vpc_id: str, cidr: Cidr) -> None:
        self.network = network
        self.id = vpc_id
        self.cidr = cidr
        self.subnets: list[Subnet] = []
        self.security_groups: list[SecurityGroup] = []
        self.internet_gateway: InternetGateway | None = None
        self.load_balancers: list[LoadBalancerResource] = []
        self.default_network_acl = NetworkAcl(self, network._new_id("acl"), default=True)
        self.network_acls: list[NetworkAcl] = [self.default_network_acl]
        self.default_security_group = SecurityGroup(self, network._new_id("sg"), "default", ingress=(), self_ingress=True)
        self.security_groups.append(self.default_security_group)

    @property
    def resolver(self) -> int:
        """The Amazon DNS server: "the base of the VPC network range plus two"."""
        return self.cidr.base + 2

    def add_subnet(
        self, cidr: str, az: str, *, route_table: RouteTable | None = None, network_acl: NetworkAcl | None = None
    ) -> Subnet:
        """A subnet in availability zone ``az`` of the network's region, inside the VPC's CIDR and
        overlapping no other subnet. It gets its own route table (with the local route) unless
        ``route_table`` is given, and the VPC's default network ACL unless ``network_acl`` is."""
        c = Cidr.parse(cidr, "cidr")
        where = f"subnet {c} of {self.id}"
        _prefix_ok(c, where)
        if not self.cidr.covers(c):
            raise ValueError(f"{where}: the subnet is outside its VPC's CIDR {self.cidr}")
        for other in self.subnets:
            if other.cidr.overlaps(c):
                raise ValueError(f"{where}: overlaps {other.id} ({other.cidr})")
        self.network._check_az(az, where)
        for what, res in (("route_table", route_table), ("network_acl", network_acl)):
            if res is not None and res.vpc is not self:
                raise ValueError(f"{where}: {what} {res.id} belongs to {res.vpc.id}, not {self.id}")
        s = Subnet(
            self,
            self.network._new_id("subnet"),
            c,
            az,
            route_table or self.add_route_table(),
            network_acl or self.default_network_acl,
        )
        self.subnets.append(s)
        return s

    def add_route_table(self) -> RouteTable:
        """A route table with the local route for the VPC's CIDR, to associate with subnets."""
        return RouteTable(self, self.network._new_id("rtb"))

    def add_internet_gateway(self) -> InternetGateway:
        """The VPC's internet gateway (AWS: a VPC has at most one attached)."""
        if self.internet_gateway is not None:
            raise ValueError(f"{self.id}: already has {self.internet_gateway.id}; a VPC has at most one internet gateway")
        self.internet_gateway = InternetGateway(self, self.network._new_id("igw"))
        return self.internet_gateway

    def add_security_group(
        self,
        name: str,
        ingress: Iterable[RuleSpec] = (),
        egress: Iterable[RuleSpec] | None = None,
    ) -> SecurityGroup:
        """A security group. As AWS creates one, it has no inbound rules and one outbound rule that
        allows all outbound traffic (EC2 User Guide, security group rules; paraphrased); ``egress=[]``
        starts it with none. A rule is ``(protocol, ports, peer)``:
        ``("tcp", 443, "0.0.0.0/0")``, ``("udp", (1024, 65535), "10.0.0.0/16")``, ``("all", None, other_group)``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"security group name must be a non-empty string, not {name!r}")
        if any(g.name == name for g in self.security_groups):
            raise ValueError(f"security group {name!r}: {self.id} already has a group of that name")
        g = SecurityGroup(self, self.network._new_id("sg"), name, ingress=ingress, egress=egress)
        self.security_groups.append(g)
        return g

    def add_network_load_balancer(
        self,
        name: str,
        subnets: Sequence[Subnet],
        listeners: Sequence[tuple[int, str]],
        targets: Sequence[tuple[Instance | NetworkInterface, int]],
        *,
        public_ips: Sequence[str] | None = None,
        **config: Any,
    ) -> LoadBalancerResource:
        """A Network Load Balancer with a node in each of ``subnets`` (one per zone), the engine's
        ``hp.NetworkLoadBalancer`` inside (``config``: its keyword arguments, ``cross_zone=``, ...).
        ``targets`` are instances (their primary interface) or interfaces, with a port; a target's
        zone is its subnet's. ``public_ips`` (one per subnet) makes it internet-facing."""
        lb = LoadBalancerResource(self, self.network._new_id("nlb"), name, subnets, listeners, targets, public_ips, config)
        self.load_balancers.append(lb)
        return lb

    def add_network_acl(self) -> NetworkAcl:
        """A custom network ACL: only the default rule ``*`` until rules are added, so it denies
        everything (VPC User Guide, custom network ACLs; paraphrased)."""
        acl = NetworkAcl(self, self.network._new_id("acl"), default=False)
        self.network_acls.append(acl)
        return acl

    def __repr__(self) -> str:
        return f"Vpc({self.id}, {self.cidr}, subnets={len(self.subnets)})"


class Subnet:
    """A subnet: one availability zone, a route table, a network ACL; it hands out private addresses."""

    def __init__(self, vpc: Vpc, subnet_id: str, cidr: Cidr, az: str, route_table: RouteTable, acl: NetworkAcl) -> None:
        self.vpc, self.id, self.cidr, self.az = vpc, subnet_id, cidr, az
        self.route_table = route_table
        self.network_acl = acl
        self.used: set[int] = set()
        self._next = cidr.base + RESERVED_LOW
        self.nat_gateways: list[NatGatewayResource] = []
        self.instances: list[Instance] = []

    def associate_network_acl(self, acl: NetworkAcl) -> None:
        if acl.vpc is not self.vpc:
            raise ValueError(f"{self.id}: network ACL {acl.id} belongs to {acl.vpc.id}, not {self.vpc.id}")
        self.network_acl = acl

    def associate_route_table(self, table: RouteTable) -> None:
        if table.vpc is not self.vpc:
            raise ValueError(f"{self.id}: route table {table.id} belongs to {table.vpc.id}, not {self.vpc.id}")
        self.route_table = table

    def allocate(self, requested: str | None, what: str) -> int:
        """A free private address: ``requested`` (checked), or the lowest one AWS lets you use."""
        if requested is not None:
            a = address(requested, what)
            if not self.cidr.contains(a):
                raise ValueError(f"{what}: {requested} is outside {self.id} ({self.cidr})")
            if a - self.cidr.base < RESERVED_LOW or a == self.cidr.last:
                raise ValueError(f"{what}: {requested} is reserved by AWS in {self.id} (the first four and the last address)")
            if a in self.used:
                raise ValueError(f"{what}: {requested} is already in use in {self.id}")
        else:
            while self._next in self.used:
                self._next += 1
            if self._next >= self.cidr.last:
                raise ValueError(f"{what}: {self.id} ({self.cidr}) has no free address left")
            a = self._next
        self.used.add(a)
        return a

    def release(self, a: int) -> None:
        """Give an address back (its interface was detached); AWS may hand it out again."""
        self.used.discard(a)
        self._next = min(self._next, a)

    def remove_instance(self, instance: Instance) -> None:
        """Terminate ``instance``: its interfaces are detached and their addresses released."""
        if instance not in self.instances:
            raise ValueError(f"{instance.id} is not in {self.id}")
        for eni in list(reversed(instance.network_interfaces)):
            instance.detach_network_interface(eni, primary=True)
        self.instances.remove(instance)

    def add_nat_gateway(self, public_ips: Sequence[str], *, private_ip: str | None = None, **config: Any) -> NatGatewayResource:
        """A public NAT gateway in this subnet with the engine's ``hp.NatGateway`` inside, configured
        by ``config`` as that stage is (``capacity``, ``idle_timeout``, ``max_pps``, ...)."""
        g = NatGatewayResource(self, self.vpc.network._new_id("nat"), public_ips, private_ip, config)
        self.nat_gateways.append(g)
        return g

    def add_instance(
        self,
        instance_type: str | InstanceType,
        *,
        security_groups: Sequence[SecurityGroup] | None = None,
        private_ip: str | None = None,
        public_ip: str | None = None,
        placement_group: PlacementGroup | None = None,
    ) -> Instance:
        """An instance of a catalog type with its primary network interface in this subnet
        (``security_groups`` default: the VPC's default group). ``public_ip`` is its public IPv4 or
        Elastic IP address; without one it cannot be reached from the internet."""
        t = instance_type if isinstance(instance_type, InstanceType) else _lookup(instance_type)
        net = self.vpc.network
        inst = Instance(net._new_id("i"), t, self, placement_group)
        if placement_group is not None and placement_group.network is not net:
            raise ValueError(f"{inst.id}: placement group {placement_group.name!r} belongs to another network")
        inst.add_network_interface(subnet=self, security_groups=security_groups, private_ip=private_ip, public_ip=public_ip)
        self.instances.append(inst)
        return inst

    def __repr__(self) -> str:
        return f"Subnet({self.id}, {self.cidr}, az={self.az!r})"


class InternetGateway:
    """An internet gateway: the route target to the internet, and the 1:1 translation between each
    interface's private address and its public one. AWS: it serves "to provide a target in your VPC
    route tables for Internet-routable traffic, and to perform network address translation (NAT)
    for instances that have been assigned public IPv4 addresses"."""

    def __init__(self, vpc: Vpc, igw_id: str) -> None:
        self.vpc, self.id = vpc, igw_id

    def __repr__(self) -> str:
        return f"InternetGateway({self.id}, {self.vpc.id})"


class NatGatewayResource:
    """A public NAT gateway: a subnet, a private address, public addresses and the engine's stage
    configuration (``hp.NatGateway`` keyword arguments). The stage is built by the packet path."""

    def __init__(
        self, subnet: Subnet, nat_id: str, public_ips: Sequence[str], private_ip: str | None, config: dict[str, Any]
    ) -> None:
        self.subnet, self.id = subnet, nat_id
        if isinstance(public_ips, str) or not public_ips:
            raise ValueError(f"{nat_id}: public_ips must be a list of addresses")
        net = subnet.vpc.network
        self.public_ips = [net._claim_public(a, f"{nat_id}: public_ips") for a in public_ips]
        self.private_ip = subnet.allocate(private_ip, f"{nat_id}: private_ip")
        reserved = {"public_ips", "private_cidrs", "seed"}
        bad = sorted(reserved & set(config))
        if bad:
            raise ValueError(f"{nat_id}: {', '.join(bad)} come from the topology, not from the stage's configuration")
        self.config = dict(config)
        self.deleted = False

    def delete(self) -> None:
        """Delete the gateway: routes that target it become blackholes (AWS shows them as
        ``blackhole`` in the route table), and its connections are gone."""
        self.deleted = True

    def __repr__(self) -> str:
        return f"NatGatewayResource({self.id}, {self.subnet.id}, public_ips={[dotted(a) for a in self.public_ips]})"


class LoadBalancerResource:
    """A Network Load Balancer: a node address per zone (private, and public when internet-facing),
    listeners, targets, and the engine's stage configuration. The stage is built by the packet path."""

    def __init__(
        self,
        vpc: Vpc,
        lb_id: str,
        name: str,
        subnets: Sequence[Subnet],
        listeners: Sequence[tuple[int, str]],
        targets: Sequence[tuple[Instance | NetworkInterface, int]],
        public_ips: Sequence[str] | None,
        config: dict[str, Any],
    ) -> None:
        self.vpc, self.id, self.name = vpc, lb_id, name
        if not subnets:
            raise ValueError(f"{lb_id}: subnets must list at least one subnet")
        zones = [s.az for s in subnets]
        if len(set(zones)) != len(zones):
            raise ValueError(f"{lb_id}: subnets must be in different zones (one node per zone), not {zones}")
        for s in subnets:
            if s.vpc is not vpc:
                raise ValueError(f"{lb_id}: subnet {s.id} belongs to {s.vpc.id}, not {vpc.id}")
        if public_ips is not None and len(public_ips) != len(subnets):
            raise ValueError(f"{lb_id}: public_ips must give one address per subnet ({len(subnets)}), not {len(public_ips)}")
        bad = sorted({"listeners", "targets", "zones", "seed"} & set(config))
        if bad:
            raise ValueError(f"{lb_id}: {', '.join(bad)} come from the topology, not from the stage's configuration")
        self.subnets = list(subnets)
        self.listeners = list(listeners)
        self.nodes = [s.allocate(None, f"{lb_id}: node in {s.id}") for s in subnets]
        net = vpc.network
        self.public_ips = [net._claim_public(a, f"{lb_id}: public_ips") for a in public_ips] if public_ips else []
        self.targets: list[tuple[NetworkInterface, int]] = []
        for t, port in targets:
            eni = t.primary_interface if isinstance(t, Instance) else t
            if not isinstance(eni, NetworkInterface):
                raise TypeError(f"{lb_id}: a target is an Instance or a NetworkInterface with a port, not {t!r}")
            if eni.subnet.vpc is not vpc:
                raise ValueError(f"{lb_id}: target {eni.id} is in {eni.subnet.vpc.id}, not {vpc.id}")
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                raise ValueError(f"{lb_id}: target port must be in 1..65535, not {port!r}")
            self.targets.append((eni, port))
        self.unhealthy: set[tuple[str, int]] = set()
        """Targets, as (interface id, port), whose health checks fail when the stage starts."""
        self.config = dict(config)

    def _stage(self) -> Any:
        rt = self.vpc.network._runtime
        return None if rt is None else rt._lbs.get(self.id)

    def register_target(self, target: Instance | NetworkInterface, port: int) -> NetworkInterface:
        """Register one more target (an ECS service registering a task); a running stage takes
        new flows to it from its next batch."""
        eni = target.primary_interface if isinstance(target, Instance) else target
        if not isinstance(eni, NetworkInterface):
            raise TypeError(f"{self.id}: a target is an Instance or a NetworkInterface with a port, not {target!r}")
        if eni.subnet.vpc is not self.vpc:
            raise ValueError(f"{self.id}: target {eni.id} is in {eni.subnet.vpc.id}, not {self.vpc.id}")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{self.id}: target port must be in 1..65535, not {port!r}")
        if (eni, port) in self.targets:
            raise ValueError(f"{self.id}: {eni.id}:{port} is already a target")
        self.targets.append((eni, port))
        stage = self._stage()
        if stage is not None:
            stage.register(f"{dotted(eni.private_ip)}:{port}", eni.subnet.az)
        return eni

    def deregister_target(self, target: Instance | NetworkInterface, port: int, *, at_ns: int = 0) -> None:
        """Deregister a target: it leaves ``targets``, and a running stage drains it from packet
        time ``at_ns`` (no new flows; existing ones continue for the deregistration delay)."""
        eni = target.primary_interface if isinstance(target, Instance) else target
        if (eni, port) not in self.targets:
            raise ValueError(f"{self.id}: {getattr(eni, 'id', eni)}:{port} is not a target")
        self.targets.remove((eni, port))
        stage = self._stage()
        if stage is not None:
            stage.deregister(f"{dotted(eni.private_ip)}:{port}", at_ns)

    def __repr__(self) -> str:
        return f"LoadBalancerResource({self.id}, {self.name!r}, nodes={[dotted(a) for a in self.nodes]})"


RuleSpec = tuple[object, object, "str | SecurityGroup"]


class SgRule:
    """One security-group rule: protocol, ports, and a CIDR or a referenced group."""

    def __init__(self, spec: RuleSpec, what: str) -> None:
        if not isinstance(spec, tuple) or len(spec) != 3:
            raise TypeError(f"{what}: a rule is (protocol, ports, cidr or group), not {spec!r}")
        proto, ports, peer = spec
        self.proto = protocol(proto, f"{what} protocol")
        self.lo, self.hi = port_range(ports, f"{what} ports")
        self.group: SecurityGroup | None = None
        self.cidr = ANYWHERE
        if isinstance(peer, SecurityGroup):
            self.group = peer
        else:
            self.cidr = Cidr.parse(peer, f"{what} cidr")

    @property
    def match(self) -> Match:
        return Match(self.proto, self.lo, self.hi, self.cidr)

    def key(self) -> tuple[int, int, int, str]:
        return (self.proto, self.lo, self.hi, self.group.id if self.group else str(self.cidr))

    def __repr__(self) -> str:
        peer = self.group.id if self.group else str(self.cidr)
        return f"({self.proto}, {self.lo}-{self.hi}, {peer})"


class SecurityGroup:
    """A stateful security group: allow rules in (ingress) and out (egress)."""

    def __init__(
        self,
        vpc: Vpc,
        sg_id: str,
        name: str,
        *,
        ingress: Iterable[RuleSpec] = (),
        egress: Iterable[RuleSpec] | None = None,
        self_ingress: bool = False,
    ) -> None:
        self.vpc, self.id, self.name = vpc, sg_id, name
        self.ingress: list[SgRule] = []
        self.egress: list[SgRule] = []
        for spec in ingress:
            self.add_ingress(*spec)
        if self_ingress:  # AWS's default group allows inbound traffic from its own members (paraphrased)
            self.add_ingress("all", None, self)
        for spec in [("all", None, "0.0.0.0/0")] if egress is None else egress:
            self.add_egress(*spec)

    def _rule(self, direction: str, proto: object, ports: object, peer: str | SecurityGroup) -> SgRule:
        r = SgRule((proto, ports, peer), f"{self.id} {direction} rule")
        if r.group is not None and r.group.vpc is not self.vpc:
            raise ValueError(f"{self.id} {direction} rule: group {r.group.id} belongs to {r.group.vpc.id}, not {self.vpc.id}")
        return r

    def add_ingress(self, proto: object, ports: object, source: str | SecurityGroup) -> None:
        r = self._rule("ingress", proto, ports, source)
        if any(x.key() == r.key() for x in self.ingress):
            raise ValueError(f"{self.id} ingress rule {r!r}: the group already has it")
        self.ingress.append(r)

    def add_egress(self, proto: object, ports: object, destination: str | SecurityGroup) -> None:
        r = self._rule("egress", proto, ports, destination)
        if any(x.key() == r.key() for x in self.egress):
            raise ValueError(f"{self.id} egress rule {r!r}: the group already has it")
        self.egress.append(r)

    def remove_ingress(self, proto: object, ports: object, source: str | SecurityGroup) -> None:
        """Remove a rule. AWS: tracked connections it allowed are "not immediately interrupted";
        untracked flows are (the next packet is judged by the rules alone)."""
        self.ingress = self._without(self.ingress, self._rule("ingress", proto, ports, source), "ingress")

    def remove_egress(self, proto: object, ports: object, destination: str | SecurityGroup) -> None:
        self.egress = self._without(self.egress, self._rule("egress", proto, ports, destination), "egress")

    def _without(self, rules: list[SgRule], r: SgRule, direction: str) -> list[SgRule]:
        kept = [x for x in rules if x.key() != r.key()]
        if len(kept) == len(rules):
            raise ValueError(f"{self.id} {direction} rule {r!r}: the group has no such rule")
        return kept

    def __repr__(self) -> str:
        return f"SecurityGroup({self.id}, {self.name!r}, ingress={len(self.ingress)}, egress={len(self.egress)})"


class NetworkAcl:
    """A stateless network ACL: numbered ingress and egress rules, evaluated in ascending order,
    the default rule ``*`` (deny) last. The VPC's default ACL allows everything (rule 100)."""

    def __init__(self, vpc: Vpc, acl_id: str, *, default: bool) -> None:
        self.vpc, self.id, self.default = vpc, acl_id, default
        self.ingress: list[AclEntry] = []
        self.egress: list[AclEntry] = []
        # AWS: "A default network ACL is configured to allow all traffic to flow in and out of the
        # subnets with which it is associated."
        if default:
            self.add_entry(100, "ingress", "all", None, "0.0.0.0/0", "allow")
            self.add_entry(100, "egress", "all", None, "0.0.0.0/0", "allow")

    def add_entry(
        self,
        number: int,
        direction: Literal["ingress", "egress"],
        proto: object,
        ports: object,
        cidr: str,
        action: Literal["allow", "deny"],
    ) -> None:
        what = f"{self.id} {direction} rule {number}"
        lo, hi = ACL_NUMBERS
        if isinstance(number, bool) or not isinstance(number, int) or not lo <= number <= hi:
            raise ValueError(f"{self.id}: rule number must be in {lo}..{hi}, not {number!r}")
        if action not in ("allow", "deny"):
            raise ValueError(f"{what}: action must be 'allow' or 'deny', not {action!r}")
        entries = self._entries(direction)
        if any(e.number == number for e in entries):
            raise ValueError(f"{what}: the ACL already has a {direction} rule {number}")
        p, (plo, phi) = protocol(proto, f"{what} protocol"), port_range(ports, f"{what} ports")
        entries.append(AclEntry(number, Match(p, plo, phi, Cidr.parse(cidr, f"{what} cidr")), action == "allow"))
        entries.sort(key=lambda e: e.number)

    def remove_entry(self, number: int, direction: Literal["ingress", "egress"]) -> None:
        entries = self._entries(direction)
        kept = [e for e in entries if e.number != number]
        if len(kept) == len(entries):
            raise ValueError(f"{self.id}: no {direction} rule {number}")
        entries[:] = kept

    def _entries(self, direction: str) -> list[AclEntry]:
        if direction == "ingress":
            return self.ingress
        if direction == "egress":
            return self.egress
        raise ValueError(f"{self.id}: direction must be 'ingress' or 'egress', not {direction!r}")

    def __repr__(self) -> str:
        return f"NetworkAcl({self.id}, ingress={len(self.ingress)}, egress={len(self.egress)})"


class PlacementGroup:
    """A cluster placement group: AWS raises the single-flow limit inside it from 5 to 10 Gbps."""

    def __init__(self, network: Network, name: str, strategy: str) -> None:
        if strategy != "cluster":
            raise ValueError(f"placement group {name!r}: only strategy='cluster' is modelled, not {strategy!r}")
        self.network, self.name, self.strategy = network, name, strategy


class NetworkInterface:
    """An ENI: a subnet, private addresses (primary first), security groups, maybe a public address."""

    def __init__(self, eni_id: str, instance: Instance, subnet: Subnet, groups: Sequence[SecurityGroup], primary_ip: int) -> None:
        self.id, self.instance, self.subnet = eni_id, instance, subnet
        self.security_groups = list(groups)
        self.private_ips = [primary_ip]
        self.public_ip: int | None = None
        self.trunk: NetworkInterface | None = None
        """The trunk interface that carries this one's packets when it is a branch ("Associates a branch
        network interface with a trunk network interface", EC2 API Reference, AssociateTrunkInterface;
        ECS's awsvpcTrunking makes one per task): its ENA counters are the trunk's."""

    @property
    def carrier(self) -> NetworkInterface:
        """The interface whose device carries this one's packets: its trunk, or itself."""
        return self if self.trunk is None else self.trunk

    @property
    def private_ip(self) -> int:
        return self.private_ips[0]

    def add_private_ip(self, private_ip: str | None = None) -> int:
        """A secondary private address, up to the type's addresses per interface."""
        limit = self.instance.instance_type.ipv4_per_eni
        if len(self.private_ips) >= limit:
            raise ValueError(
                f"{self.id}: a {self.instance.instance_type.name} interface takes at most {limit} private IPv4 "
                f"addresses (ipv4_per_eni: {self.instance.instance_type.sources['ipv4_per_eni']})"
            )
        a = self.subnet.allocate(private_ip, f"{self.id}: private_ip")
        self.private_ips.append(a)
        return a

    def associate_public_ip(self, public_ip: str) -> None:
        """Give the interface a public IPv4 (or Elastic IP) address, translated 1:1 by the internet gateway."""
        if self.public_ip is not None:
            raise ValueError(f"{self.id}: already has public address {dotted(self.public_ip)}")
        self.public_ip = self.subnet.vpc.network._claim_public(public_ip, f"{self.id}: public_ip")

    def __repr__(self) -> str:
        return f"NetworkInterface({self.id}, {dotted(self.private_ip)}, {self.subnet.id})"


class Instance:
    """An EC2 instance of a catalog type: network interfaces up to the type's limit."""

    def __init__(self, instance_id: str, t: InstanceType, subnet: Subnet, placement_group: PlacementGroup | None) -> None:
        self.id, self.instance_type, self.subnet, self.placement_group = instance_id, t, subnet, placement_group
        self.network_interfaces: list[NetworkInterface] = []

    @property
    def az(self) -> str:
        return self.subnet.az

    @property
    def primary_interface(self) -> NetworkInterface:
        return self.network_interfaces[0]

    @property
    def private_ip(self) -> int:
        return self.primary_interface.private_ip

    def add_network_interface(
        self,
        *,
        subnet: Subnet | None = None,
        security_groups: Sequence[SecurityGroup] | None = None,
        private_ip: str | None = None,
        public_ip: str | None = None,
        trunk: NetworkInterface | None = None,
    ) -> NetworkInterface:
        """Attach another interface (in ``subnet``, default the instance's; same AZ), up to the type's
        ``enis``; with ``trunk`` (another of the instance's interfaces), a branch it carries."""
        t = self.instance_type
        if trunk is not None and (not isinstance(trunk, NetworkInterface) or trunk not in self.network_interfaces):
            raise ValueError(f"{self.id}: trunk must be one of the instance's interfaces, not {trunk!r}")
        if len(self.network_interfaces) >= t.enis:
            raise ValueError(f"{self.id}: a {t.name} takes at most {t.enis} network interfaces (enis: {t.sources['enis']})")
        s = self.subnet if subnet is None else subnet
        if s.az != self.subnet.az:
            raise ValueError(
                f"{self.id}: subnet {s.id} is in {s.az}; an instance's interfaces are all in its zone {self.subnet.az}"
            )
        if s.vpc is not self.subnet.vpc:
            raise ValueError(f"{self.id}: subnet {s.id} is in {s.vpc.id}, the instance in {self.subnet.vpc.id}")
        groups = [s.vpc.default_security_group] if security_groups is None else list(security_groups)
        if not groups or len(groups) > 5:
            raise ValueError(f"{self.id}: security_groups must list 1 to 5 groups (AWS's default quota is 5 per interface)")
        for g in groups:
            if not isinstance(g, SecurityGroup):
                raise TypeError(f"{self.id}: security_groups must hold SecurityGroup objects, not {type(g).__name__}")
            if g.vpc is not s.vpc:
                raise ValueError(f"{self.id}: security group {g.id} belongs to {g.vpc.id}, not {s.vpc.id}")
        net = s.vpc.network
        eni_id = net._new_id("eni")
        eni = NetworkInterface(eni_id, self, s, groups, s.allocate(private_ip, f"{eni_id}: private_ip"))
        if public_ip is not None:
            eni.associate_public_ip(public_ip)
        eni.trunk = trunk
        self.network_interfaces.append(eni)
        net._interfaces.append(eni)
        return eni

    def detach_network_interface(self, eni: NetworkInterface, *, primary: bool = False) -> None:
        """Detach (and delete) a secondary interface, releasing its addresses. The primary one goes
        only with the instance (``primary=True`` is :meth:`Subnet.remove_instance`'s)."""
        if eni not in self.network_interfaces:
            raise ValueError(f"{eni.id} is not attached to {self.id}")
        if eni is self.primary_interface and not primary:
            raise ValueError(f"{eni.id} is the primary interface of {self.id}; it cannot be detached")
        net = eni.subnet.vpc.network
        for v in net.vpcs:
            for t in {id(s.route_table): s.route_table for s in v.subnets}.values():
                if any(r.target is eni for r in t.routes):
                    raise ValueError(f"{eni.id}: {t.id} routes to it; remove the route first")
            for lb in v.load_balancers:
                if any(e is eni for e, _ in lb.targets):
                    raise ValueError(f"{eni.id}: a target of {lb.id}; deregister it first")
        for a in eni.private_ips:
            eni.subnet.release(a)
        if eni.public_ip is not None:
            net._public.discard(eni.public_ip)
        self.network_interfaces.remove(eni)
        net._interfaces.remove(eni)

    def __repr__(self) -> str:
        return f"Instance({self.id}, {self.instance_type.name}, {dotted(self.private_ip)})"


RouteTarget = InternetGateway | NatGatewayResource | NetworkInterface | Literal["local", "blackhole"]


class Route:
    """A destination CIDR and where its traffic goes."""

    def __init__(self, cidr: Cidr, target: RouteTarget) -> None:
        self.cidr, self.target = cidr, target

    @property
    def target_name(self) -> str:
        t = self.target
        if isinstance(t, str):
            return t
        return "blackhole" if isinstance(t, NatGatewayResource) and t.deleted else t.id

    def __repr__(self) -> str:
        return f"Route({self.cidr} -> {self.target_name})"


class RouteTable:
    """A route table: the local route for the VPC's CIDR, and routes to an internet gateway, a NAT
    gateway, a network interface (an appliance: the traffic is delivered to it), or a blackhole. The
    most specific route that matches decides (longest prefix)."""

    def __init__(self, vpc: Vpc, rtb_id: str) -> None:
        self.vpc, self.id = vpc, rtb_id
        self.routes: list[Route] = [Route(vpc.cidr, "local")]

    def add_route(self, cidr: str, target: RouteTarget) -> Route:
        c = Cidr.parse(cidr, "cidr")
        what = f"{self.id} route {c}"
        if isinstance(target, (InternetGateway, NatGatewayResource, NetworkInterface)):
            owner = target.vpc if isinstance(target, InternetGateway) else target.subnet.vpc
            if owner is not self.vpc:
                raise ValueError(f"{what}: target {target.id} belongs to {owner.id}, not {self.vpc.id}")
        elif target != "blackhole":
            raise TypeError(
                f"{what}: target must be an internet gateway, a NAT gateway, a network interface or 'blackhole', not {target!r}"
            )
        if any(r.cidr == c for r in self.routes):
            raise ValueError(f"{what}: the table already has a route for {c}")
        if self.vpc.cidr.covers(c) and c != self.vpc.cidr:
            raise ValueError(
                f"{what}: more specific than the local route {self.vpc.cidr} (the model does not replace local routes)"
            )
        r = Route(c, target)
        self.routes.append(r)
        return r

    def remove_route(self, cidr: str) -> None:
        c = Cidr.parse(cidr, "cidr")
        if c == self.vpc.cidr:
            raise ValueError(f"{self.id}: the local route {c} cannot be removed")
        kept = [r for r in self.routes if r.cidr != c]
        if len(kept) == len(self.routes):
            raise ValueError(f"{self.id}: no route for {c}")
        self.routes = kept

    def __repr__(self) -> str:
        return f"RouteTable({self.id}, {self.routes})"
