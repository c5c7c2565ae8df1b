"""Tests of hyperplane.traffic: seeded synthetic traffic.

Flows are checked against a small pure-Python reference model of a TCP or UDP
conversation (:func:`check_tcp_flow`, :func:`check_udp_flow`), one flow at a time.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperplane import traffic
from hyperplane.packets import PACKET_DTYPE, Batch, Proto, TcpFlag, empty, ip

SYN = int(TcpFlag.SYN)
SYN_ACK = int(TcpFlag.SYN | TcpFlag.ACK)
ACK = int(TcpFlag.ACK)
PSH_ACK = int(TcpFlag.PSH | TcpFlag.ACK)
FIN_ACK = int(TcpFlag.FIN | TcpFlag.ACK)
TCP_SERVER_PORTS = {443, 80, 8080, 8443, 22}
UDP_SERVER_PORTS = {53, 443, 123}
EPHEMERAL = range(32768, 61000)


# ------------------------------------------------------------------------------------------
# Helpers


def flow_ids(batch: Batch) -> np.ndarray:
    """Per packet, an id of its flow: the 5-tuple with both directions mapped together."""
    a = (batch["src_ip"].astype(np.uint64) << np.uint64(16)) | batch["src_port"]
    b = (batch["dst_ip"].astype(np.uint64) << np.uint64(16)) | batch["dst_port"]
    keys = np.empty(len(batch), dtype=[("proto", "u1"), ("lo", "u8"), ("hi", "u8")])
    keys["proto"] = batch["proto"]
    keys["lo"] = np.minimum(a, b)
    keys["hi"] = np.maximum(a, b)
    return np.unique(keys, return_inverse=True)[1].ravel()


def split_flows(batch: Batch) -> list[Batch]:
    """The batch's flows, each in batch order."""
    ids = flow_ids(batch)
    order = np.argsort(ids, kind="stable")
    bounds = np.flatnonzero(np.diff(ids[order])) + 1
    return [batch[group] for group in np.split(order, bounds)] if len(batch) else []


def check_tcp_flow(flow: Batch) -> None:
    """Reference model: handshake, data, client-initiated close; seq as TCP counts it."""
    assert len(flow) >= 6
    client = (int(flow[0]["src_ip"]), int(flow[0]["src_port"]))
    outbound = [(int(p["src_ip"]), int(p["src_port"])) == client for p in flow]
    flags = [int(f) for f in flow["tcp_flags"]]
    assert flags[:3] == [SYN, SYN_ACK, ACK]
    assert outbound[:3] == [True, False, True]
    assert flags[-3:] == [FIN_ACK, FIN_ACK, ACK]
    assert outbound[-3:] == [True, False, True]
    assert set(flags[3:-3]) <= {ACK, PSH_ACK}
    assert int(flow[0]["length"]) == int(flow[1]["length"]) == 60
    next_seq = {True: int(flow[0]["seq"]), False: int(flow[1]["seq"])}
    for packet, out, flag in zip(flow, outbound, flags):
        length = int(packet["length"])
        if flag == ACK:
            assert length == 40  # pure ACKs carry nothing
        if flag == PSH_ACK:
            assert length > 40
        assert int(packet["seq"]) == next_seq[out]
        payload = 0 if flag & SYN else length - 40
        next_seq[out] = (next_seq[out] + payload + bool(flag & SYN) + bool(flag & TcpFlag.FIN)) % 2**32


def check_udp_flow(flow: Batch) -> None:
    """Reference model: the client speaks first; no flags, no seq, room for a UDP header."""
    assert (flow["tcp_flags"] == 0).all()
    assert (flow["seq"] == 0).all()
    assert (flow["length"] >= 28).all()
    client_port = int(flow[0]["src_port"])
    assert client_port in EPHEMERAL
    assert int(flow[0]["dst_port"]) in UDP_SERVER_PORTS


def in_cidr(addresses: np.ndarray, cidr: str) -> bool:
    net = ipaddress.IPv4Network(cidr)
    first = int(net.network_address)
    return bool(((addresses >= first) & (addresses < first + net.num_addresses)).all())


def assert_sorted(batch: Batch) -> None:
    assert batch.dtype == PACKET_DTYPE
    assert (np.diff(batch["ts"].astype(np.int64)) >= 0).all()


def check_synthetic(batch: Batch, flows: int, packets: int, tcp_share: float) -> list[Batch]:
    """Everything :func:`traffic.synthetic` promises about any batch it returns."""
    assert len(batch) == packets
    assert_sorted(batch)
    groups = split_flows(batch)
    assert len(groups) == flows
    tcp = [g for g in groups if g[0]["proto"] == Proto.TCP]
    assert len(tcp) == round(flows * tcp_share)
    assert {int(g[0]["proto"]) for g in groups} <= {Proto.TCP, Proto.UDP}
    for group in groups:
        (check_tcp_flow if group[0]["proto"] == Proto.TCP else check_udp_flow)(group)
    return groups


# ------------------------------------------------------------------------------------------
# synthetic


def test_synthetic_flows_follow_the_reference_model() -> None:
    batch = traffic.synthetic(300, 20_000, seed=11)
    groups = check_synthetic(batch, 300, 20_000, 0.8)
    isns = {int(g[0]["seq"]) for g in groups if g[0]["proto"] == Proto.TCP}
    assert len(isns) > 230  # a fresh ISN per flow (240 TCP flows; collisions are rare)


@settings(max_examples=60, deadline=None)
@given(
    flows=st.integers(0, 40),
    spare=st.integers(0, 300),
    tcp_share=st.sampled_from([0.0, 0.25, 0.8, 1.0]),
    zipf=st.floats(0.0, 4.0),
    seed=st.integers(0, 2**32),
)
def test_synthetic_properties(flows: int, spare: int, tcp_share: float, zipf: float, seed: int) -> None:
    tcp_flows = round(flows * tcp_share)
    packets = 6 * tcp_flows + (flows - tcp_flows) + spare * (flows > 0)
    batch = traffic.synthetic(flows, packets, seed=seed, tcp_share=tcp_share, zipf=zipf)
    check_synthetic(batch, flows, packets, tcp_share)


def test_synthetic_minimum_sizes_exactly() -> None:
    batch = traffic.synthetic(50, 6 * 40 + 10, seed=1)
    groups = check_synthetic(batch, 50, 250, 0.8)
    assert sorted(len(g) for g in groups) == [1] * 10 + [6] * 40


def test_synthetic_is_deterministic() -> None:
    a = traffic.synthetic(200, 5_000, seed=5)
    b = traffic.synthetic(200, 5_000, seed=5)
    c = traffic.synthetic(200, 5_000, seed=6)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_synthetic_addresses_and_ports() -> None:
    clients, servers = "10.1.0.0/20", "203.0.113.0/24"
    batch = traffic.synthetic(400, 8_000, seed=2, clients=clients, servers=servers, server_count=7)
    outbound = np.isin(batch["src_port"], np.arange(32768, 61000))
    assert in_cidr(batch["src_ip"][outbound], clients)
    assert in_cidr(batch["dst_ip"][outbound], servers)
    assert in_cidr(batch["src_ip"][~outbound], servers)
    assert in_cidr(batch["dst_ip"][~outbound], clients)
    assert set(batch["dst_port"][outbound].tolist()) <= TCP_SERVER_PORTS | UDP_SERVER_PORTS
    assert np.isin(batch["src_port"][~outbound], list(TCP_SERVER_PORTS | UDP_SERVER_PORTS)).all()
    tcp_ports = set(batch["dst_port"][outbound & (batch["proto"] == Proto.TCP)].tolist())
    assert tcp_ports <= TCP_SERVER_PORTS and 443 in tcp_ports
    assert len(set(batch["dst_ip"][outbound].tolist())) == 7  # every one of the server_count servers
    # neither the network nor the broadcast address sends
    assert not np.isin(batch["src_ip"], [ip("203.0.113.0"), ip("203.0.113.255"), ip("10.1.0.0")]).any()


def test_synthetic_timestamps_inside_the_run() -> None:
    start = 10**12
    batch = traffic.synthetic(500, 30_000, seed=3, duration_s=0.25, start_ns=start)
    assert_sorted(batch)
    assert int(batch["ts"].min()) >= start
    assert int(batch["ts"].max()) < start + 250_000_000
    # flows start all over the run, not in a clump
    firsts = np.array([int(g[0]["ts"]) for g in split_flows(batch)]) - start
    assert firsts.min() < 25_000_000 and firsts.max() > 225_000_000


def test_synthetic_keeps_protocol_order_when_timestamps_tie() -> None:
    # 1 us for 20,000 packets: most timestamps are shared, only the stable sort keeps order
    batch = traffic.synthetic(100, 20_000, seed=4, duration_s=1e-6)
    assert len(np.unique(batch["ts"])) < 1_000
    assert int(batch["ts"].max()) < 1_000
    check_synthetic(batch, 100, 20_000, 0.8)


def test_synthetic_sizes_are_heavy_tailed() -> None:
    sizes = np.array([len(g) for g in split_flows(traffic.synthetic(1_000, 100_000, seed=8))])
    assert sizes.sum() == 100_000
    assert sizes.max() > 50 * np.median(sizes)
    even = np.array([len(g) for g in split_flows(traffic.synthetic(1_000, 100_000, seed=8, zipf=0.0))])
    assert even.max() < 2 * np.median(even)


def test_synthetic_large_run() -> None:
    batch = traffic.synthetic(100_000, 2_000_000, seed=7)
    assert len(batch) == 2_000_000
    assert_sorted(batch)


def test_synthetic_empty() -> None:
    assert len(traffic.synthetic(0, 0, seed=1)) == 0


# ------------------------------------------------------------------------------------------
# many_to_one


@pytest.mark.parametrize("per", [1, 2, 5])
def test_many_to_one_tcp(per: int) -> None:
    batch = traffic.many_to_one(5_000, seed=1, clients=50, packets_per_connection=per, dst="198.19.0.9")
    assert len(batch) == 5_000 * per
    assert_sorted(batch)
    assert (batch["dst_ip"] == ip("198.19.0.9")).all()
    assert (batch["dst_port"] == 443).all()
    assert (batch["proto"] == Proto.TCP).all()
    assert in_cidr(batch["src_ip"], "10.0.0.0/16")
    assert len(np.unique(batch["src_ip"])) <= 50
    syns = batch[batch["tcp_flags"] == SYN]
    assert len(syns) == 5_000
    assert len(np.unique(syns[["src_ip", "src_port"]])) == 5_000
    assert np.isin(syns["src_port"], np.arange(32768, 61000)).all()
    groups = split_flows(batch)
    assert len(groups) == 5_000
    expected = [SYN, ACK, PSH_ACK, PSH_ACK, PSH_ACK][:per]
    for group in groups[:500]:
        assert group["tcp_flags"].tolist() == expected
        if per > 1:
            assert int(group[1]["seq"]) == (int(group[0]["seq"]) + 1) % 2**32
        if per > 2:
            assert int(group[2]["seq"]) == (int(group[0]["seq"]) + 1) % 2**32
            assert set(group["length"][2:].tolist()) <= {576, 1500}


def test_many_to_one_udp() -> None:
    batch = traffic.many_to_one(
        2_000, seed=2, proto=Proto.UDP, dst_port=53, packets_per_connection=3, client_cidr="172.16.0.0/12"
    )
    assert len(batch) == 6_000
    assert_sorted(batch)
    assert (batch["proto"] == Proto.UDP).all()
    assert (batch["tcp_flags"] == 0).all() and (batch["seq"] == 0).all()
    assert (batch["length"] >= 28).all()
    assert (batch["dst_port"] == 53).all()
    assert in_cidr(batch["src_ip"], "172.16.0.0/12")
    assert len(split_flows(batch)) == 2_000


def test_many_to_one_can_use_every_port_of_one_client() -> None:
    batch = traffic.many_to_one(28_232, seed=3, clients=1)
    assert len(np.unique(batch["src_ip"])) == 1
    assert sorted(batch["src_port"].tolist()) == list(EPHEMERAL)


def test_many_to_one_is_deterministic() -> None:
    a = traffic.many_to_one(1_000, seed=4, packets_per_connection=3)
    assert a.tobytes() == traffic.many_to_one(1_000, seed=4, packets_per_connection=3).tobytes()
    assert a.tobytes() != traffic.many_to_one(1_000, seed=5, packets_per_connection=3).tobytes()


# ------------------------------------------------------------------------------------------
# syn_flood


def test_syn_flood() -> None:
    batch = traffic.syn_flood(
        10_000, seed=1, target="192.0.2.10", dst_port=22, rate_pps=2.5e6, start_ns=500, sources="100.64.0.0/10"
    )
    assert len(batch) == 10_000
    assert (batch["tcp_flags"] == SYN).all()
    assert (batch["proto"] == Proto.TCP).all()
    assert (batch["dst_ip"] == ip("192.0.2.10")).all()
    assert (batch["dst_port"] == 22).all()
    assert in_cidr(batch["src_ip"], "100.64.0.0/10")
    expected = 500 + np.floor(np.arange(10_000) * 1e9 / 2.5e6).astype(np.int64)
    assert batch["ts"].astype(np.int64).tolist() == expected.tolist()
    assert len(np.unique(batch["src_ip"])) > 9_900  # spoofed: nearly every source new


def test_syn_flood_default_sources_spread_over_the_address_space() -> None:
    batch = traffic.syn_flood(5_000, seed=2)
    assert (batch["tcp_flags"] == SYN).all()
    assert (batch["dst_ip"] == ip("198.19.0.1")).all() and (batch["dst_port"] == 80).all()
    top_octets = np.unique(batch["src_ip"] >> 24)
    assert len(top_octets) > 200
    assert np.diff(batch["ts"].astype(np.int64)).tolist() == [1_000] * 4_999


def test_syn_flood_is_deterministic() -> None:
    a = traffic.syn_flood(1_000, seed=3)
    assert a.tobytes() == traffic.syn_flood(1_000, seed=3).tobytes()
    assert a.tobytes() != traffic.syn_flood(1_000, seed=4).tobytes()


# ------------------------------------------------------------------------------------------
# elephant


@pytest.mark.parametrize(("gbps", "length"), [(10.0, 1500), (25.0, 9001), (1.0, 576)])
def test_elephant_rate(gbps: float, length: int) -> None:
    batch = traffic.elephant(20_000, seed=1, gbps=gbps, length=length)
    assert len(batch) == 20_000
    assert_sorted(batch)
    duration_ns = int(batch["ts"][-1]) - int(batch["ts"][0])
    rate = int(batch["length"].sum(dtype=np.uint64)) * 8 / duration_ns
    assert rate == pytest.approx(gbps, rel=0.02)
    data = batch[3:-3]
    assert (data["length"] == length).all()
    assert (data["tcp_flags"] == PSH_ACK).all()
    assert (data["src_ip"] == ip("198.18.0.1")).all() and (data["dst_port"] == 5201).all()


def test_elephant_is_one_tcp_flow() -> None:
    batch = traffic.elephant(50, seed=2, src="10.0.0.1", dst="10.0.0.2", dst_port=9000, start_ns=7)
    groups = split_flows(batch)
    assert len(groups) == 1
    check_tcp_flow(groups[0])
    assert int(batch["ts"][0]) == 7
    assert int(batch[0]["src_ip"]) == ip("10.0.0.1") and int(batch[0]["dst_port"]) == 9000


def test_elephant_is_deterministic() -> None:
    a = traffic.elephant(100, seed=3)
    assert a.tobytes() == traffic.elephant(100, seed=3).tobytes()
    assert a.tobytes() != traffic.elephant(100, seed=4).tobytes()


# ------------------------------------------------------------------------------------------
# merge


def test_merge_orders_by_time_and_keeps_argument_order_on_ties() -> None:
    a = traffic.syn_flood(100, seed=1)
    b = traffic.syn_flood(100, seed=2)  # same timestamps as a
    merged = traffic.merge(a, b)
    assert merged[0::2].tobytes() == a.tobytes()
    assert merged[1::2].tobytes() == b.tobytes()


def test_merge_composes_scenarios() -> None:
    parts = [
        traffic.synthetic(100, 3_000, seed=1),
        traffic.syn_flood(2_000, seed=2, rate_pps=1e4, start_ns=100_000_000),
        traffic.elephant(1_000, seed=3, start_ns=300_000_000),
    ]
    merged = traffic.merge(*parts)
    assert len(merged) == 6_000
    assert_sorted(merged)
    assert sorted(merged.tobytes()[i : i + 32] for i in range(0, len(merged) * 32, 32)) == sorted(
        p.tobytes()[i : i + 32] for p in parts for i in range(0, len(p) * 32, 32)
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 20), max_size=30), max_size=5))
def test_merge_matches_a_stable_sort(stamps: list[list[int]]) -> None:
    batches = []
    for b, times in enumerate(stamps):
        batch = empty(len(times))
        batch["ts"] = times
        batch["mark"] = [b * 100 + i for i in range(len(times))]
        batches.append(batch)
    merged = traffic.merge(*batches)
    reference = sorted(
        ((t, b * 100 + i) for b, times in enumerate(stamps) for i, t in enumerate(times)), key=lambda x: x[0]
    )
    assert list(zip(merged["ts"].tolist(), merged["mark"].tolist())) == reference


def test_merge_of_nothing_and_bad_input() -> None:
    assert len(traffic.merge()) == 0
    assert traffic.merge().dtype == PACKET_DTYPE
    with pytest.raises(TypeError, match=r"batches\[1\]"):
        traffic.merge(empty(1), np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"batches\[0\]"):
        traffic.merge(empty(4).reshape(2, 2))


# ------------------------------------------------------------------------------------------
# Bad arguments name the argument


BAD: list[tuple[Callable[..., Batch], tuple[Any, ...], dict[str, Any], str]] = [
    (traffic.synthetic, (-1, 10), {}, "flows"),
    (traffic.synthetic, (1, -1), {}, "packets"),
    (traffic.synthetic, (10, 59), {"tcp_share": 1.0}, "at least 60 packets"),
    (traffic.synthetic, (10, 49), {}, "at least 50 packets"),
    (traffic.synthetic, (0, 5), {}, "packets"),
    (traffic.synthetic, (1, 6), {"tcp_share": 1.5}, "tcp_share"),
    (traffic.synthetic, (1, 6), {"tcp_share": float("nan")}, "tcp_share"),
    (traffic.synthetic, (1, 6), {"zipf": -0.5}, "zipf"),
    (traffic.synthetic, (1, 6), {"clients": "not a cidr"}, "clients"),
    (traffic.synthetic, (1, 6), {"clients": "198.18.0.1/16"}, "clients"),
    (traffic.synthetic, (1, 6), {"servers": "198.19.0.0/33"}, "servers"),
    (traffic.synthetic, (1, 6), {"server_count": 0}, "server_count"),
    (traffic.synthetic, (1, 6), {"servers": "198.19.0.0/30", "server_count": 3}, "server_count"),
    (traffic.synthetic, (1, 6), {"duration_s": 0}, "duration_s"),
    (traffic.synthetic, (1, 6), {"duration_s": float("inf")}, "duration_s"),
    (traffic.synthetic, (1, 6), {"start_ns": -1}, "start_ns"),
    (traffic.synthetic, (1, 6), {"start_ns": 2**63 - 10}, "start_ns"),
    (traffic.synthetic, (28_233, 30_000), {"clients": "10.0.0.5/32", "tcp_share": 0.0}, "flows"),
    (traffic.many_to_one, (-1,), {}, "connections"),
    (traffic.many_to_one, (28_233,), {"clients": 1}, "connections"),
    (traffic.many_to_one, (1,), {"clients": 0}, "clients"),
    (traffic.many_to_one, (1,), {"clients": 255, "client_cidr": "10.0.0.0/24"}, "clients"),
    (traffic.many_to_one, (1,), {"client_cidr": "10.0.0/8"}, "client_cidr"),
    (traffic.many_to_one, (1,), {"dst": "198.19.0.256"}, "dst"),
    (traffic.many_to_one, (1,), {"dst_port": 65536}, "dst_port"),
    (traffic.many_to_one, (1,), {"dst_port": 0}, "dst_port"),
    (traffic.many_to_one, (1,), {"proto": Proto.ICMP}, "proto"),
    (traffic.many_to_one, (1,), {"packets_per_connection": 0}, "packets_per_connection"),
    (traffic.many_to_one, (1,), {"duration_s": -1.0}, "duration_s"),
    (traffic.syn_flood, (-5,), {}, "packets"),
    (traffic.syn_flood, (5,), {"target": "example.com"}, "target"),
    (traffic.syn_flood, (5,), {"sources": "0.0.0.0/-1"}, "sources"),
    (traffic.syn_flood, (5,), {"rate_pps": 0.0}, "rate_pps"),
    (traffic.syn_flood, (5,), {"dst_port": -1}, "dst_port"),
    (traffic.elephant, (5,), {}, "packets"),
    (traffic.elephant, (10,), {"gbps": 0.0}, "gbps"),
    (traffic.elephant, (10,), {"length": 40}, "length"),
    (traffic.elephant, (10,), {"length": 65536}, "length"),
    (traffic.elephant, (10,), {"src": "1.2.3"}, "src"),
    (traffic.elephant, (10,), {"dst": ""}, "dst"),
]


@pytest.mark.parametrize(("generator", "args", "kwargs", "match"), BAD)
def test_bad_arguments_are_named(
    generator: Callable[..., Batch], args: tuple[Any, ...], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        generator(*args, seed=1, **kwargs)


def test_counts_must_be_integers() -> None:
    with pytest.raises(TypeError, match="flows"):
        traffic.synthetic(1.5, 10, seed=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="packets"):
        traffic.syn_flood(True, seed=1)


def test_seed_is_required() -> None:
    with pytest.raises(TypeError, match="seed"):
        traffic.synthetic(1, 6)  # type: ignore[call-arg]
