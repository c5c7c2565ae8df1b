"""The network changing under traffic: interfaces detached, instances terminated, load-balancer
targets registered and deregistered (what ECS does as tasks come and go)."""

from __future__ import annotations

import pytest

import hyperplane as hp
from hyperplane import Verdict as V

from .ecs_fixtures import packets

TCP, SYN = 6, 0x02


def world() -> tuple[hp.Network, object, object]:
    net = hp.Network(seed=1)
    vpc = net.add_vpc("10.0.0.0/16")
    a = vpc.add_subnet("10.0.1.0/24", az="us-east-1a")
    return net, vpc, a


def test_detached_interface_releases_its_address_and_leaves_the_path() -> None:
    net, vpc, a = world()
    i = a.add_instance("c5.large")  # type: ignore[attr-defined]
    extra = i.add_network_interface()
    addr = hp.ip_str(extra.private_ip)
    client = a.add_instance("c5.large")  # type: ignore[attr-defined]
    src = hp.ip_str(client.private_ip)
    ok = net.process(packets([(1, src, 40000, addr, 80, TCP, SYN)]))
    assert V(int(ok.verdict[0])) == V.FORWARD  # the default group lets its members in
    i.detach_network_interface(extra)
    assert extra not in net.interfaces and extra.private_ip not in a.used  # type: ignore[attr-defined]
    gone = net.process(packets([(10, src, 40001, addr, 80, TCP, SYN)]))
    assert V(int(gone.verdict[0])) == V.DROP_UNREACHABLE
    again = i.add_network_interface()
    assert hp.ip_str(again.private_ip) == addr  # AWS may hand the address out again
    with pytest.raises(ValueError, match="primary"):
        i.detach_network_interface(i.primary_interface)
    a.remove_instance(i)  # type: ignore[attr-defined]
    assert i not in a.instances and all(e.instance is not i for e in net.interfaces)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="is not in"):
        a.remove_instance(i)  # type: ignore[attr-defined]


def test_targets_registered_and_deregistered_while_the_stage_runs() -> None:
    net, vpc, a = world()
    b = vpc.add_subnet("10.0.2.0/24", az="us-east-1b")  # type: ignore[attr-defined]
    open_sg = vpc.add_security_group("web", ingress=[("tcp", 80, "10.0.0.0/16")])  # type: ignore[attr-defined]
    t1 = a.add_instance("c5.large", security_groups=[open_sg])  # type: ignore[attr-defined]
    t2 = a.add_instance("c5.large", security_groups=[open_sg])  # type: ignore[attr-defined]
    lb = vpc.add_network_load_balancer("front", [a, b], [(80, "tcp")], [(t1, 80)])  # type: ignore[attr-defined]
    client = b.add_instance("c5.large")
    node, src = hp.ip_str(lb.nodes[0]), hp.ip_str(client.private_ip)
    first = net.process(packets([(1, src, 40000, node, 80, TCP, SYN)]))
    assert net.hops[first.hop[0]] == f"{t1.primary_interface.id}/ena-in"
    lb.register_target(t2, 80)
    with pytest.raises(ValueError, match="already a target"):
        lb.register_target(t2, 80)
    lb.deregister_target(t1, 80, at_ns=2_000_000)
    assert [e for e, _ in lb.targets] == [t2.primary_interface]
    later = net.process(packets([(5_000 + k, src, 41000 + k, node, 80, TCP, SYN) for k in range(10)]))
    assert {net.hops[h] for h in later.hop} == {f"{t2.primary_interface.id}/ena-in"}  # no new flows to a draining target
    with pytest.raises(ValueError, match="deregister it first"):
        a.remove_instance(t2)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not a target"):
        lb.deregister_target(t1, 80)
