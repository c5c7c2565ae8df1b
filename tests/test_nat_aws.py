"""The NAT gateway at each boundary AWS documents, both sides, each test quoting the text it
checks (docs/nat.md has the same quotes). Complements test_nat.py's packet tables."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.nat import NatGateway
from hyperplane.verdict import Verdict

from .test_nat import ACK, CLIENT, FINACK, PSHACK, PUB, RST, SERVER, SYN, SYNACK, TCP, UDP, S, packets, reply_to

F = Verdict.FORWARD


def udp_flows(n: int, t: float, first_port: int = 1024) -> np.ndarray:
    """n UDP flows from distinct private sources to one destination, all at time t."""
    rows = [(t, CLIENT + (i // 60000), first_port + i % 60000, SERVER, 53, UDP, 0) for i in range(n)]
    return packets(rows)


@pytest.mark.parametrize("queues", [1, 4])
def test_timed_out_connections_free_their_place_without_expire(queues: int) -> None:
    """AWS: "up to 55,000 simultaneous connections to each unique destination"; a connection
    "idle for 350 seconds or more ... times out". A timed-out connection is no longer
    simultaneous: its place is free the moment it times out, whatever the table size."""
    nat = NatGateway([PUB], queues=queues, capacity=120_000, seed=1, limits=False)
    _, v = nat.process(udp_flows(55_000, 0))
    held = int((v == F).sum())
    assert held >= 55_000 - 100 * (queues - 1)  # each shard holds ⌈55,000/Q⌉: RSS may leave a few short
    # 1 ns before the timeout: all still held, the destination (each shard's share of it) full.
    _, v = nat.process(udp_flows(1_000, 350 - 1e-9, first_port=62000))
    assert (v == Verdict.DROP_NO_PORT).sum() >= 1_000 - (55_000 - held)
    # At 400 s every old one has been idle > 350 s: new flows find room, with no expire().
    _, v = nat.process(udp_flows(1_000, 400, first_port=62000))
    assert (v == F).all()
    assert nat.metrics["IdleTimeoutCount"].sum() >= held


def test_a_timed_out_connection_frees_its_port() -> None:
    """The port of a timed-out connection is free at once: with one port per destination
    (per_destination=1, one port in the slice taken), a new source gets the same public port."""
    nat = NatGateway([PUB], per_destination=1, seed=2)
    out1, _ = nat.process(udp_flows(1, 0))
    out2, v = nat.process(packets([(350, CLIENT + 1, 999, SERVER, 53, UDP, 0)]))
    assert list(v) == [F] and len(nat) == 1


def handshake_and_close(nat: NatGateway, t: float, sport: int) -> None:
    out, _ = nat.process(packets([(t, CLIENT, sport, SERVER, 80, TCP, SYN)]))
    nat.process(packets([reply_to(out[0], SYNACK)]))
    nat.process(packets([(t + 0.002, CLIENT, sport, SERVER, 80, TCP, ACK), (t + 0.003, CLIENT, sport, SERVER, 80, TCP, FINACK)]))
    nat.process(packets([(t + 0.004, SERVER, 80, int(out[0]["src_ip"]), int(out[0]["src_port"]), TCP, FINACK),
                         (t + 0.005, CLIENT, sport, SERVER, 80, TCP, ACK)]))


def test_graceful_close_is_not_an_idle_timeout() -> None:
    """AWS (IdleTimeoutCount): a connection "transitions to idle if it was not closed gracefully
    and there was no activity for the last 350 seconds". FIN both ways, then silence: 0; an
    open connection left silent: 1."""
    nat = NatGateway([PUB], seed=3)
    handshake_and_close(nat, 0, 40000)
    out, _ = nat.process(packets([(1, CLIENT, 40001, SERVER, 80, TCP, SYN)]))
    nat.process(packets([reply_to(out[0], SYNACK), (1.002, CLIENT, 40001, SERVER, 80, TCP, ACK)]))
    nat.expire(1000 * S)
    assert nat.metrics["IdleTimeoutCount"].sum() == 1 and len(nat) == 0


def test_reset_connection_is_not_an_idle_timeout() -> None:
    nat = NatGateway([PUB], seed=3)
    out, _ = nat.process(packets([(0, CLIENT, 40000, SERVER, 80, TCP, SYN)]))
    nat.process(packets([reply_to(out[0], SYNACK), (0.002, CLIENT, 40000, SERVER, 80, TCP, ACK),
                         (0.003, CLIENT, 40000, SERVER, 80, TCP, RST)]))
    nat.expire(1000 * S)
    assert nat.metrics["IdleTimeoutCount"].sum() == 0


def test_active_connection_count_carries_through_quiet_minutes() -> None:
    """ActiveConnectionCount is a gauge: "the total number of concurrent active TCP connections".
    15 connections idle from ~1 s: 15 in every minute until they time out at ~351 s (minute 5),
    then 0 — in minutes without a packet as in minutes with one."""
    nat = NatGateway([PUB], seed=4)
    for k in range(15):
        out, _ = nat.process(packets([(0.01 * k, CLIENT, 41000 + k, SERVER, 443, TCP, SYN)]))
        nat.process(packets([reply_to(out[0], SYNACK), (0.01 * k + 0.5, CLIENT, 41000 + k, SERVER, 443, TCP, ACK)]))
    nat.process(packets([(61, CLIENT, 5000, SERVER, 53, UDP, 0)]))  # a packet in minute 1 too (UDP: not counted)
    nat.expire(400 * S)
    active = list(nat.metrics["ActiveConnectionCount"])
    assert active[:6] == [15] * 6, active
    assert active[6:] == [0] * (len(active) - 6)
    # And the same when the next packet, not expire(), comes after the quiet minutes.
    nat2 = NatGateway([PUB], seed=4)
    for k in range(3):
        out, _ = nat2.process(packets([(0.01 * k, CLIENT, 41000 + k, SERVER, 443, TCP, SYN)]))
        nat2.process(packets([reply_to(out[0], SYNACK)]))
    nat2.process(packets([(500, CLIENT, 50000, SERVER, 443, TCP, SYN)]))
    active2 = list(nat2.metrics["ActiveConnectionCount"])
    assert active2 == [3, 3, 3, 3, 3, 3, 0, 0, 1], active2


def test_reset_leaves_as_the_rst_sent_back() -> None:
    """AWS: "the NAT gateway returns an RST packet to any resources behind the NAT gateway that
    attempt to continue the connection". The RESET packet that leaves is that RST: addressed
    back to the sender, from the destination it tried to reach, RST set (RFC 793: a segment
    with ACK is answered with a bare RST; one without with RST|ACK)."""
    nat = NatGateway([PUB], seed=5)
    out, v = nat.process(packets([(0, CLIENT, 40000, SERVER, 80, TCP, PSHACK),
                                  (1, CLIENT, 40001, SERVER, 80, TCP, FINACK & ~0x10)]))
    assert list(v) == [Verdict.RESET, Verdict.RESET]
    for rst, sport in zip(out, (40000, 40001)):
        assert (rst["src_ip"], rst["src_port"], rst["dst_ip"], rst["dst_port"]) == (SERVER, 80, CLIENT, sport)
        assert rst["length"] == 40 and rst["proto"] == TCP
    assert out[0]["tcp_flags"] == RST and out[1]["tcp_flags"] == RST | ACK


def test_more_than_eight_addresses_need_saying_so() -> None:
    """AWS: a NAT gateway has at most 8 public IPv4 addresses ("You can associate up to 8")."""
    ips = [f"203.0.113.{i}" for i in range(1, 10)]
    NatGateway(ips[:8], seed=1)
    with pytest.raises(ValueError, match="at most 8"):
        NatGateway(ips, seed=1)
    assert len(NatGateway(ips, beyond_aws=True, seed=1).public_ips) == 9


def steady_udp(pps: float, seconds: float, length: int, flows: int = 4096) -> np.ndarray:
    """UDP at a steady ``pps`` for ``seconds``, ``length`` bytes each, over ``flows`` private sources."""
    n = int(pps * seconds)
    batch = hp.packets.empty(n)
    i = np.arange(n)
    batch["ts"] = (i * (1e9 / pps)).astype(np.uint64)
    batch["src_ip"], batch["src_port"] = CLIENT + (i % flows), 40000
    batch["dst_ip"], batch["dst_port"], batch["proto"], batch["length"] = SERVER, 53, UDP, length
    return batch


def test_gateway_starts_at_one_million_packets_per_second() -> None:
    """AWS: "A NAT gateway can process one million packets per second ... Beyond this limit, a NAT
    gateway will drop packets." Offered 2 Mpps for 0.1 s, a fresh gateway forwards 1 Mpps (and its
    1 ms burst); limits=False forwards everything."""
    trace = steady_udp(2e6, 0.1, 60)
    nat = NatGateway([PUB], queues=1, seed=20)
    _, v = nat.process(trace)
    forwarded = int((v == F).sum())
    assert 100_000 <= forwarded <= 100_000 + 1_000 + 10 and (v[v != F] == Verdict.DROP_RATE_LIMIT).all()
    assert nat.metrics["PacketsDropCount"].sum() == len(v) - forwarded
    _, v = NatGateway([PUB], queues=1, seed=20, limits=False).process(trace)
    assert (v == F).all()


def test_gateway_scales_up_its_bandwidth_under_sustained_load() -> None:
    """AWS: a NAT gateway "supports 5 Gbps of bandwidth and automatically scales up to 100 Gbps".
    How fast is not published; the model (an estimate, docs/nat.md) doubles the rate after a 10 s
    interval loaded to 80 % or more. Offered 6 Gbps of 8,500-byte packets (jumbo frames) for
    20 s: the first 10 s pass at 5 Gbps, the next 10 s whole, at the doubled 10 Gbps."""
    pps = 6e9 / (8 * 8500)
    trace = steady_udp(pps, 20, 8500)
    _, v = NatGateway([PUB], queues=1, seed=21).process(trace)
    first = trace["ts"] < 10 * S
    share = (v[first] == F).mean()
    assert 5 / 6 - 0.01 <= share <= 5 / 6 + 0.01
    assert (v[~first] == F).all()


def test_a_fixed_cap_does_not_scale() -> None:
    """max_gbps= fixes a cap (no scaling): the same 6 Gbps stays at 5 Gbps for all 20 s."""
    pps = 6e9 / (8 * 8500)
    trace = steady_udp(pps, 20, 8500)
    _, v = NatGateway([PUB], queues=1, seed=21, max_gbps=5).process(trace)
    late = trace["ts"] >= 10 * S
    assert 5 / 6 - 0.01 <= (v[late] == F).mean() <= 5 / 6 + 0.01
