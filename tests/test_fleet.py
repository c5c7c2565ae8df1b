"""The Hyperplane fleet: shuffle sharding, failover with and without replication, deployments,
canaries, availability and bad configuration (docs/fleet.md).

AWS texts the behaviour follows are quoted in docs/fleet.md; the ones a test rests on are
repeated in its docstring."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.fleet import Change, Fleet, hypergeometric_share
from hyperplane.verdict import Verdict

S = 10**9
SYN, SYNACK, ACK = 0x02, 0x12, 0x10


def small(replication: bool = True, **kw: Any) -> Fleet:
    args: dict[str, Any] = {"azs": ["a", "b", "c"], "cells_per_az": 2, "nodes_per_cell": 16, "shard_size": 4,
                            "replication": replication, "seed": 1, "capacity_per_slot": 2048} | kw
    return Fleet(**args)


def nat_flows(n: int, t: int, flags: int, net: str = "10.0.0.0") -> np.ndarray:
    b = hp.empty(n)
    b["ts"] = t + np.arange(n)
    b["src_ip"] = hp.ip(net) + 1 + np.arange(n) % 200
    b["src_port"] = 20000 + np.arange(n)
    b["dst_ip"], b["dst_port"], b["proto"], b["tcp_flags"], b["length"] = hp.ip("198.51.100.7"), 443, 6, flags, 60
    return b


def answer(sent: np.ndarray, flags: int, dt: int) -> np.ndarray:
    r = sent.copy()
    r["src_ip"], r["dst_ip"] = sent["dst_ip"], sent["src_ip"]
    r["src_port"], r["dst_port"] = sent["dst_port"], sent["src_port"]
    r["tcp_flags"], r["ts"] = flags, sent["ts"] + dt
    return r


def established(fleet: Fleet, n: int = 2000) -> tuple[hp.fleet.Tenant, np.ndarray]:
    gw = fleet.add_tenant("nat-gateway", az="a", public_ips=["203.0.113.10"], private_cidrs=["10.0.0.0/16"])
    out = fleet.process(nat_flows(n, 0, SYN))
    assert (out.verdict == Verdict.FORWARD).all()
    assert (fleet.process(answer(out.packets, SYNACK, 10**6)).verdict == Verdict.FORWARD).all()
    return gw, out.packets


def test_bad_configuration_names_the_argument() -> None:
    with pytest.raises(ValueError, match="shard_size"):
        small(shard_size=17)
    with pytest.raises(ValueError, match="kind"):
        small().add_tenant("nat-instance", az="a")
    with pytest.raises(ValueError, match="az"):
        small().add_tenant("efs", az="z", address="10.2.0.9")
    with pytest.raises(ValueError, match="azs"):
        Fleet(azs="abc", cells_per_az=1, nodes_per_cell=4, shard_size=2)
    with pytest.raises(ValueError, match="instance_type"):
        small(instance_type="q9.huge")
    with pytest.raises(ValueError, match="public_ips"):
        small().add_tenant("nat-gateway", az="a", private_cidrs=["10.0.0.0/16"])
    f = small()
    f.add_tenant("nat-gateway", az="a", public_ips=["203.0.113.10"], private_cidrs=["10.0.0.0/16"])
    with pytest.raises(ValueError, match="private_cidrs"):
        f.add_tenant("nat-gateway", az="b", public_ips=["203.0.113.11"], private_cidrs=["10.0.128.0/17"])


def test_shards_overlap_at_most_half_a_shard_and_match_the_hypergeometric_law() -> None:
    """AWS: with shuffle shards of 5 among 100 nodes, 23% of pairs of customers share a node
    and under 2% two (docs/fleet.md); our bound keeps every pair at most half a shard."""
    assert hypergeometric_share(100, 5, 1) == pytest.approx(0.2304, abs=1e-4)
    assert hypergeometric_share(100, 5, 2) == pytest.approx(0.0190, abs=1e-4)
    f = Fleet(azs=["a"], cells_per_az=1, nodes_per_cell=100, shard_size=5, seed=2, capacity_per_slot=8)
    for k in range(300):
        f.add_tenant("efs", az="a", address=f"10.2.{k // 250}.{k % 250 + 1}")
    check = f.overlap_check()
    assert check["max_overlap"] <= 2 == check["bound"]
    assert check["share_1"] == pytest.approx(check["expected_1"], abs=0.015)
    assert check["share_2"] == pytest.approx(check["expected_2"], abs=0.006)
    a, b = f.tenants[0], f.tenants[1]
    assert len(f.overlap(a, b)) <= 2
    poison = f.blast_radius(poison=a)
    assert poison["tenants_down"] == 0 and poison["tenants_touched"] > 0
    one = f.blast_radius(node=a.nodes[0])
    assert one["tenants_down"] == 0 and one["tenants_touched"] >= 1


@pytest.mark.parametrize("replication", [True, False])
def test_failover_counts_exactly_the_failed_nodes_connections(replication: bool) -> None:
    """With replication the failed node's connections continue on their secondaries with the same
    translation; without, they are lost, and a NAT gateway answers their next segment with an RST
    (AWS: a packet on a connection it does not hold gets "a TCP RST packet")."""
    f = small(replication)
    gw, sent = established(f)
    victim = gw.nodes[1]
    held = int(f.connections_per_node()[f.node_of(victim)])
    assert held > 0
    report = f.fail_node(victim, at_ns=2 * S)
    assert (report.moved, report.lost) == ((held, 0) if replication else (0, held))
    assert report.slots == 1 and report.down == []
    later = nat_flows(2000, 3 * S, ACK)
    res = f.process(later)
    if replication:
        assert (res.verdict == Verdict.FORWARD).all()
        np.testing.assert_array_equal(res.packets["src_port"], sent["src_port"])
        np.testing.assert_array_equal(res.packets["src_ip"], sent["src_ip"])
        back = f.process(answer(res.packets, ACK, 10**6))
        assert (back.verdict == Verdict.FORWARD).all()
        np.testing.assert_array_equal(back.packets["dst_port"], later["src_port"])
    else:
        assert int((res.verdict == Verdict.RESET).sum()) == held
        assert int((res.verdict == Verdict.FORWARD).sum()) == 2000 - held
    assert victim not in set(f.nodes[k].name for k in res.node[res.node >= 0])


def test_nlb_flows_keep_their_targets_on_failover() -> None:
    f = small(True)
    lb = f.add_tenant("nlb", az="b", address="192.0.2.10", listeners=[(443, "tcp")],
                      targets=[f"10.1.0.{k}:443" for k in range(1, 9)])
    b = hp.empty(1000)
    b["ts"], b["src_ip"], b["src_port"] = np.arange(1000), hp.ip("203.0.113.5") + np.arange(1000) % 7, 1024 + np.arange(1000)
    b["dst_ip"], b["dst_port"], b["proto"], b["tcp_flags"] = hp.ip("192.0.2.10"), 443, 6, SYN
    first = f.process(b)
    report = f.fail_node(lb.nodes[2])
    assert report.moved == int((first.node == f.node_of(lb.nodes[2])).sum())
    b["ts"] += S
    b["tcp_flags"] = ACK
    again = f.process(b)
    assert (again.verdict == Verdict.FORWARD).all()
    np.testing.assert_array_equal(again.packets["dst_ip"], first.packets["dst_ip"])


def test_an_az_failure_takes_its_zonal_tenants_down_and_no_other() -> None:
    f = small(True)
    established(f, 200)
    efs = f.add_tenant("efs", az="b", address="10.2.0.9")
    reports = f.fail_az("a")
    assert len(reports) == 32 and all(not n.up for n in f.nodes if n.az == "a")
    assert f.tenant_down(f.tenants[0]) and not f.tenant_down(efs)
    res = f.process(nat_flows(200, 5 * S, ACK))
    assert (res.verdict == Verdict.DROP_NODE_DOWN).all()
    f.repair_node("a/0/0")


def test_cross_az_traffic_is_an_isolation_violation() -> None:
    f = small(True)
    established(f, 100)
    res = f.process(nat_flows(100, 2 * S, ACK), from_az="b")
    assert res.cross_az.all() and f.isolation_violations == 100
    minute = f.canary(3 * S)
    assert minute["isolation_violations"] == 100 and minute["azs"]["a"]["failed"] == 0
    assert sum(a["sent"] for a in minute["azs"].values()) == 8


def test_a_bad_change_is_caught_in_the_first_wave_and_rolled_back() -> None:
    """AWS deploys Hyperplane in stages (one node, then more), watching health and rolling back."""
    f = small(True)
    established(f, 500)
    for k in range(30):
        f.add_tenant("efs", az=["a", "b", "c"][k % 3], address=f"10.2.0.{k + 1}")
    bad = f.deploy(Change("bad", drop_fraction=0.2), waves=["one-node", "one-cell", "one-az", "rest"], bake_s=120,
                   start_ns=10 * S)
    assert bad.rolled_back and len(bad.waves) == 1 and not bad.waves[0].passed
    assert bad.exposed["nodes"] == 1 < bad.all_at_once["nodes"] == 96
    assert bad.exposed["tenants"] < bad.all_at_once["tenants"] == 31
    assert not f.fault.any()
    good = f.deploy(Change("good"), bake_s=60, start_ns=bad.finished_ns)
    assert not good.rolled_back and [w.name for w in good.waves] == ["one-node", "one-cell", "one-az", "rest"]
    assert [len(w.nodes) for w in good.waves] == [1, 16, 32, 96] and all(w.passed for w in good.waves)
    with pytest.raises(ValueError, match="waves"):
        f.deploy(Change("x"), waves=["everything"], bake_s=60)


def test_availability_is_reproducible_by_seed_and_replication_and_shards_help() -> None:
    """AWS commits to 99.99% a month for NAT gateways (4.3 minutes in 30 days)."""
    f = small(True, capacity_per_slot=8)
    for k in range(60):
        f.add_tenant("efs", az=["a", "b", "c"][k % 3], address=f"10.2.0.{k + 1}")
    kw: dict[str, Any] = {"days": 30, "node_mtbf_h": 24 * 30, "node_mttr_min": 30, "poison_per_month": 2,
                          "az_outages": []}
    a, b = f.availability(seed=5, **kw), f.availability(seed=5, **kw)
    np.testing.assert_array_equal(a["fleet"]["minutes_lost"], b["fleet"]["minutes_lost"])
    assert a["fleet"]["budget_minutes"] == pytest.approx(4.32)
    c = f.availability(seed=6, **kw)
    assert not np.array_equal(a["fleet"]["minutes_lost"], c["fleet"]["minutes_lost"])
    rep, norep = a["shuffle_sharding/replication"], a["shuffle_sharding/no_replication"]
    assert rep["mean_minutes"] < norep["mean_minutes"]
    if a["poison_events"]:
        assert a["cell_sharding/replication"]["mean_minutes"] > rep["mean_minutes"]
    with pytest.raises(ValueError, match="node_mtbf_h"):
        f.availability(days=30, node_mtbf_h=0, node_mttr_min=30, seed=1)


def test_report_counts_what_the_fleet_holds() -> None:
    f = small(True)
    established(f, 300)
    r = f.report()
    assert r["nodes"] == 96 and r["tenants"] == 1 and r["connections"] == 300
    assert sum(r["tenants_per_node"].values()) == 4
    assert len(set(r["config_loop_bytes_per_s"])) == 1
