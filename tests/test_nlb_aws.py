"""The load balancer at each boundary AWS documents, both sides, each test quoting the text it
checks (docs/nlb.md has the same quotes). Complements test_nlb.py's tables."""

from __future__ import annotations

import numpy as np

import hyperplane as hp
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.verdict import Verdict

from .test_nlb import A_TARGETS, ACK, B_TARGETS, NODE_A, NODE_B, RST, ZONES, F, S, flows, nlb


def test_fail_open_keeps_existing_flows() -> None:
    """AWS: the load balancer "sends a TCP RST for packets received on the client connections
    associated with the target, unless the unhealthy target triggers the load balancer to
    fail open" -- and "If a target group contains only unhealthy registered targets, the load
    balancer routes requests to all those targets"."""
    lb = nlb()
    _, _, t = lb.process(flows(300))
    for target in A_TARGETS + B_TARGETS[:-1]:
        lb.set_health(target, healthy=False)
    # One target still healthy (in zone b): no fail-open, zone a's flows are reset.
    _, v, _ = lb.process(flows(300, t=1, flags=ACK))
    assert (v == Verdict.RESET).all()
    lb2 = nlb()
    lb2.process(flows(300))
    for target in A_TARGETS + B_TARGETS:
        lb2.set_health(target, healthy=False)
    # Every target unhealthy: the group fails open; existing flows go on, new ones spread.
    _, v, _ = lb2.process(flows(300, t=1, flags=ACK))
    assert (v == F).all()
    _, v, t = lb2.process(flows(300, t=2, first_client=5000))
    assert (v == F).all() and {lb2.targets[i].address for i in t} == set(A_TARGETS)


def test_dns_leaves_out_a_zone_without_healthy_targets() -> None:
    """AWS: "If there are no healthy targets in an Availability Zone ... we remove the IP address
    for the corresponding subnet from DNS"; with none healthy anywhere DNS fails open."""
    lb = nlb()
    assert lb.dns_answer() == [NODE_A, NODE_B]
    for target in A_TARGETS:
        lb.set_health(target, healthy=False)
    assert lb.dns_answer() == [NODE_B]
    # New clients resolve through the answer: all of them reach zone b's node and its targets.
    clients = hp.traffic.many_to_one(500, seed=1, clients=200, client_cidr="192.0.2.0/24", dst=lb.dns_answer(), dst_port=80)
    _, v, t = lb.process(clients)
    assert (v == F).all() and {lb.targets[i].address for i in t} <= set(B_TARGETS)
    for target in B_TARGETS:
        lb.set_health(target, healthy=False)
    assert lb.dns_answer() == [NODE_A, NODE_B]


def test_many_to_one_spreads_clients_over_a_dns_answer() -> None:
    pkts = hp.traffic.many_to_one(2_000, seed=2, dst=[NODE_A, NODE_B], dst_port=80)
    per_node = {hp.ip_str(int(a)): int(n) for a, n in zip(*np.unique(pkts["dst_ip"], return_counts=True))}
    assert set(per_node) == {NODE_A, NODE_B} and min(per_node.values()) > 600


def test_reset_leaves_as_the_rst_sent_back() -> None:
    """A segment of a flow the balancer does not know is answered with an RST from the node
    (TCP_ELB_Reset_Count): the packet that leaves is that RST, back to the client."""
    lb = nlb()
    pkts = flows(2, flags=ACK)
    out, v, _ = lb.process(pkts)
    assert (v == Verdict.RESET).all()
    assert (out["src_ip"] == hp.ip(NODE_A)).all() and (out["dst_ip"] == pkts["src_ip"]).all()
    assert (out["dst_port"] == pkts["src_port"]).all() and (out["tcp_flags"] == RST).all()
    assert lb.metrics["TCP_ELB_Reset_Count"].sum() == 2


def test_udp_only_balancer_is_a_udp_target_group() -> None:
    lb = NetworkLoadBalancer([(53, "udp")], [(t, "a") for t in A_TARGETS], ZONES, udp_timeout=600, seed=1)
    udp = flows(10, proto=17, port=53, flags=0)
    _, _, t = lb.process(udp)
    lb.deregister(lb.targets[t[0]].address, at_ns=1 * S)
    udp["ts"] += 302 * S
    _, v, _ = lb.process(udp)
    gone = t == t[0]
    assert (v[gone] == Verdict.DROP_NO_TARGET).all() and (v[~gone] == F).all()
