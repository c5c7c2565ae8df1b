"""``Network.from_aws(docs)``: a network from the JSON that the AWS CLI's ``describe-*`` calls print.

``docs`` maps the top-level keys of those documents to their lists: ``Vpcs``, ``Subnets``,
``InternetGateways``, ``NatGateways``, ``SecurityGroups``, ``NetworkAcls``, ``RouteTables``,
``Reservations`` (``describe-instances``) and ``NetworkInterfaces``; and from ``aws elbv2``,
``LoadBalancers`` (those of type ``network``), ``Listeners``, ``TargetGroups`` and
``TargetHealthDescriptions`` (a list, for a single target group, or a mapping from target group
ARN to its list, since ``describe-target-health`` does not name its group). Fields the model does not use are ignored; a missing
required one is a ``ValueError`` naming the resource and the field. Resources keep their AWS ids,
so hops are named ``subnet-0a1b.../acl-out``. Only IPv4 is read.

The same documents written as TOML (``Network.from_toml``) are the model's file form.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from hyperplane.topology.addresses import address, dotted
from hyperplane.topology.network import Network
from hyperplane.topology.resources import NetworkAcl, RouteTable, SecurityGroup, Subnet, Vpc

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

KNOWN = (
    "Vpcs",
    "Subnets",
    "InternetGateways",
    "NatGateways",
    "SecurityGroups",
    "NetworkAcls",
    "RouteTables",
    "Reservations",
    "Instances",
    "NetworkInterfaces",
    "LoadBalancers",
    "Listeners",
    "TargetGroups",
    "TargetHealthDescriptions",
)


def _req(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(obj, Mapping):
        raise ValueError(f"{what}: expected an object, not {type(obj).__name__}")
    if key not in obj or obj[key] in (None, ""):
        raise ValueError(f"{what}: missing required field {key}")
    return obj[key]


def _list(docs: Mapping[str, Any], key: str) -> list[Any]:
    value = docs.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"docs[{key!r}] must be a list, as describe prints it")
    return value


def _name(res: Mapping[str, Any], kind: str, k: int) -> str:
    return f"{kind} #{k + 1}" + (f" ({res[f'{kind}Id']})" if isinstance(res, Mapping) and f"{kind}Id" in res else "")


def from_aws(docs: Mapping[str, Any], *, region: str | None = None, seed: int | None = None) -> Network:
    if not isinstance(docs, Mapping):
        raise TypeError(f"docs must be a mapping of describe keys (Vpcs, Subnets, ...), not {type(docs).__name__}")
    unknown = sorted(set(docs) - set(KNOWN))
    if unknown:
        raise ValueError(f"docs: unknown top-level keys {', '.join(unknown)}; known: {', '.join(KNOWN)}")
    subnets_doc = _list(docs, "Subnets")
    if region is None:
        zones = [str(_req(s, "AvailabilityZone", _name(s, "Subnet", k))) for k, s in enumerate(subnets_doc)]
        region = zones[0][:-1] if zones else "us-east-1"
    net = Network(region=region, seed=seed)
    vpcs: dict[str, Vpc] = {}
    for k, d in enumerate(_list(docs, "Vpcs")):
        what = _name(d, "Vpc", k)
        v = net.add_vpc(_req(d, "CidrBlock", what))
        v.id = _req(d, "VpcId", what)
        vpcs[v.id] = v

    def vpc_of(d: Mapping[str, Any], what: str) -> Vpc:
        vid = _req(d, "VpcId", what)
        if vid not in vpcs:
            raise ValueError(f"{what}: VpcId {vid} is not among Vpcs")
        return vpcs[vid]

    subnets: dict[str, Subnet] = {}
    for k, d in enumerate(subnets_doc):
        what = _name(d, "Subnet", k)
        s = vpc_of(d, what).add_subnet(_req(d, "CidrBlock", what), az=_req(d, "AvailabilityZone", what))
        s.id = _req(d, "SubnetId", what)
        subnets[s.id] = s

    def subnet_of(sid: object, what: str) -> Subnet:
        if sid not in subnets:
            raise ValueError(f"{what}: SubnetId {sid} is not among Subnets")
        return subnets[str(sid)]

    gateways: dict[str, Any] = {}
    for k, d in enumerate(_list(docs, "InternetGateways")):
        what = _name(d, "InternetGateway", k)
        for a in d.get("Attachments", []):
            gw = vpc_of(a, what).add_internet_gateway()
            gw.id = _req(d, "InternetGatewayId", what)
            gateways[gw.id] = gw
    for k, d in enumerate(_list(docs, "NatGateways")):
        what = _name(d, "NatGateway", k)
        if d.get("State") in ("deleted", "deleting", "failed"):
            continue
        addresses = _req(d, "NatGatewayAddresses", what)
        public = [a["PublicIp"] for a in addresses if a.get("PublicIp")]
        if not public:
            raise ValueError(f"{what}: missing required field NatGatewayAddresses[].PublicIp (a public NAT gateway)")
        # Its private address is not read: traffic reaches a NAT gateway by route, and the model gives
        # it one of its subnet's (moto, for one, reports an address outside the subnet).
        nat = subnet_of(_req(d, "SubnetId", what), what).add_nat_gateway(public)
        nat.id = _req(d, "NatGatewayId", what)
        gateways[nat.id] = nat

    groups: dict[str, SecurityGroup] = {}
    sg_docs = _list(docs, "SecurityGroups")
    for k, d in enumerate(sg_docs):
        what = _name(d, "Group", k)
        v = vpc_of(d, what)
        name = _req(d, "GroupName", what)
        if name == "default":
            group = v.default_security_group
            group.ingress, group.egress = [], []
        else:
            group = v.add_security_group(name, egress=[])
        group.id = _req(d, "GroupId", what)
        groups[group.id] = group
    for k, d in enumerate(sg_docs):
        what = _name(d, "Group", k)
        group = groups[d["GroupId"]]
        for key, add in (("IpPermissions", group.add_ingress), ("IpPermissionsEgress", group.add_egress)):
            for perm in d.get(key, []):
                proto = str(_req(perm, "IpProtocol", f"{what} {key}"))
                ports = None
                if proto in ("tcp", "udp", "6", "17") and "FromPort" in perm:
                    ports = (int(perm["FromPort"]), int(perm["ToPort"]))
                peers: list[str | SecurityGroup] = [r["CidrIp"] for r in perm.get("IpRanges", []) if "CidrIp" in r]
                for pair in perm.get("UserIdGroupPairs", []):
                    gid = _req(pair, "GroupId", f"{what} {key} UserIdGroupPairs")
                    if gid not in groups:
                        raise ValueError(f"{what} {key}: GroupId {gid} is not among SecurityGroups")
                    peers.append(groups[gid])
                for peer in peers:
                    add(proto, ports, peer)

    for k, d in enumerate(_list(docs, "NetworkAcls")):
        what = _name(d, "NetworkAcl", k)
        v = vpc_of(d, what)
        acl: NetworkAcl = v.default_network_acl if d.get("IsDefault") else v.add_network_acl()
        acl.id = _req(d, "NetworkAclId", what)
        acl.ingress, acl.egress = [], []
        for e in d.get("Entries", []):
            number = int(_req(e, "RuleNumber", f"{what} Entries"))
            if number > 32766 or "CidrBlock" not in e:
                continue  # the default rule * (32767) is the model's own; IPv6 entries are not read
            proto = str(_req(e, "Protocol", f"{what} rule {number}"))
            pr = e.get("PortRange")
            ports = (int(pr["From"]), int(pr["To"])) if pr and proto in ("6", "17", "tcp", "udp") else None
            acl.add_entry(
                number,
                "egress" if e.get("Egress") else "ingress",
                proto,
                ports,
                e["CidrBlock"],
                _req(e, "RuleAction", f"{what} rule {number}"),
            )
        for a in d.get("Associations", []):
            subnet_of(_req(a, "SubnetId", f"{what} Associations"), what).associate_network_acl(acl)

    main: dict[str, RouteTable] = {}
    explicit: set[str] = set()
    for k, d in enumerate(_list(docs, "RouteTables")):
        what = _name(d, "RouteTable", k)
        v = vpc_of(d, what)
        table = v.add_route_table()
        table.id = _req(d, "RouteTableId", what)
        for r in d.get("Routes", []):
            cidr = r.get("DestinationCidrBlock")
            if not cidr or r.get("GatewayId") == "local":
                continue  # IPv6 and prefix-list routes are not read; the local route is the table's own
            if r.get("State") == "blackhole":
                table.add_route(cidr, "blackhole")
                continue
            target_id = r.get("NatGatewayId") or r.get("GatewayId") or r.get("NetworkInterfaceId")
            if target_id not in gateways:
                continue  # targets the model lacks (VPC endpoints, peering, transit gateways, ...)
            table.add_route(cidr, gateways[target_id])
        for a in d.get("Associations", []):
            if a.get("Main"):
                main[v.id] = table
            elif a.get("SubnetId"):
                subnet_of(a["SubnetId"], what).associate_route_table(table)
                explicit.add(a["SubnetId"])
    for s in subnets.values():
        if s.id not in explicit and s.vpc.id in main:
            s.associate_route_table(main[s.vpc.id])

    instances = [i for r in _list(docs, "Reservations") for i in _req(r, "Instances", "Reservation")]
    instances += _list(docs, "Instances")
    for k, d in enumerate(instances):
        what = _name(d, "Instance", k)
        if d.get("State", {}).get("Name") in ("terminated", "shutting-down"):
            continue
        enis = sorted(d.get("NetworkInterfaces", []), key=lambda e: e.get("Attachment", {}).get("DeviceIndex", 0))
        if not enis:  # describe-instances always lists them; a hand-written document may not
            enis = [
                {
                    "SubnetId": _req(d, "SubnetId", what),
                    "PrivateIpAddress": _req(d, "PrivateIpAddress", what),
                    "Groups": d.get("SecurityGroups", []),
                    "Association": {"PublicIp": d["PublicIpAddress"]} if d.get("PublicIpAddress") else {},
                }
            ]
        first = enis[0]
        subnet = subnet_of(_req(first, "SubnetId", what), what)

        def sgs(e: Mapping[str, Any], what: str = what) -> list[SecurityGroup] | None:
            ids = [_req(g, "GroupId", f"{what} Groups") for g in e.get("Groups", [])]
            missing = [i for i in ids if i not in groups]
            if missing:
                raise ValueError(f"{what}: security group {missing[0]} is not among SecurityGroups")
            return [groups[i] for i in ids] or None

        try:
            inst = subnet.add_instance(
                _req(d, "InstanceType", what),
                security_groups=sgs(first),
                private_ip=_req(first, "PrivateIpAddress", what),
                public_ip=(first.get("Association") or {}).get("PublicIp"),
            )
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None
        inst.id = _req(d, "InstanceId", what)
        for e in enis[1:]:
            inst.add_network_interface(
                subnet=subnet_of(_req(e, "SubnetId", what), what),
                security_groups=sgs(e),
                private_ip=_req(e, "PrivateIpAddress", what),
                public_ip=(e.get("Association") or {}).get("PublicIp"),
            )
        for eni_doc, eni in zip(enis, inst.network_interfaces):
            if eni_doc.get("NetworkInterfaceId"):
                eni.id = eni_doc["NetworkInterfaceId"]
            for extra in eni_doc.get("PrivateIpAddresses", []):
                a = extra.get("PrivateIpAddress")
                if a and not extra.get("Primary") and a != dotted(eni.private_ip):
                    eni.add_private_ip(a)
    _load_balancers(docs, vpcs, subnets, {i.id: i for s in subnets.values() for i in s.instances})
    _interface_routes(_list(docs, "RouteTables"), net)
    return net


def _interface_routes(tables: list[Any], net: Network) -> None:
    """Routes to network interfaces, once the interfaces exist (they come with the instances)."""
    enis = {e.id: e for e in net.interfaces}
    by_id = {t.id: t for v in net.vpcs for s in v.subnets for t in [s.route_table]}
    for d in tables:
        table = by_id.get(d.get("RouteTableId", ""))
        for r in d.get("Routes", []):
            eni = enis.get(r.get("NetworkInterfaceId", ""))
            if table is not None and eni is not None and r.get("DestinationCidrBlock") and r.get("State") != "blackhole":
                table.add_route(r["DestinationCidrBlock"], eni)


def _load_balancers(docs: Mapping[str, Any], vpcs: dict[str, Vpc], subnets: dict[str, Subnet], instances: dict[str, Any]) -> None:
    groups = {_req(g, "TargetGroupArn", _name(g, "TargetGroup", k)): g for k, g in enumerate(_list(docs, "TargetGroups"))}
    health_doc = docs.get("TargetHealthDescriptions", [])
    if isinstance(health_doc, list):
        if health_doc and len(groups) != 1:
            raise ValueError(
                "TargetHealthDescriptions: a list applies to exactly one target group; give a mapping from TargetGroupArn"
            )
        health = {arn: health_doc for arn in groups}
    elif isinstance(health_doc, Mapping):
        health = dict(health_doc)
    else:
        raise ValueError("TargetHealthDescriptions must be a list or a mapping from TargetGroupArn to a list")
    listeners = _list(docs, "Listeners")
    interfaces = {e.private_ip: e for v in vpcs.values() for s in v.subnets for i in s.instances for e in i.network_interfaces}
    for k, d in enumerate(_list(docs, "LoadBalancers")):
        what = _name(d, "LoadBalancer", k)
        if d.get("Type") != "network":
            continue  # application and gateway load balancers are not modelled
        arn = _req(d, "LoadBalancerArn", what)
        vid = _req(d, "VpcId", what)
        if vid not in vpcs:
            raise ValueError(f"{what}: VpcId {vid} is not among Vpcs")
        zones = _req(d, "AvailabilityZones", what)
        subs = []
        for z in zones:
            sid = _req(z, "SubnetId", f"{what} AvailabilityZones")
            if sid not in subnets:
                raise ValueError(f"{what}: SubnetId {sid} is not among Subnets")
            subs.append(subnets[sid])
        mine = [x for x in listeners if x.get("LoadBalancerArn") == arn]
        tg_arns = [a["TargetGroupArn"] for x in mine for a in x.get("DefaultActions", []) if a.get("TargetGroupArn")]
        if not mine:
            tg_arns = [a for a, g in groups.items() if arn in g.get("LoadBalancerArns", [])]
        ports = [(int(_req(x, "Port", f"{what} listener")), str(_req(x, "Protocol", f"{what} listener")).lower()) for x in mine]
        if not ports:
            ports = [(int(_req(groups[a], "Port", a)), str(_req(groups[a], "Protocol", a)).lower()) for a in tg_arns]
        if not ports:
            raise ValueError(f"{what}: no listener (Listeners) and no target group naming it (TargetGroups[].LoadBalancerArns)")
        targets: list[tuple[Any, int]] = []
        unhealthy: list[tuple[Any, int]] = []
        for a in tg_arns:
            g = groups.get(a)
            if g is None:
                raise ValueError(f"{what}: target group {a} is not among TargetGroups")
            for h in health.get(a, []):
                t = _req(h, "Target", f"{what} TargetHealthDescriptions")
                tid = _req(t, "Id", f"{what} TargetHealthDescriptions Target")
                port = int(t.get("Port", _req(g, "Port", a)))
                if tid in instances:
                    eni = instances[tid].primary_interface
                else:
                    eni = interfaces.get(address(tid, f"{what} target Id"))
                    if eni is None:
                        raise ValueError(f"{what}: target {tid} is neither an instance nor an interface's address")
                targets.append((eni, port))
                if (h.get("TargetHealth") or {}).get("State") not in (None, "healthy", "initial"):
                    unhealthy.append((eni, port))
        public = [a["IpAddress"] for z in zones for a in z.get("LoadBalancerAddresses", []) if a.get("IpAddress")]
        internet = d.get("Scheme") == "internet-facing" and len(public) == len(subs)
        lb = vpcs[vid].add_network_load_balancer(
            _req(d, "LoadBalancerName", what), subs, ports, targets, public_ips=public if internet else None
        )
        lb.id = str(d["LoadBalancerName"])
        lb.unhealthy = {(e.id, p) for e, p in unhealthy}


def from_toml(text: str, *, seed: int | None = None) -> Network:
    """The describe documents written as TOML: the same top-level keys and field names."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"TOML: {e}") from None
    region = doc.pop("region", None)
    return from_aws(doc, region=region, seed=seed)
