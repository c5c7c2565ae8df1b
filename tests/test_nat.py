"""The NAT gateway: packet tables of AWS's documented behaviour, limits, metrics, properties.

The port-exhaustion tables send their connections in one instant, far past any rate limit:
they take ``limits=False``, and the rate limits have tests of their own (here and in
test_nat_aws.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane.nat import METRICS, NatGateway
from hyperplane.verdict import Verdict

from .checks import assert_conserved

S = 1_000_000_000
PUB = "203.0.113.10"
CLIENT, SERVER, OTHER = hp.ip("10.0.0.5"), hp.ip("198.51.100.7"), hp.ip("198.51.100.8")
SYN, SYNACK, ACK, PSHACK, FINACK, RST = 0x02, 0x12, 0x10, 0x18, 0x11, 0x04
TCP, UDP, ICMP, GRE = 6, 17, 1, 47
F = Verdict.FORWARD


def packets(rows: Sequence[tuple[float, int, int, int, int, int, int]], flags: int = 0) -> np.ndarray:
    """Rows of (time s, src ip, src port, dst ip, dst port, proto, tcp flags)."""
    out = hp.empty(len(rows))
    for i, (t, src, sport, dst, dport, proto, tcp) in enumerate(rows):
        out[i] = (round(t * S), src, dst, sport, dport, 100, proto, tcp, flags, 0, 0, 0)
    return out


def conserved(nat: NatGateway, verdict: np.ndarray) -> None:
    c = nat.counters
    assert_conserved(c, verdict)
    m = nat.metrics
    assert m["PacketsDropCount"].sum() == c["packets"] - c["forwarded"]


def reply_to(out: np.ndarray, flags: int) -> tuple[float, int, int, int, int, int, int]:
    """The server's answer to a translated packet."""
    return (float(out["ts"]) / S + 0.001, int(out["dst_ip"]), int(out["dst_port"]), int(out["src_ip"]),
            int(out["src_port"]), int(out["proto"]), flags)


def test_outbound_then_reply_is_translated_back() -> None:
    nat = NatGateway([PUB], seed=1)
    out, v = nat.process(packets([(0, CLIENT, 40000, SERVER, 80, TCP, SYN)]))
    assert list(v) == [F]
    assert hp.ip_str(out[0]["src_ip"]) == PUB and 1024 <= out[0]["src_port"] <= 65535
    assert (out[0]["dst_ip"], out[0]["dst_port"]) == (SERVER, 80)
    back, v2 = nat.process(packets([reply_to(out[0], SYNACK)]))
    assert list(v2) == [F]
    assert (back[0]["dst_ip"], back[0]["dst_port"]) == (CLIENT, 40000)
    assert (back[0]["src_ip"], back[0]["src_port"]) == (SERVER, 80)
    (conn,) = nat.connections()
    assert (conn["private_ip"], conn["private_port"], conn["remote_ip"], conn["remote_port"]) == (CLIENT, 40000, SERVER, 80)
    assert (conn["public_ip"], conn["public_port"]) == (hp.ip(PUB), out[0]["src_port"])
    assert hp.TcpState(conn["state"]) == hp.TcpState.SYN_RECV
    conserved(nat, np.concatenate([v, v2]))


CASES = [
    ("unsolicited inbound", [(0, SERVER, 80, hp.ip(PUB), 5000, TCP, SYN)], [Verdict.DROP_UNSOLICITED]),
    ("unsolicited inbound to a low port", [(0, SERVER, 80, hp.ip(PUB), 22, TCP, SYN)], [Verdict.DROP_UNSOLICITED]),
    ("bare ACK from inside with no connection", [(0, CLIENT, 40000, SERVER, 80, TCP, ACK)], [Verdict.RESET]),
    ("GRE is not carried", [(0, CLIENT, 0, SERVER, 0, GRE, 0)], [Verdict.DROP_PROTOCOL]),
    ("neither private source nor public destination", [(0, SERVER, 80, OTHER, 80, TCP, SYN)], [Verdict.DROP_NOT_ROUTED]),
    ("UDP opens with its first packet", [(0, CLIENT, 5353, SERVER, 53, UDP, 0), (1, CLIENT, 5353, SERVER, 53, UDP, 0)], [F, F]),
    ("ICMP other than echo is not carried", [(0, CLIENT, 7, SERVER, 3 << 8, ICMP, 0)], [Verdict.DROP_PROTOCOL]),
    ("inbound echo request is unsolicited", [(0, SERVER, 7, hp.ip(PUB), 8 << 8, ICMP, 0)], [Verdict.DROP_UNSOLICITED]),
    ("ACK before the SYN|ACK is invalid", [(0, CLIENT, 40000, SERVER, 80, TCP, SYN), (0.1, CLIENT, 40000, SERVER, 80, TCP, ACK)],
     [F, Verdict.DROP_INVALID]),
]


@pytest.mark.parametrize("description,rows,expected", CASES, ids=[c[0] for c in CASES])
def test_packet_table(description: str, rows: list[tuple[float, int, int, int, int, int, int]],
                      expected: list[Verdict]) -> None:
    nat = NatGateway([PUB], seed=2)
    _, v = nat.process(packets(rows))
    assert list(v) == expected
    conserved(nat, v)


def test_idle_timeout_then_rst() -> None:
    """AWS: "If a connection that's using a NAT gateway is idle for 350 seconds or more, the
    connection times out" and "the NAT gateway returns an RST packet to any resources behind the
    NAT gateway that attempt to continue the connection (it does not send a FIN packet)"."""
    nat = NatGateway([PUB], seed=3)
    out, _ = nat.process(packets([(0, CLIENT, 40000, SERVER, 80, TCP, SYN)]))
    nat.process(packets([reply_to(out[0], SYNACK), (0.002, CLIENT, 40000, SERVER, 80, TCP, ACK)]))
    # Idle for 1 ns less than 350 s: still alive.
    _, v = nat.process(packets([(350.001999999, CLIENT, 40000, SERVER, 80, TCP, PSHACK)]))
    assert list(v) == [F]
    # Idle for exactly 350 s: timed out, and the client is answered with an RST.
    _, v = nat.process(packets([(700.001999999, CLIENT, 40000, SERVER, 80, TCP, PSHACK)]))
    assert list(v) == [Verdict.RESET]
    m = nat.metrics
    assert m["IdleTimeoutCount"].sum() == 1 and m["ConnectionEstablishedCount"].sum() == 1
    # The minute the connection timed out in (350.001999999 s + 350 s): minute 11.
    assert m["IdleTimeoutCount"][11] == 1
    assert len(nat) == 0
    # A new SYN opens a new connection.
    _, v = nat.process(packets([(701, CLIENT, 40000, SERVER, 80, TCP, SYN)]))
    assert list(v) == [F] and len(nat) == 1


def test_replies_after_timeout_are_unsolicited() -> None:
    nat = NatGateway([PUB], seed=3, idle_timeout=10)
    out, _ = nat.process(packets([(0, CLIENT, 5000, SERVER, 53, UDP, 0)]))
    late = list(reply_to(out[0], 0))
    late[0] = 11.0
    _, v = nat.process(packets([tuple(late)]))  # type: ignore[list-item]
    assert list(v) == [Verdict.DROP_UNSOLICITED] and nat.metrics["IdleTimeoutCount"].sum() == 1


def test_icmp_echo_identifier_is_translated() -> None:
    nat = NatGateway([PUB], seed=4)
    out, v = nat.process(packets([(0, CLIENT, 7, SERVER, 8 << 8, ICMP, 0)]))
    assert list(v) == [F] and hp.ip_str(out[0]["src_ip"]) == PUB
    public_id = int(out[0]["src_port"])
    back, v2 = nat.process(packets([(0.01, SERVER, public_id, hp.ip(PUB), 0 << 8, ICMP, 0)]))
    assert list(v2) == [F]
    assert (back[0]["dst_ip"], back[0]["src_port"]) == (CLIENT, 7)
    # A reply with another identifier matches nothing.
    _, v3 = nat.process(packets([(0.02, SERVER, (public_id + 1) % 65536, hp.ip(PUB), 0, ICMP, 0)]))
    assert list(v3) == [Verdict.DROP_UNSOLICITED]


def test_fragments() -> None:
    nat = NatGateway([PUB], seed=5)
    frag = int(hp.PacketFlag.FRAGMENT)
    rows = [(0, CLIENT, 5000, SERVER, 53, UDP, 0), (0.1, CLIENT, 40000, SERVER, 80, TCP, SYN),
            (0.2, CLIENT, 7, SERVER, 8 << 8, ICMP, 0)]
    out, v = nat.process(packets(rows, flags=frag))
    assert list(v) == [F, Verdict.DROP_FRAGMENT, Verdict.DROP_FRAGMENT]
    assert hp.ip_str(out[0]["src_ip"]) == PUB
    conserved(nat, v)


def many_to_one(n: int, dst: int = SERVER, start: int = 0) -> np.ndarray:
    """n SYNs from distinct private sources to one destination."""
    pkts = hp.empty(n)
    k = np.arange(start, start + n)
    pkts["ts"] = k
    pkts["src_ip"] = hp.ip("10.1.0.0") + k // 50_000
    pkts["src_port"] = 10_000 + k % 50_000
    pkts["dst_ip"], pkts["dst_port"], pkts["proto"], pkts["tcp_flags"], pkts["length"] = dst, 443, TCP, SYN, 60
    return pkts


def test_exhaustion_at_exactly_55000_per_address_and_destination() -> None:
    nat = NatGateway([PUB], seed=6, capacity=100_000, limits=False)
    out, v = nat.process(many_to_one(55_001))
    assert (v[:55_000] == F).all() and v[55_000] == Verdict.DROP_NO_PORT
    m = nat.metrics
    assert m["ErrorPortAllocation"].sum() == 1 and m["ConnectionAttemptCount"].sum() == 55_001
    # Another destination still gets ports: the limit is per destination.
    _, v2 = nat.process(many_to_one(10, dst=OTHER, start=60_000))
    assert (v2 == F).all()
    public = out[:55_000]
    assert len(np.unique(public["src_port"])) == 55_000  # one destination: every port distinct
    conserved(nat, np.concatenate([v, v2]))


def test_ports_repeat_toward_other_destinations() -> None:
    nat = NatGateway([PUB], seed=7, capacity=100_000, limits=False)
    out_a, va = nat.process(many_to_one(40_000, dst=SERVER))
    out_b, vb = nat.process(many_to_one(40_000, dst=OTHER, start=40_000))
    assert (va == F).all() and (vb == F).all()
    # 80,000 connections from one address: more than its 64,512 ports, so ports repeat ...
    assert len(np.intersect1d(out_a["src_port"], out_b["src_port"])) > 0
    # ... but never toward the same destination.
    assert len(np.unique(out_a["src_port"])) == 40_000 and len(np.unique(out_b["src_port"])) == 40_000


@pytest.mark.slow
def test_eight_addresses_give_440000() -> None:
    ips = [f"203.0.113.{10 + i}" for i in range(8)]
    nat = NatGateway(ips, seed=8, capacity=500_000, limits=False)
    out, v = nat.process(many_to_one(440_001))
    assert (v[:440_000] == F).all() and v[440_000] == Verdict.DROP_NO_PORT
    counts = np.unique(out[:440_000]["src_ip"], return_counts=True)[1]
    assert len(counts) == 8 and (counts == 55_000).all()


def test_per_destination_limit_is_shared_by_shards() -> None:
    nat = NatGateway([PUB], seed=9, queues=4, per_destination=1000, capacity=10_000, limits=False)
    _, v = nat.process(many_to_one(2000))
    # Each of the 4 shards enforces a quarter of the limit.
    assert (v == F).sum() <= 1000 and (v == Verdict.DROP_NO_PORT).sum() == 2000 - (v == F).sum()


def test_rate_limit() -> None:
    nat = NatGateway([PUB], seed=10, max_pps=1000)
    rows = [(i * 0.0005, CLIENT, 5000, SERVER, 53, UDP, 0) for i in range(2000)]  # 2,000 pps for 1 s
    _, v = nat.process(packets(rows))
    forwarded = int((v == F).sum())
    assert 990 <= forwarded <= 1010 and (v[v != F] == Verdict.DROP_RATE_LIMIT).all()
    conserved(nat, v)


def test_metrics_add_up_to_the_packets() -> None:
    trace = hp.traffic.merge(
        hp.traffic.many_to_one(3000, seed=1, packets_per_connection=3, duration_s=150),
        hp.traffic.syn_flood(500, seed=2, target=PUB, rate_pps=5),
    )
    nat = NatGateway([PUB], seed=11)
    out, v = nat.process(trace)
    m = nat.metrics
    assert set(METRICS) <= set(m) and len(m["Timestamp"]) == 3  # 150 s: minutes 0, 1, 2
    outbound = np.isin(trace["src_ip"] >> 16, [hp.ip("10.0.0.0") >> 16])
    assert m["PacketsInFromSource"].sum() == outbound.sum()
    assert m["PacketsInFromDestination"].sum() == (~outbound).sum()
    assert m["PacketsOutToDestination"].sum() == ((v == F) & outbound).sum()
    assert m["BytesInFromSource"].sum() == trace["length"][outbound].sum()
    assert m["BytesOutToDestination"].sum() == trace["length"][(v == F) & outbound].sum()
    assert m["PacketsDropCount"].sum() == (v != F).sum()
    per_minute = np.bincount(trace["ts"][outbound] // (60 * S), minlength=3)
    np.testing.assert_array_equal(m["PacketsInFromSource"], per_minute)
    conserved(nat, v)


@pytest.mark.parametrize("queues", [1, 4])
def test_threads_do_not_change_results(queues: int) -> None:
    trace = hp.traffic.many_to_one(20_000, seed=12, clients=300, packets_per_connection=2)
    runs = []
    for threads in (1, 2):
        nat = NatGateway([PUB, "203.0.113.11"], seed=13, queues=queues, threads=threads)
        out, v = nat.process(trace)
        conns = np.sort(nat.connections(), order=["private_ip", "private_port"])
        runs.append((out, v, conns, nat.metrics, nat.counters))
    a, b = runs
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert a[4] == b[4]
    for k in a[3]:
        np.testing.assert_array_equal(a[3][k], b[3][k])


def test_out_may_be_the_batch() -> None:
    batch = packets([(0, CLIENT, 40000, SERVER, 80, TCP, SYN)])
    nat = NatGateway([PUB], seed=14)
    out, _ = nat.process(batch, out=batch)
    assert out is batch and hp.ip_str(batch[0]["src_ip"]) == PUB


@settings(max_examples=40, deadline=None)
@given(
    flows=st.lists(st.tuples(st.integers(0, 20), st.integers(1024, 1100), st.integers(0, 2), st.sampled_from([TCP, UDP])),
                   min_size=1, max_size=80, unique=True),
    queues=st.sampled_from([1, 2, 4]),
)
def test_translation_is_unique_and_inverted_by_replies(flows: list[tuple[int, int, int, int]], queues: int) -> None:
    nat = NatGateway([PUB, "203.0.113.11"], seed=15, queues=queues, per_destination=30)
    rows = [(i * 0.001, CLIENT + c, port, SERVER + d, 443, proto, SYN if proto == TCP else 0)
            for i, (c, port, d, proto) in enumerate(flows)]
    out, v = nat.process(packets(rows))
    conns = nat.connections()
    public = {(int(c["public_ip"]), int(c["public_port"]), int(c["remote_ip"]), int(c["proto"])) for c in conns}
    assert len(public) == len(conns)  # no two live connections share a public tuple
    replies = [reply_to(o, SYNACK if o["proto"] == TCP else 0) for o, verdict in zip(out, v) if verdict == F]
    back, v2 = nat.process(packets([(1 + i * 0.001, *r[1:]) for i, r in enumerate(replies)]))
    assert (v2 == F).all()
    sent = packets(rows)[v == F]
    np.testing.assert_array_equal(back["dst_ip"], sent["src_ip"])
    np.testing.assert_array_equal(back["dst_port"], sent["src_port"])
    np.testing.assert_array_equal(back["src_ip"], sent["dst_ip"])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"public_ips": []}, "public_ips"),
        ({"public_ips": "203.0.113.1"}, "public_ips"),
        ({"public_ips": ["300.1.1.1"]}, "public_ips"),
        ({"public_ips": [PUB, PUB]}, "public_ips"),
        ({"public_ips": [PUB], "private_cidrs": ["10.0.0.0/33"]}, "private_cidrs"),
        ({"public_ips": ["10.0.0.1"]}, "private_cidrs"),
        ({"public_ips": [PUB], "capacity": 0}, "capacity"),
        ({"public_ips": [PUB], "queues": 0}, "queues"),
        ({"public_ips": [PUB], "per_destination": 70_000}, "per_destination"),
        ({"public_ips": [PUB], "idle_timeout": 0}, "idle_timeout"),
        ({"public_ips": [PUB], "max_pps": -1}, "max_pps"),
        ({"public_ips": [PUB], "threads": 0}, "threads"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NatGateway(**kwargs)  # type: ignore[arg-type]


def test_bad_arrays() -> None:
    nat = NatGateway([PUB])
    with pytest.raises(TypeError, match="batch"):
        nat.process(np.zeros(4, dtype=np.uint64))
    readonly = hp.empty(2)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        nat.process(hp.empty(2), out=readonly)
    with pytest.raises(ValueError, match="out must hold 2"):
        nat.process(hp.empty(2), out=hp.empty(3))


def test_a_first_packet_at_the_end_of_time() -> None:
    """A gateway whose first packet is stamped 2^64 - 1 ns (found by the fuzzer: its metrics had
    no row yet, and the packet passed for one inside the current minute)."""
    nat = NatGateway([PUB], seed=30)
    pkts = packets([(0, CLIENT, 5000, SERVER, 53, UDP, 0)])
    pkts["ts"] = 2**64 - 1
    _, v = nat.process(pkts)
    assert list(v) == [F] and nat.metrics["PacketsOutToDestination"].sum() == 1
