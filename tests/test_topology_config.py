"""Building a topology: every mistake AWS refuses is a ValueError (a wrong type, a TypeError)
naming the resource and the argument.

AWS's words for the limits checked: subnets — "The first four IP addresses and the last IP address
in each subnet CIDR block are not available for you to use, and cannot be assigned to a resource";
a subnet's CIDR is "a subset of the VPC CIDR block" and subnets' CIDR blocks cannot overlap; the
instance type's interfaces and addresses per interface ("IP addresses per network interface per
instance type", EC2 User Guide; the catalog's ``enis`` and ``ipv4_per_eni``).
"""

from __future__ import annotations

import pytest

import hyperplane as hp


def vpc() -> tuple[hp.Network, hp.topology.Vpc]:
    net = hp.Network()
    return net, net.add_vpc("10.0.0.0/16")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda n, v: n.add_vpc("10.0.0.0/33"), ValueError, "cidr: '10.0.0.0/33' is not an IPv4 CIDR"),
        (lambda n, v: n.add_vpc(10), TypeError, "cidr must be an IPv4 CIDR string"),
        (lambda n, v: n.add_vpc("10.0.0.0/8"), ValueError, "AWS allows block sizes from /16 to /28"),
        (lambda n, v: n.add_vpc("10.0.128.0/17"), ValueError, "overlaps vpc-1"),
        (lambda n, v: v.add_subnet("10.1.0.0/24", az="us-east-1a"), ValueError, "outside its VPC's CIDR 10.0.0.0/16"),
        (
            lambda n, v: (v.add_subnet("10.0.0.0/24", az="us-east-1a"), v.add_subnet("10.0.0.128/25", az="us-east-1a")),
            ValueError,
            r"subnet 10.0.0.128/25 of vpc-1: overlaps subnet-1 \(10.0.0.0/24\)",
        ),
        (lambda n, v: v.add_subnet("10.0.0.0/24", az="eu-west-1a"), ValueError, "az must be a zone of us-east-1"),
        (
            lambda n, v: v.add_subnet("10.0.0.0/24", az="us-east-1a").add_instance("c5.large", private_ip="10.0.0.3"),
            ValueError,
            "reserved by AWS",
        ),
        (
            lambda n, v: v.add_subnet("10.0.0.0/24", az="us-east-1a").add_instance("c5.large", private_ip="10.0.0.255"),
            ValueError,
            "reserved by AWS",
        ),
        (
            lambda n, v: v.add_subnet("10.0.0.0/24", az="us-east-1a").add_instance("c5.large", private_ip="10.0.1.9"),
            ValueError,
            "outside subnet-1",
        ),
        (lambda n, v: v.add_subnet("10.0.0.0/24", az="us-east-1a").add_instance("c9.huge"), ValueError, "unknown instance type"),
        (lambda n, v: v.add_security_group("x", ingress=[("tcp", 70000, "0.0.0.0/0")]), ValueError, "ports must satisfy"),
        (lambda n, v: v.add_security_group("x", ingress=[("sctp?", 1, "0.0.0.0/0")]), ValueError, "unknown protocol"),
        (
            lambda n, v: v.add_network_acl().add_entry(0, "ingress", "tcp", 22, "0.0.0.0/0", "allow"),
            ValueError,
            "rule number must be in 1..32766",
        ),
        (lambda n, v: (v.add_internet_gateway(), v.add_internet_gateway()), ValueError, "at most one internet gateway"),
        (
            lambda n, v: v.add_subnet("10.0.0.0/24", az="us-east-1a").add_nat_gateway(["10.0.0.50"]),
            ValueError,
            "not a public address",
        ),
    ],
)
def test_bad_topologies(call, error, match) -> None:  # type: ignore[no-untyped-def]
    net, v = vpc()
    with pytest.raises(error, match=match):
        call(net, v)


def test_route_to_a_gateway_of_another_vpc() -> None:
    net, v = vpc()
    other = net.add_vpc("10.9.0.0/16")
    gw = other.add_internet_gateway()
    s = v.add_subnet("10.0.0.0/24", az="us-east-1a")
    with pytest.raises(ValueError, match="rtb-1 route 0.0.0.0/0: target igw-1 belongs to vpc-2, not vpc-1"):
        s.route_table.add_route("0.0.0.0/0", gw)


def test_eni_and_address_limits_of_the_type() -> None:
    net, v = vpc()
    s = v.add_subnet("10.0.0.0/24", az="us-east-1a")
    i = s.add_instance("c5.large")
    i.add_network_interface()
    i.add_network_interface()
    with pytest.raises(ValueError, match="a c5.large takes at most 3 network interfaces"):
        i.add_network_interface()
    eni = i.primary_interface
    for _ in range(9):
        eni.add_private_ip()
    with pytest.raises(ValueError, match="at most 10 private IPv4 addresses"):
        eni.add_private_ip()
    other = v.add_subnet("10.0.1.0/24", az="us-east-1b")
    j = other.add_instance("c5.xlarge")
    with pytest.raises(ValueError, match="an instance's interfaces are all in its zone"):
        j.add_network_interface(subnet=s)


def test_addresses_are_handed_out_after_the_reserved_ones() -> None:
    net, v = vpc()
    s = v.add_subnet("10.0.0.0/28", az="us-east-1a")
    ips = [hp.ip_str(s.add_instance("c5.large").private_ip) for _ in range(2)]
    assert ips == ["10.0.0.4", "10.0.0.5"]
    with pytest.raises(ValueError, match="already in use"):
        s.add_instance("c5.large", private_ip="10.0.0.4")
