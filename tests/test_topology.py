"""The packet path of ``hp.Network``, as tables of packets: for each case a topology, packets,
and for each packet the verdict and the hop that decides it.

The AWS behaviours these cases hold the model to, in AWS's words:

- Route tables: "we direct traffic using the most specific route that matches the traffic. This
  is known as the longest prefix match." (VPC User Guide, "How route priority works")
- Security groups: "security groups are stateful. This means that responses to inbound traffic
  are allowed to flow out of the instance regardless of outbound security group rules, and vice
  versa." "When you change a security group rule, its tracked connections are not immediately
  interrupted." Untracked: "If a security group rule permits TCP or UDP flows for all traffic
  (0.0.0.0/0 or ::/0) and there is a corresponding rule in the other direction that permits all
  response traffic (0.0.0.0/0 or ::/0) for all ports (0-65535), then that flow of traffic is not
  tracked." (EC2 User Guide, "Security group connection tracking")
- Network ACLs: "Network ACLs are stateless, which means that responses to allowed inbound
  traffic are subject to the rules for outbound traffic (and vice versa). Rules are evaluated
  starting with the lowest numbered rule." (VPC User Guide, "Network ACLs")
- Internet gateways serve "to provide a target in your VPC route tables for Internet-routable
  traffic, and to perform network address translation (NAT) for instances that have been assigned
  public IPv4 addresses." (VPC User Guide, "Internet gateways")
- NAT gateways: "create a NAT gateway in each Availability Zone, and configure your routing to
  ensure that resources use the NAT gateway in the same Availability Zone." (VPC User Guide,
  "NAT gateway basics")
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane import Verdict as V

F = V.FORWARD
SYN, SYNACK, ACK = 0x02, 0x12, 0x10
TCP, UDP = 6, 17
INTERNET_HOST = "198.51.100.7"


def packets(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Rows of (ts µs, src, sport, dst, dport, proto, tcp_flags) -> a batch (60-byte packets)."""
    b = hp.empty(len(rows))
    for k, (ts, src, sport, dst, dport, proto, flags) in enumerate(rows):
        p = b[k : k + 1]
        p["ts"], p["src_ip"], p["dst_ip"], p["src_port"], p["dst_port"] = ts * 1000, hp.ip(src), hp.ip(dst), sport, dport
        p["length"], p["proto"], p["tcp_flags"] = 60, proto, flags
    return b


def base(**kw: Any) -> dict[str, Any]:
    """A VPC with a public subnet (NAT gateway, internet route) and an app subnet routed to the NAT."""
    net = hp.Network(region="us-east-1", seed=1)
    vpc = net.add_vpc("10.0.0.0/16")
    pub = vpc.add_subnet("10.0.0.0/24", az="us-east-1a")
    app = vpc.add_subnet("10.0.1.0/24", az="us-east-1a")
    igw = vpc.add_internet_gateway()
    nat = pub.add_nat_gateway(public_ips=["203.0.113.10"])
    pub.route_table.add_route("0.0.0.0/0", igw)
    if kw.get("app_default", True):
        app.route_table.add_route("0.0.0.0/0", nat)
    web = vpc.add_security_group("web", ingress=[("tcp", 443, "0.0.0.0/0")])
    i1 = app.add_instance("c5.large", security_groups=[web])  # 10.0.1.4
    i2 = app.add_instance("c5.large", security_groups=[web])  # 10.0.1.5
    return dict(net=net, vpc=vpc, pub=pub, app=app, igw=igw, nat=nat, web=web, i1=i1, i2=i2)


def check(net: hp.Network, batch: np.ndarray, expected: list[tuple[V, str]]) -> hp.topology.NetworkResult:
    res = net.process(batch)
    got = [(V(int(v)), net.hops[h]) for v, h in zip(res.verdict, res.hop)]
    assert got == expected
    conserved(net)
    return res


def conserved(net: hp.Network) -> None:
    for hop, c in net.counters.items():
        drops = sum(n for k, n in c.items() if k not in ("packets", "forwarded"))
        assert c["packets"] == c["forwarded"] + drops, hop


def test_no_route() -> None:
    t = base(app_default=False)
    check(t["net"], packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN)]), [(V.DROP_NO_ROUTE, "subnet-2/rtb-2")])
    e = t["net"].explain("10.0.1.4", INTERNET_HOST, 443, "tcp")
    assert not e.reachable and "rtb-2 has no route to 198.51.100.7" in (e.blocked_by or "")


def test_blackhole_beats_the_default_route_by_prefix() -> None:
    t = base()
    t["app"].route_table.add_route("198.51.100.0/24", "blackhole")
    check(
        t["net"],
        packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN), (2, "10.0.1.4", 40001, "192.0.2.9", 443, TCP, SYN)]),
        [(V.DROP_BLACKHOLE, "subnet-2/rtb-2"), (F, "internet")],
    )


def test_security_group_denies_ingress_and_allows_its_port() -> None:
    t = base()
    res = check(
        t["net"],
        packets([(1, "10.0.1.5", 40000, "10.0.1.4", 22, TCP, SYN), (2, "10.0.1.5", 40001, "10.0.1.4", 443, TCP, SYN)]),
        [(V.DROP_SECURITY_GROUP, "eni-1/sg-in"), (F, "eni-1/ena-in")],
    )
    assert res.delay_ns[1] > 0  # two ENA hops' latency
    e = t["net"].explain("10.0.1.5", "10.0.1.4", 22, "tcp")
    assert e.blocked_by == "eni-1/sg-in: no ingress rule of sg-2 allows it"


def test_stateful_replies_pass_without_rules_and_unsolicited_traffic_does_not() -> None:
    t = base()
    t["web"].remove_egress("all", None, "0.0.0.0/0")  # no egress rules at all
    net = t["net"]
    check(
        net,
        packets(
            [
                (1, "10.0.1.5", 40000, "10.0.1.4", 443, TCP, SYN),  # allowed by ingress 443 (i2's egress: none!)
            ]
        ),
        [(V.DROP_SECURITY_GROUP, "eni-2/sg-out")],
    )
    t["web"].add_egress("tcp", 443, "10.0.0.0/16")
    check(
        net,
        packets(
            [
                (10, "10.0.1.5", 40000, "10.0.1.4", 443, TCP, SYN),
                (1000, "10.0.1.4", 443, "10.0.1.5", 40000, TCP, SYNACK),  # a reply: tracked, no rule needed
                (2000, "10.0.1.4", 443, "10.0.1.5", 40002, TCP, SYN),  # not a reply: i1 has no egress rule to 40002
            ]
        ),
        [(F, "eni-1/ena-in"), (F, "eni-2/ena-in"), (V.DROP_SECURITY_GROUP, "eni-1/sg-out")],
    )


def test_nacl_stateless_return_traffic() -> None:
    """An instance with a public address in a subnet whose ACL lets 443 out and only 22 in: the
    reply to its own connection (to its ephemeral port) is denied; allowing 1024-65535 in fixes it."""
    net = hp.Network(seed=2)
    vpc = net.add_vpc("10.1.0.0/16")
    sub = vpc.add_subnet("10.1.0.0/24", az="us-east-1b")
    sub.route_table.add_route("0.0.0.0/0", vpc.add_internet_gateway())
    acl = vpc.add_network_acl()
    acl.add_entry(100, "egress", "tcp", 443, "0.0.0.0/0", "allow")
    acl.add_entry(100, "ingress", "tcp", 22, "0.0.0.0/0", "allow")
    sub.associate_network_acl(acl)
    sub.add_instance("c5.large", public_ip="198.51.100.20")  # 10.1.0.4
    out = packets([(1, "10.1.0.4", 40000, "192.0.2.9", 443, TCP, SYN)])
    res = check(net, out, [(F, "internet")])
    assert hp.ip_str(int(res.packets["src_ip"][0])) == "198.51.100.20"  # 1:1 at the internet gateway
    reply = packets([(2, "192.0.2.9", 443, "198.51.100.20", 40000, TCP, SYNACK)])
    check(net, reply, [(V.DROP_NETWORK_ACL, "subnet-1/acl-in")])
    acl.add_entry(110, "ingress", "tcp", (1024, 65535), "0.0.0.0/0", "allow")
    res = check(net, packets([(3, "192.0.2.9", 443, "198.51.100.20", 40000, TCP, SYNACK)]), [(F, "eni-1/ena-in")])
    assert hp.ip_str(int(res.packets["dst_ip"][0])) == "10.1.0.4"
    e = net.explain("10.1.0.4", "192.0.2.9", 80, "tcp")
    assert e.blocked_by == "subnet-1/acl-out: denied by the default rule * of acl-2"
    acl.remove_entry(110, "ingress")
    e = net.explain("10.1.0.4", "192.0.2.9", 443, "tcp", return_port=40000)
    assert e.blocked_by == "subnet-1/acl-in: the reply to port 40000 is denied by the default rule * of acl-2"
    acl.add_entry(110, "ingress", "tcp", (1024, 65535), "0.0.0.0/0", "allow")
    assert net.explain("10.1.0.4", "192.0.2.9", 443, "tcp", return_port=40000).reachable


def test_untracked_flow_is_cut_by_rule_removal_and_tracked_flow_survives() -> None:
    """AWS's own example: inbound TCP 22 from one network (tracked) and TCP 80 from 0.0.0.0/0 with
    an outbound all-traffic rule (untracked); removing both rules keeps 22's connection, cuts 80's."""
    net = hp.Network(seed=3)
    vpc = net.add_vpc("10.2.0.0/16")
    sub = vpc.add_subnet("10.2.0.0/24", az="us-east-1a")
    sub.route_table.add_route("0.0.0.0/0", vpc.add_internet_gateway())
    sg = vpc.add_security_group("ex", ingress=[("tcp", 22, "203.0.113.0/24"), ("tcp", 80, "0.0.0.0/0")])
    sub.add_instance("c5.large", security_groups=[sg], public_ip="198.51.100.30")
    c = "203.0.113.5"
    check(
        net,
        packets([(1, c, 50000, "198.51.100.30", 22, TCP, SYN), (2, c, 50001, "198.51.100.30", 80, TCP, SYN)]),
        [(F, "eni-1/ena-in"), (F, "eni-1/ena-in")],
    )
    check(
        net,
        packets([(100, "10.2.0.4", 22, c, 50000, TCP, SYNACK), (101, "10.2.0.4", 80, c, 50001, TCP, SYNACK)]),
        [(F, "internet"), (F, "internet")],
    )
    sg.remove_ingress("tcp", 22, "203.0.113.0/24")
    sg.remove_ingress("tcp", 80, "0.0.0.0/0")
    check(
        net,
        packets([(200, c, 50000, "198.51.100.30", 22, TCP, ACK), (201, c, 50001, "198.51.100.30", 80, TCP, ACK)]),
        [(F, "eni-1/ena-in"), (V.DROP_SECURITY_GROUP, "eni-1/sg-in")],
    )


def test_instance_without_public_ip_is_unreachable_from_the_internet() -> None:
    t = base()
    t["app"].route_table.remove_route("0.0.0.0/0")
    t["app"].route_table.add_route("0.0.0.0/0", t["igw"])  # straight to the IGW, but no public address
    check(
        t["net"],
        packets(
            [
                (1, INTERNET_HOST, 50000, "10.0.1.4", 443, TCP, SYN),  # a private address is not on the internet
                (2, INTERNET_HOST, 50000, "192.0.2.44", 443, TCP, SYN),  # nor is an address nobody holds
                (3, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN),  # and it cannot reach out either
            ]
        ),
        [(V.DROP_UNREACHABLE, "internet"), (V.DROP_UNREACHABLE, "internet"), (V.DROP_NO_PUBLIC_IP, "igw-1")],
    )


def test_nat_gateway_egress_and_reply() -> None:
    t = base()
    net = t["net"]
    res = check(net, packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN)]), [(F, "internet")])
    out = res.packets[0]
    assert hp.ip_str(int(out["src_ip"])) == "203.0.113.10" and out["dst_ip"] == hp.ip(INTERNET_HOST)
    public_port = int(out["src_port"])
    res = check(
        net,
        packets(
            [
                (2, INTERNET_HOST, 443, "203.0.113.10", public_port, TCP, SYNACK),
                (3, INTERNET_HOST, 443, "203.0.113.10", 5555, TCP, SYN),  # unsolicited
            ]
        ),
        [(F, "eni-1/ena-in"), (V.DROP_UNSOLICITED, "nat-1")],
    )
    back = res.packets[0]
    assert hp.ip_str(int(back["dst_ip"])) == "10.0.1.4" and back["dst_port"] == 40000
    assert net.counters["nat-1"]["packets"] == 3 and net.counters["igw-1"]["packets"] == 3


def test_request_and_reply_in_one_batch() -> None:
    """The reply's path reaches the NAT gateway and the security group after the request's."""
    t = base()
    net = t["net"]
    first = net.process(packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN)]))
    port = int(first.packets["src_port"][0])
    t2 = base()
    both = packets(
        [(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN), (1000, INTERNET_HOST, 443, "203.0.113.10", port, TCP, SYNACK)]
    )
    check(t2["net"], both, [(F, "internet"), (F, "eni-1/ena-in")])


def test_cross_az_traffic_is_counted_and_a_remote_nat_is_reported() -> None:
    t = base()
    net, vpc = t["net"], t["vpc"]
    app_b = vpc.add_subnet("10.0.2.0/24", az="us-east-1b")
    app_b.route_table.add_route("0.0.0.0/0", t["nat"])
    ib = app_b.add_instance("c5.large", security_groups=[t["web"]])  # 10.0.2.4
    assert net.advice() == ["subnet-3 (us-east-1b): default route uses nat-1 in us-east-1a; AWS advises a NAT gateway per zone"]
    check(
        net,
        packets(
            [
                (1, "10.0.2.4", 40000, "10.0.1.4", 443, TCP, SYN),
                (1000, "10.0.1.4", 443, "10.0.2.4", 40000, TCP, SYNACK),
                (2000, "10.0.2.4", 40001, INTERNET_HOST, 443, TCP, SYN),  # via the NAT gateway in us-east-1a
                (3000, "10.0.1.5", 40000, "10.0.1.4", 443, TCP, SYN),  # same zone: not counted
            ]
        ),
        [(F, "eni-1/ena-in"), (F, f"{ib.primary_interface.id}/ena-in"), (F, "internet"), (F, "eni-1/ena-in")],
    )
    assert net.cross_az == {
        ("us-east-1a", "us-east-1b"): {"packets": 1, "bytes": 60},
        ("us-east-1b", "us-east-1a"): {"packets": 2, "bytes": 120},
    }


def test_counters_match_the_verdicts_hop_by_hop() -> None:
    t = base()
    net = t["net"]
    rng = np.random.default_rng(5)
    n = 2000
    b = hp.empty(n)
    b["ts"] = np.arange(n) * 1000
    srcs = np.array([hp.ip(a) for a in ("10.0.1.4", "10.0.1.5", INTERNET_HOST, "10.0.9.9")], dtype=np.uint32)
    dsts = np.array([hp.ip(a) for a in ("10.0.1.4", "10.0.1.5", INTERNET_HOST, "203.0.113.10", "10.0.7.7")], dtype=np.uint32)
    b["src_ip"], b["dst_ip"] = rng.choice(srcs, n), rng.choice(dsts, n)
    b["src_port"], b["dst_port"] = rng.integers(1024, 65535, n), rng.choice([22, 443, 8080], n)
    b["proto"], b["tcp_flags"], b["length"] = rng.choice([TCP, UDP], n), SYN, 100
    res = net.process(b)
    assert (res.verdict != 255).all()
    c = net.counters
    assert c["source"]["packets"] == n
    for k, name in enumerate(net.hops):
        at = res.hop == k
        for v in V:
            if v != F:
                assert c[name][hp.verdict.counter_name(v)] == int((at & (res.verdict == v)).sum()), (name, v)
    conserved(net)


def test_same_seed_same_result() -> None:
    b = packets([(k, "10.0.1.4", 40000 + k, INTERNET_HOST, 443, TCP, SYN) for k in range(50)])
    a, c = base()["net"].process(b), base()["net"].process(b)
    for x, y in zip(a, c):
        np.testing.assert_array_equal(x, y)


def test_network_pickles_and_deep_copies_without_its_state() -> None:
    t = base()
    net = t["net"]
    b = packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN)])
    first = net.process(b)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert other.counters["source"]["packets"] == 0
        res = other.process(b)
        np.testing.assert_array_equal(res.packets, first.packets)
    t5 = hp.ena.instance_type("c5.large")
    assert pickle.loads(pickle.dumps(t5)) == t5 and copy.deepcopy(t5).sources == t5.sources


def test_bad_batch() -> None:
    net = base()["net"]
    with pytest.raises(TypeError, match="batch"):
        net.process(np.zeros(3))
    b = packets([(2, "10.0.1.4", 1, INTERNET_HOST, 443, TCP, SYN), (1, "10.0.1.4", 1, INTERNET_HOST, 443, TCP, SYN)])
    with pytest.raises(ValueError, match="batch must be in order of time"):
        net.process(b)


def test_network_load_balancer_from_the_internet_and_back() -> None:
    """An internet-facing NLB with a node per zone: a client's flow goes to a target in the node's
    zone (cross-zone load balancing is off by default), with the client's address preserved, and the
    target's reply leaves from the node's public address and the listener's port."""
    t = base()
    net, vpc = t["net"], t["vpc"]
    pub_b = vpc.add_subnet("10.0.2.0/24", az="us-east-1b")
    pub_b.route_table.add_route("0.0.0.0/0", t["igw"])
    app_b = vpc.add_subnet("10.0.3.0/24", az="us-east-1b")
    ib = app_b.add_instance("c5.large", security_groups=[t["web"]])  # 10.0.3.4
    lb = vpc.add_network_load_balancer(
        "front", [t["pub"], pub_b], [(443, "tcp")], [(t["i1"], 443), (ib, 443)], public_ips=["198.51.100.80", "198.51.100.81"]
    )
    assert [hp.ip_str(a) for a in lb.nodes] == ["10.0.0.5", "10.0.2.4"]  # after the NAT gateway's 10.0.0.4
    c = "192.0.2.33"
    res = check(net, packets([(1, c, 50000, "198.51.100.81", 443, TCP, SYN)]), [(F, f"{ib.primary_interface.id}/ena-in")])
    got = res.packets[0]
    assert (hp.ip_str(int(got["src_ip"])), hp.ip_str(int(got["dst_ip"])), int(got["dst_port"])) == (c, "10.0.3.4", 443)
    res = check(net, packets([(1000, "10.0.3.4", 443, c, 50000, TCP, SYNACK)]), [(F, "internet")])
    back = res.packets[0]
    assert (hp.ip_str(int(back["src_ip"])), int(back["src_port"])) == ("198.51.100.81", 443)
    assert net.counters[lb.id]["packets"] == 2
    check(net, packets([(2000, c, 50001, "198.51.100.81", 80, TCP, SYN)]), [(V.DROP_NO_LISTENER, lb.id)])
    e = net.explain(c, "198.51.100.81", 443, "tcp")
    eni = ib.primary_interface.id
    assert e.reachable and [h for h, _ in e.hops][-4:] == [lb.id, "subnet-4/acl-in", f"{eni}/sg-in", f"{eni}/ena-in"], str(e)
    assert net.explain(c, "198.51.100.81", 80, "tcp").blocked_by == f"{lb.id}: no listener on port 80"


def test_network_load_balancer_replies_follow_their_flows() -> None:
    """A target's replies go back through the load balancer only for the flows it holds (AWS: "A
    listener checks for connection requests from clients, using the protocol and port that you
    configure, and forwards requests to a target group", Network Load Balancer guide, "What is a
    Network Load Balancer?"): from the node and the listener port each flow came to, so a client of
    the second listener hears from that port; a client that reached the target directly hears from
    the target itself; and once a flow idles out (350 s) its target's packets are routed as any
    other traffic."""
    t = base()
    net = t["net"]
    lb = t["vpc"].add_network_load_balancer("int", [t["pub"]], [(443, "tcp"), (8443, "tcp")], [(t["i1"], 443)])
    node, client, target = hp.ip_str(lb.nodes[0]), "10.0.1.5", "10.0.1.4"  # client i2, target i1
    i1, i2 = t["i1"].primary_interface.id, t["i2"].primary_interface.id
    syns = [(1, client, 50000, node, 443, TCP, SYN), (2, client, 50001, node, 8443, TCP, SYN),
            (3, client, 50002, target, 443, TCP, SYN)]
    check(net, packets(syns), [(F, f"{i1}/ena-in")] * 3)
    replies = [(100, target, 443, client, p, TCP, SYNACK) for p in (50000, 50001, 50002)]
    res = check(net, packets(replies), [(F, f"{i2}/ena-in")] * 3)
    got = [(hp.ip_str(int(p["src_ip"])), int(p["src_port"])) for p in res.packets]
    assert got == [(node, 443), (node, 8443), (target, 443)]
    assert net.counters[lb.id]["packets"] == 4  # two SYNs, two replies
    late = 400 * 10**6  # µs: past the 350 s idle timeout of the first flow
    res = check(net, packets([(late, target, 443, client, 50000, TCP, ACK)]), [(V.DROP_SECURITY_GROUP, f"{i2}/sg-in")])
    assert hp.ip_str(int(res.packets[0]["src_ip"])) == target  # not the load balancer's any more


def test_packet_rate_allowance_is_shared_by_both_directions() -> None:
    """AWS counts an instance's packet rate in and out together ("pps_allowance_exceeded: The number
    of packets queued or dropped because the bidirectional PPS exceeded the maximum for the
    instance.", EC2 User Guide, "Monitor network performance for your EC2 instance"): two c5.large
    (550 kpps, an estimate of the catalog's) exchanging 400 kpps each way are over it together,
    though each direction alone is not; one way alone is not over it."""
    counts = {}
    for both in (True, False):
        net = hp.Network(seed=5)
        vpc = net.add_vpc("10.4.0.0/16")
        sub = vpc.add_subnet("10.4.0.0/24", az="us-east-1a")
        sg = vpc.add_security_group("all", ingress=[("all", None, "10.4.0.0/16")])
        a, b = (sub.add_instance("c5.large", security_groups=[sg]) for _ in range(2))  # 10.4.0.4, 10.4.0.5
        n = 4000  # 10 ms at 400 kpps each way, 64-byte UDP packets (164 Mbps: under the bandwidth)
        ts = (np.arange(n) * 2500).astype(np.uint64)
        ways = [(a, b), (b, a)] if both else [(a, b)]
        parts = []
        for k, (src, dst) in enumerate(ways):
            p = hp.empty(n)
            p["ts"], p["src_ip"], p["dst_ip"] = ts + np.uint64(k * 1000), src.private_ip, dst.private_ip
            p["src_port"], p["dst_port"], p["proto"], p["length"] = 10_000 + np.arange(n) % 64, 5000, UDP, 64
            parts.append(p)
        batch = np.concatenate(parts)
        batch = batch[np.argsort(batch["ts"], kind="stable")]
        net.process(batch)
        conserved(net)
        counts[both] = net.interface_counters(b.primary_interface)["pps_allowance_exceeded"]
    assert hp.ena.instance_type("c5.large").pps == 550_000
    assert counts[True] > 0 and counts[False] == 0


def test_an_instances_interfaces_share_its_allowances() -> None:
    """AWS counts the allowances per instance, over all its interfaces ("pps_allowance_exceeded: The
    number of packets queued or dropped because the bidirectional PPS exceeded the maximum for the
    instance", EC2 User Guide, "Monitor network performance for your EC2 instance"): a c5.large (550
    kpps, an estimate of the catalog's) taking 400 kpps on each of two interfaces is over it, though
    neither interface alone is; 400 kpps to one interface is not. The two interfaces' packets meet
    the allowance in order of time, so each loses a share of what is dropped (not all of it the one
    whose node happens to run second); each interface reports the instance's counters."""
    got = {}
    for both in (True, False):
        net = hp.Network(seed=6)
        vpc = net.add_vpc("10.5.0.0/16")
        sub = vpc.add_subnet("10.5.0.0/24", az="us-east-1a")
        sg = vpc.add_security_group("all", ingress=[("all", None, "10.5.0.0/16")])
        dst = sub.add_instance("c5.large", security_groups=[sg])
        enis = [dst.primary_interface, dst.add_network_interface(security_groups=[sg])]
        senders = [sub.add_instance("c5.large", security_groups=[sg]) for _ in range(2)]
        n = 4000  # 10 ms at 400 kpps to each interface, 64-byte UDP packets
        ts = (np.arange(n) * 2500).astype(np.uint64)
        parts = []
        for k, (src, eni) in enumerate(zip(senders, enis if both else enis[:1])):
            p = hp.empty(n)
            p["ts"], p["src_ip"], p["dst_ip"] = ts + np.uint64(k * 1000), src.private_ip, eni.private_ip
            p["src_port"], p["dst_port"], p["proto"], p["length"] = 10_000 + np.arange(n) % 64, 5000, UDP, 64
            parts.append(p)
        batch = np.concatenate(parts)
        res = net.process(batch[np.argsort(batch["ts"], kind="stable")])
        conserved(net)
        c = net.counters
        dropped = [c.get(f"{e.id}/ena-in", {"pps_allowance": 0})["pps_allowance"] for e in enis]
        reported = [net.interface_counters(e)["pps_allowance_exceeded"] for e in enis]
        assert sum(dropped) == int((res.verdict == V.DROP_PPS_ALLOWANCE).sum())
        got[both] = (dropped, reported)
    (dropped, reported), (alone, alone_reported) = got[True], got[False]
    assert sum(dropped) > 0 and all(d > 0.2 * sum(dropped) for d in dropped)  # queues differ by flow hash
    assert reported[0] == reported[1] >= sum(dropped)
    assert alone == [0, 0] and alone_reported == [0, 0]


def test_packets_from_two_senders_meet_the_receivers_allowance_in_time_order() -> None:
    """Two instances sending 25 kpps each to a third (50 kpps, a tenth of a c5.large's 550 kpps, an
    estimate of the catalog's) lose nothing: the receiver's way in takes both senders' packets in one
    call, in order of time. (Taken one sender after the other, each call spanning the same 320 ms,
    the second sender's packets would all meet the allowance at once, at the first's last time, and
    most would be dropped.)"""
    net = hp.Network(seed=8)
    vpc = net.add_vpc("10.7.0.0/16")
    subs = [vpc.add_subnet(f"10.7.{k}.0/24", az=f"us-east-1{z}") for k, z in enumerate("ab")]
    sg = vpc.add_security_group("all", ingress=[("all", None, "10.7.0.0/16")])
    dst = subs[0].add_instance("c5.large", security_groups=[sg])
    senders = [s.add_instance("c5.large", security_groups=[sg]) for s in subs]  # one in each zone
    n = 8000
    parts = []
    for k, src in enumerate(senders):
        p = hp.empty(n)
        p["ts"], p["src_ip"], p["dst_ip"] = (np.arange(n) * 40_000 + k * 20_000).astype(np.uint64), src.private_ip, dst.private_ip
        p["src_port"], p["dst_port"], p["proto"], p["length"] = 10_000 + np.arange(n) % 64, 5000, UDP, 100
        parts.append(p)
    b = np.concatenate(parts)
    res = net.process(b[np.argsort(b["ts"], kind="stable")])
    conserved(net)
    assert (res.verdict == F).all(), hp.Verdict.summary(res.verdict)


def test_a_branch_interface_rides_its_trunk() -> None:
    """ECS's ENI trunking: a task's branch interface is carried by the instance's trunk ("Associates a
    branch network interface with a trunk network interface", EC2 API Reference,
    AssociateTrunkInterface): its packets pass the trunk's ENA hops (the instance's allowances) and
    its own security groups."""
    net = hp.Network(seed=7)
    vpc = net.add_vpc("10.6.0.0/16")
    sub = vpc.add_subnet("10.6.0.0/24", az="us-east-1a")
    sg = vpc.add_security_group("all", ingress=[("all", None, "10.6.0.0/16")])
    web = vpc.add_security_group("web", ingress=[("udp", 5000, "10.6.0.0/16")])
    inst = sub.add_instance("c5.large", security_groups=[sg])
    trunk = inst.add_network_interface(security_groups=[sg])
    branch = inst.add_network_interface(security_groups=[web], trunk=trunk)
    assert branch.carrier is trunk and trunk.carrier is trunk
    src = sub.add_instance("c5.large", security_groups=[sg])
    n = 100
    p = hp.empty(n)
    p["ts"], p["src_ip"], p["dst_ip"] = (np.arange(n) * 10_000).astype(np.uint64), src.private_ip, branch.private_ip
    p["src_port"], p["proto"], p["length"] = 10_000 + np.arange(n), UDP, 64
    p["dst_port"] = np.where(np.arange(n) % 2 == 0, 5000, 6000)  # the branch's group admits 5000 only
    res = net.process(p)
    conserved(net)
    hops = net.hops
    assert f"{branch.id}/ena-in" not in hops
    assert {hops[h] for h in res.hop[res.verdict == F]} == {f"{trunk.id}/ena-in"}
    assert {hops[h] for h in res.hop[res.verdict != F]} == {f"{branch.id}/sg-in"}
    assert (res.verdict[p["dst_port"] == 6000] == V.DROP_SECURITY_GROUP).all()
    back = hp.empty(1)
    back["src_ip"], back["dst_ip"], back["src_port"], back["dst_port"] = branch.private_ip, src.private_ip, 5000, 10_000
    back["proto"], back["length"], back["ts"] = UDP, 64, 10**7
    out = net.process(back)
    assert out.verdict[0] == F
    assert net.counters[f"{trunk.id}/ena-out"]["packets"] == 1 and net.counters[f"{branch.id}/sg-out"]["packets"] == 1
    with pytest.raises(ValueError, match="trunk must be one of the instance's interfaces"):
        inst.add_network_interface(security_groups=[sg], trunk=src.primary_interface)


def test_bandwidth_beyond_the_region_is_capped() -> None:
    """The catalog's scope ceilings (AWS, "Amazon EC2 instance network bandwidth": "an aggregate
    bandwidth quota of 5 Gbps if the target is not in the same Region, including traffic to AWS
    Direct Connect or the internet", earlier revision; 5 Gbps for c5.9xlarge): 8 Gbps to the internet
    is held to 5 (queued, then dropped), the same 8 Gbps to another instance in the VPC is not."""
    results = {}
    for where in ("internet", "vpc"):
        net = hp.Network(seed=9)
        vpc = net.add_vpc("10.3.0.0/16")
        sub = vpc.add_subnet("10.3.0.0/24", az="us-east-1a")
        sub.route_table.add_route("0.0.0.0/0", vpc.add_internet_gateway())
        sg = vpc.add_security_group("all", ingress=[("all", None, "0.0.0.0/0")])
        src = sub.add_instance("c5.9xlarge", security_groups=[sg], public_ip="198.51.100.90")
        sub.add_instance("c5.9xlarge", security_groups=[sg])  # 10.3.0.5
        n = 60_000  # 1500-byte packets at 8 Gbps over 64 flows (each well under 5 Gbps): 90 ms
        b = hp.empty(n)
        b["ts"] = (np.arange(n) * 1500 * 8 / 8e9 * 1e9).astype(np.uint64)
        b["src_ip"], b["src_port"] = src.private_ip, 10_000 + np.arange(n) % 64
        b["dst_ip"] = hp.ip("192.0.2.10") if where == "internet" else hp.ip("10.3.0.5")
        b["dst_port"], b["proto"], b["length"] = 443, UDP, 1500
        res = net.process(b)
        results[where] = (res, net.interface_counters(src.primary_interface))
    (res, c), (res_vpc, c_vpc) = results["internet"], results["vpc"]
    assert c["bw_out_allowance_exceeded"] > 0 and (res.verdict == V.DROP_BW_OUT_ALLOWANCE).sum() > 0
    delivered = (res.verdict == F).sum() * 1500 * 8 / 0.09
    assert delivered < 5.5e9
    assert c_vpc["bw_out_allowance_exceeded"] == 0 and (res_vpc.verdict == F).all()


def test_out_in_place_gives_the_same_result() -> None:
    b = packets([(k, "10.0.1.4", 40000 + k, INTERNET_HOST, 443, TCP, SYN) for k in range(20)])
    fresh = base()["net"].process(b)
    inplace = b.copy()
    res = base()["net"].process(inplace, out=inplace)
    assert res.packets is inplace
    np.testing.assert_array_equal(res.packets, fresh.packets)
    np.testing.assert_array_equal(res.verdict, fresh.verdict)
    with pytest.raises(TypeError, match="out must be a PACKET_DTYPE array"):
        base()["net"].process(b, out=np.zeros(3))


def test_route_to_a_network_interface_delivers_to_the_appliance() -> None:
    """A route whose target is a network interface (a firewall or NAT instance) delivers the
    traffic to that interface, through its subnet's ACL and its security groups."""
    t = base()
    fw_sg = t["vpc"].add_security_group("fw", ingress=[("all", None, "10.0.0.0/16")])
    fw = t["pub"].add_instance("c5.large", security_groups=[fw_sg])  # 10.0.0.5, after the NAT gateway's .4
    t["app"].route_table.add_route("192.0.2.0/24", fw.primary_interface)
    check(t["net"], packets([(1, "10.0.1.4", 40000, "192.0.2.9", 443, TCP, SYN)]), [(F, f"{fw.primary_interface.id}/ena-in")])
    assert t["net"].explain("10.0.1.4", "192.0.2.9", 443, "tcp").reachable
    other = hp.Network().add_vpc("10.9.0.0/16")
    with pytest.raises(ValueError, match=f"target {fw.primary_interface.id} belongs to"):
        other.add_subnet("10.9.0.0/24", az="us-east-1a").route_table.add_route("0.0.0.0/0", fw.primary_interface)


def test_a_deleted_nat_gateway_leaves_a_blackhole_and_empty_batches_pass() -> None:
    t = base()
    net = t["net"]
    check(net, packets([(1, "10.0.1.4", 40000, INTERNET_HOST, 443, TCP, SYN)]), [(F, "internet")])
    t["nat"].delete()
    check(net, packets([(2, "10.0.1.4", 40001, INTERNET_HOST, 443, TCP, SYN)]), [(V.DROP_BLACKHOLE, "subnet-2/rtb-2")])
    assert net.explain("10.0.1.4", INTERNET_HOST, 443).blocked_by == "subnet-2/rtb-2: route 0.0.0.0/0 of rtb-2 is a blackhole"
    res = net.process(hp.empty(0))
    assert len(res.packets) == len(res.verdict) == len(res.hop) == len(res.delay_ns) == 0


def test_chunks_give_the_same_result_as_one_call() -> None:
    """A trace fed in chunks gives what one call gives (here: requests out through the NAT gateway,
    their replies, and traffic between the instances, interleaved in time)."""
    rng = np.random.default_rng(11)
    rows = []
    for k in range(300):
        ts = 10 * k
        if k % 3 == 0:
            rows.append((ts, "10.0.1.4", 20000 + k, INTERNET_HOST, 443, TCP, SYN))
        elif k % 3 == 1:
            rows.append((ts, "10.0.1.5", 30000 + k, "10.0.1.4", int(rng.choice([22, 443])), TCP, SYN))
        else:
            rows.append((ts, INTERNET_HOST, 443, "203.0.113.10", int(rng.integers(1024, 65535)), TCP, SYNACK))
    b = packets(rows)
    whole = base()["net"].process(b)
    net = base()["net"]
    parts = [net.process(b[i : i + 37]) for i in range(0, len(b), 37)]
    np.testing.assert_array_equal(whole.verdict, np.concatenate([p.verdict for p in parts]))
    np.testing.assert_array_equal(whole.packets, np.concatenate([p.packets for p in parts]))
    np.testing.assert_array_equal(whole.hop, np.concatenate([p.hop for p in parts]))
