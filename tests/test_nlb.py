"""The Network Load Balancer: zones, stickiness, health, fail-open, draining, timeouts, source NAT."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.nlb import NO_TARGET, NetworkLoadBalancer, Target
from hyperplane.verdict import Verdict

from .checks import assert_conserved

S = 1_000_000_000
NODE_A, NODE_B = "198.19.10.1", "198.19.10.2"
ZONES = {"a": NODE_A, "b": NODE_B}
A_TARGETS = [f"10.0.1.{i}:80" for i in range(1, 4)]
B_TARGETS = [f"10.0.2.{i}:80" for i in range(1, 4)]
SYN, ACK, PSHACK, RST = 0x02, 0x10, 0x18, 0x04
F = Verdict.FORWARD


def nlb(**kwargs: object) -> NetworkLoadBalancer:
    options: dict[str, object] = {"seed": 1}
    options.update(kwargs)
    return NetworkLoadBalancer([(80, "tcp"), (53, "udp")], [(t, "a") for t in A_TARGETS] + [(t, "b") for t in B_TARGETS],
                               ZONES, **options)  # type: ignore[arg-type]


def flows(n: int, t: float = 0.0, node: str = NODE_A, flags: int = SYN, proto: int = 6, port: int = 80,
          first_client: int = 0) -> np.ndarray:
    """One packet from each of n clients to a node."""
    p = hp.empty(n)
    k = np.arange(first_client, first_client + n)
    p["ts"] = round(t * S) + k - first_client
    p["src_ip"] = hp.ip("192.0.2.0") + k // 1000
    p["src_port"] = 20_000 + k % 1000
    p["dst_ip"], p["dst_port"], p["proto"], p["tcp_flags"], p["length"] = hp.ip(node), port, proto, flags, 60
    return p


def conserved(lb: NetworkLoadBalancer, verdict: np.ndarray) -> None:
    assert_conserved(lb.counters, verdict)


def addresses(lb: NetworkLoadBalancer, targets: np.ndarray) -> set[str]:
    return {lb.targets[t].address for t in targets if t != NO_TARGET}


def test_a_node_chooses_only_its_zone() -> None:
    lb = nlb()
    out, v, t = lb.process(flows(600))
    assert (v == F).all() and addresses(lb, t) == set(A_TARGETS)
    # The packets reach their target: destination rewritten, client address kept.
    for i in range(0, 600, 97):
        ip, port = lb.targets[t[i]].address.split(":")
        assert (hp.ip_str(out[i]["dst_ip"]), int(out[i]["dst_port"])) == (ip, int(port))
        assert out[i]["src_ip"] == flows(600)[i]["src_ip"]
    conserved(lb, v)


def test_cross_zone_uses_every_target() -> None:
    lb = nlb(cross_zone=True)
    _, v, t = lb.process(flows(1200))
    assert addresses(lb, t) == set(A_TARGETS + B_TARGETS)


def test_flows_are_sticky_across_table_changes() -> None:
    lb = nlb()
    _, _, first = lb.process(flows(600))
    lb.register("10.0.1.9:80", "a")
    lb.set_health(A_TARGETS[0], healthy=True)
    lb.deregister(A_TARGETS[2], at_ns=1 * S)  # draining: its flows continue for 300 s
    _, v, again = lb.process(flows(600, t=2, flags=ACK))
    assert (v == F).all()
    np.testing.assert_array_equal(first, again)
    # New flows see the new table: the drained target gets none, the new one some.
    _, _, fresh = lb.process(flows(600, t=3, first_client=5000))
    assert A_TARGETS[2] not in addresses(lb, fresh) and "10.0.1.9:80" in addresses(lb, fresh)


@pytest.mark.parametrize("termination,expected", [(True, Verdict.RESET), (False, F)])
def test_unhealthy_target_flows(termination: bool, expected: Verdict) -> None:
    lb = nlb(unhealthy_connection_termination=termination)
    _, _, t = lb.process(flows(300))
    sick = lb.targets[t[0]].address
    lb.set_health(sick, healthy=False)
    _, v, _ = lb.process(flows(300, t=1, flags=ACK))
    on_sick = t == t[0]
    assert (v[on_sick] == expected).all() and (v[~on_sick] == F).all()
    if termination:
        assert lb.metrics["TCP_ELB_Reset_Count"].sum() == on_sick.sum()
    _, _, fresh = lb.process(flows(300, t=2, first_client=5000))
    assert sick not in addresses(lb, fresh)


def test_fail_open_when_every_target_is_unhealthy() -> None:
    lb = nlb()
    for t in A_TARGETS:
        lb.set_health(t, healthy=False)
    _, v, t = lb.process(flows(300))
    assert (v == F).all() and addresses(lb, t) == set(A_TARGETS)


@pytest.mark.parametrize("termination,after", [(None, F), (False, F), (True, Verdict.RESET)])
def test_deregistration_drains_then_ends_only_with_termination(termination: bool | None, after: Verdict) -> None:
    """AWS (deregistration_delay.connection_termination.enabled): "Indicates whether the load
    balancer terminates connections at the end of the deregistration timeout ... The default
    is false" for TCP target groups: drained flows continue past the delay unless it is set."""
    lb = nlb(deregistration_connection_termination=termination)
    _, _, t = lb.process(flows(300))
    gone = lb.targets[t[0]].address
    lb.deregister(gone, at_ns=10 * S)
    on_gone = t == t[0]
    _, v, _ = lb.process(flows(300, t=309, flags=ACK))  # within 300 s of deregistration
    assert (v == F).all()
    _, v, _ = lb.process(flows(300, t=311, flags=ACK))  # past it
    assert (v[on_gone] == after).all() and (v[~on_gone] == F).all()


def test_udp_target_groups_terminate_after_deregistration_by_default() -> None:
    """AWS: the attribute's default is true "for new UDP and TCP_UDP target groups"."""
    udp_only = NetworkLoadBalancer([(53, "udp")], [(t, "a") for t in A_TARGETS], ZONES, seed=1)
    assert udp_only.deregistration_connection_termination is True
    assert nlb().deregistration_connection_termination is False


def test_udp_flow_ends_after_120_s() -> None:
    lb = nlb()
    udp = flows(1, proto=17, port=53, flags=0)
    lb.process(udp)
    udp["ts"] = 120 * S - 1  # idle 1 ns short of 120 s: the same flow
    lb.process(udp)
    assert lb.metrics["NewFlowCount"].sum() == 1
    udp["ts"] = 240 * S - 1  # idle for exactly 120 s: a new flow
    _, v, _ = lb.process(udp)
    assert list(v) == [F] and lb.metrics["NewFlowCount"].sum() == 2


def test_tcp_idle_timeout_resets() -> None:
    lb = nlb(tcp_idle_timeout=60)
    lb.process(flows(1))
    _, v, _ = lb.process(flows(1, t=60.5, flags=ACK))
    assert list(v) == [Verdict.RESET]


CASES = [
    ("no listener on the port", flows(1, port=443), Verdict.DROP_NO_LISTENER),
    ("udp on the tcp listener's port", flows(1, proto=17, flags=0), Verdict.DROP_NO_LISTENER),
    ("not a node's address", flows(1, node="198.19.10.9"), Verdict.DROP_NOT_ROUTED),
    ("segment of an unknown flow", flows(1, flags=ACK), Verdict.RESET),
    ("client reset of an unknown flow", flows(1, flags=RST), Verdict.RESET),
]


@pytest.mark.parametrize("description,batch,expected", CASES, ids=[c[0] for c in CASES])
def test_packet_table(description: str, batch: np.ndarray, expected: Verdict) -> None:
    lb = nlb()
    _, v, t = lb.process(batch)
    assert list(v) == [expected] and list(t) == [NO_TARGET]
    conserved(lb, v)


def test_no_target_registered() -> None:
    lb = NetworkLoadBalancer([(80, "tcp")], [], ZONES, seed=1)
    _, v, _ = lb.process(flows(3))
    assert (v == Verdict.DROP_NO_TARGET).all()


def test_syn_sequence_number_enters_the_hash() -> None:
    chosen = set()
    for seq in range(40):
        lb = nlb()
        p = flows(1)
        p["seq"] = seq * 7919
        chosen.add(int(lb.process(p).target[0]))
    assert len(chosen) == 3  # the same tuple reaches every target of the zone


def test_source_nat_without_client_ip_preservation() -> None:
    lb = NetworkLoadBalancer([(80, "tcp")], [("10.0.1.1:80", "a")], {"a": NODE_A}, preserve_client_ip=False,
                             seed=2, capacity=100_000)
    batch = flows(55_001)
    out, v, _ = lb.process(batch)
    assert (v[:55_000] == F).all() and v[55_000] == Verdict.DROP_NO_PORT
    assert lb.metrics["PortAllocationErrorCount"].sum() == 1
    assert (out[:55_000]["src_ip"] == hp.ip(NODE_A)).all()
    assert len(np.unique(out[:55_000]["src_port"])) == 55_000
    # Later packets of a flow keep its source port.
    again, v2, _ = lb.process(flows(10, t=1, flags=ACK))
    assert (v2 == F).all()
    np.testing.assert_array_equal(again["src_port"], out[:10]["src_port"])


def test_balance_across_targets() -> None:
    lb = nlb()
    _, _, t = lb.process(flows(30_000))
    counts = np.bincount(t, minlength=len(lb.targets))[:3]
    assert counts.min() > 0.9 * counts.mean()
    assert lb.flows_per_target()[A_TARGETS[0]] == counts[0]


@pytest.mark.parametrize("queues", [1, 4])
def test_threads_do_not_change_results(queues: int) -> None:
    trace = hp.traffic.merge(flows(5000), flows(5000, t=0.5, flags=ACK), flows(2000, node=NODE_B, first_client=9000))
    runs = []
    for threads in (1, 2):
        lb = nlb(queues=queues, threads=threads, preserve_client_ip=False)
        out, v, t = lb.process(trace)
        runs.append((out, v, t, lb.metrics, lb.counters))
    for x, y in zip(runs[0][:3], runs[1][:3]):
        np.testing.assert_array_equal(x, y)
    assert runs[0][4] == runs[1][4]
    for k in runs[0][3]:
        np.testing.assert_array_equal(runs[0][3][k], runs[1][3][k])


def test_metrics_add_up() -> None:
    lb = nlb()
    batch = hp.traffic.merge(flows(1000), flows(1000, t=90, flags=ACK), flows(10, port=443))
    _, v, _ = lb.process(batch)
    m = lb.metrics
    assert m["NewFlowCount"].sum() == 1000 and len(m["Timestamp"]) == 2
    assert m["ProcessedPackets"].sum() == 2000 and m["ProcessedBytes"].sum() == 2000 * 60
    assert m["ActiveFlowCount"][0] == 1000
    conserved(lb, v)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"zones": {}}, "zones"),
        ({"zones": {"a": "nope"}}, "zones"),
        ({"listeners": []}, "listeners"),
        ({"listeners": [(80, "sctp")]}, "listeners"),
        ({"tcp_idle_timeout": 30}, "tcp_idle_timeout"),
        ({"targets": [("10.0.1.1", "a")]}, "ip:port"),
        ({"targets": [("10.0.1.1:80", "c")]}, "zone"),
        ({"targets": [("10.0.1.1:80", "a"), ("10.0.1.1:80", "a")]}, "already registered"),
        ({"table_size": 1000}, "size"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], match: str) -> None:
    options: dict[str, object] = {"listeners": [(80, "tcp")], "targets": [("10.0.1.1:80", "a")], "zones": {"a": NODE_A}}
    options.update(kwargs)
    with pytest.raises(ValueError, match=match):
        NetworkLoadBalancer(**options)  # type: ignore[arg-type]


def test_bad_target_operations() -> None:
    lb = nlb()
    with pytest.raises(ValueError, match="no target"):
        lb.set_health("10.9.9.9:80", healthy=False)
    lb.deregister(A_TARGETS[0], at_ns=0)
    with pytest.raises(ValueError, match="not registered"):
        lb.deregister(A_TARGETS[0], at_ns=0)


def test_target_objects_carry_weights() -> None:
    lb = NetworkLoadBalancer([(80, "tcp")], [Target("10.0.1.1:80", "a", weight=3), Target("10.0.1.2:80", "a")],
                             {"a": NODE_A}, seed=1)
    _, _, t = lb.process(flows(20_000))
    share = np.bincount(t, minlength=2) / 20_000
    assert share[0] == pytest.approx(0.75, abs=0.03)


def test_a_first_packet_at_the_end_of_time() -> None:
    """The balancer's first packet stamped 2^64 - 1 ns (the NAT fuzzer's find, the same metrics
    code): forwarded and counted; a later batch reaching past 366 days of metrics is refused whole."""
    lb = nlb()
    first = flows(1)
    first["ts"] = 2**64 - 1
    _, v, _ = lb.process(first)
    assert list(v) == [F] and lb.metrics["NewFlowCount"].sum() == 1
    lb2 = nlb()
    lb2.process(flows(1))
    late = flows(1, first_client=5)
    late["ts"] = 367 * 24 * 3600 * 10**9
    before = lb2.counters
    with pytest.raises(ValueError, match="366 days"):
        lb2.process(late)
    assert lb2.counters == before
