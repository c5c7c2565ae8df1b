"""The shipped scenarios, run on reduced sizes, answer their questions; runs are replayable and chunk-free.

Each scenario's test reads the report (not the stages) and checks what the scenario exists to
show, against AWS's documented behaviour quoted in the scenario file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperplane import traffic
from hyperplane.scenario import Run, Scenario, ScenarioError
from hyperplane.scenario.kinds import KINDS
from hyperplane.scenario.seeds import derive
from hyperplane.scenario.traffic import windows
from hyperplane.verdict import Verdict

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"


def load(name: str, **values: object) -> Scenario:
    sc = Scenario.load(SCENARIOS / f"{name}.toml")
    return sc.with_values(values) if values else sc


def test_nat_port_exhaustion_one_vs_eight_addresses() -> None:
    """AWS: "A NAT gateway can support up to 55,000 simultaneous connections to each unique destination"
    per public address -- here 2,000 per address (per_destination) on 10,000 connections."""
    base = dict(connections="10k", clients=10000, per_destination=2000)
    one = load("nat_port_exhaustion", public_ips=1, **base).run()
    eight = load("nat_port_exhaustion", public_ips=8, **base).run()
    assert one.data["packets"] == eight.data["packets"] == 10_000
    assert one.verdicts == {"FORWARD": 2000, "DROP_NO_PORT": 8000}
    assert eight.verdicts == {"FORWARD": 10_000}
    assert sum(one.data["metrics"]["ErrorPortAllocation"]) == 8000  # CloudWatch's name for the same drops
    assert one.data["balance"]["values"] == {"203.0.113.10": 2000}
    assert sum(eight.data["balance"]["values"].values()) == 10_000 and len(eight.data["balance"]["values"]) == 8
    assert one.data["series"]["verdicts"]["DROP_NO_PORT"][0] == 0  # the first second fits; exhaustion comes later
    assert sum(one.data["series"]["verdicts"]["DROP_NO_PORT"]) == 8000


def test_nlb_target_failure_health_check_timing() -> None:
    """AWS: unhealthy after 2 failed checks 30 s apart, healthy after 5 passes; flows of an unhealthy
    target are reset. Down from 60 s to 200 s: marked down at 90 s, up again at 330 s."""
    run = load("nlb_target_failure").run()  # 1.4M packets, under a second
    events = [(e["at_s"], e["args"]["healthy"]) for e in run.data["events"]]
    assert events == [(90.0, False), (330.0, True)]
    assert run.ok, run.data["checks"]
    assert run.data["counters"]["sent_to_down_target"] > 0  # 60 s to 90 s: still chosen, nobody answered
    assert run.verdicts.get("RESET", 0) > 0
    after_down, after_up = (s["flows"]["10.0.2.11:443"] for s in run.data["snapshots"])
    assert after_up <= after_down  # no new flow chose it while it was unhealthy (reset ones left)
    assert run.data["balance"]["values"]["10.0.2.11:443"] > after_up  # and new flows did once it was back
    resets = run.data["series"]["verdicts"]["RESET"]
    t = run.data["series"]["t_s"]
    assert all(r == 0 for r, end in zip(resets, t) if end <= 90)


@pytest.mark.parametrize(("length", "binding"), [(46, "DROP_PPS_ALLOWANCE"), (1500, "DROP_BW_IN_ALLOWANCE")])
def test_c3_vs_c5_which_allowance_binds(length: int, binding: str) -> None:
    """AWS: packets over the pps allowance or over the bandwidth allowance are queued, then dropped;
    at 64-byte frames the packet rate binds first, at 1500 bytes the bandwidth."""
    runs = {t: load("c3_vs_c5", instance_type=t, length=length, packets="480k", duration="400ms").run()
            for t in ("c3.xlarge", "c5.xlarge")}
    for run in runs.values():
        drops = {k: v for k, v in run.verdicts.items() if k != "FORWARD"}
        assert max(drops, key=drops.__getitem__) == binding, drops
    assert runs["c5.xlarge"].verdicts["FORWARD"] > runs["c3.xlarge"].verdicts["FORWARD"]
    counter = {"DROP_PPS_ALLOWANCE": "pps_allowance_exceeded", "DROP_BW_IN_ALLOWANCE": "bw_in_allowance_exceeded"}[binding]
    assert runs["c3.xlarge"].data["counters"][counter] > 0


def test_syn_flood_fills_the_conntrack_allowance() -> None:
    """AWS: conntrack_allowance_exceeded counts "packets dropped because connection tracking exceeded
    the maximum for the instance and new connections could not be established"."""
    run = load("syn_flood", conntrack=20000, packets="60k", flows="3k", rate="20kpps").run()
    assert run.ok
    exceeded = run.data["series"]["counters"]["conntrack_allowance_exceeded"]
    t = run.data["series"]["t_s"]
    assert all(x == 0 for x, end in zip(exceeded, t) if end <= 5)  # nothing before the flood starts at 5 s
    assert sum(exceeded) == run.data["counters"]["conntrack_allowance_exceeded"] > 0


def test_vpc_egress_counts_every_hop_and_the_zones_crossed() -> None:
    """AWS: "If you have resources in multiple Availability Zones and they share one NAT gateway, and
    if the NAT gateway's Availability Zone is down, resources in the other Availability Zones lose
    internet access. To improve resiliency, create a NAT gateway in each Availability Zone"."""
    run = Scenario.load(SCENARIOS / "vpc_nat_egress.toml").with_values(
        {"traffic.0.connections": "2k", "traffic.1.connections": "2k", "expect.0.min": 0}).run()
    assert run.ok and run.verdicts == {"FORWARD": 4000}
    counters = run.data["counters"]
    hops = {key.rsplit(".", 1)[0] for key in counters}
    for hop in hops:  # packets in = forwarded + dropped by reason, at every hop
        c = {k.rsplit(".", 1)[1]: v for k, v in counters.items() if k.rsplit(".", 1)[0] == hop}
        assert c["packets"] == sum(v for k, v in c.items() if k != "packets"), hop
    assert counters["nat-a.forwarded"] == counters["igw-1.forwarded"] == 4000
    assert run.data["cross_az"] == [{"from": "us-east-1b", "to": "us-east-1a", "packets": 2000, "bytes": 120_000}]
    assert any("NAT gateway per zone" in a for a in run.data["advice"])


def test_a_revoked_rule_cuts_new_connections_from_its_time() -> None:
    """AWS: "If you remove a security group rule, ... traffic that is not tracked is stopped";
    new connections are judged by the rules alone. The default group's egress to everywhere is
    revoked at 30 s: from then, SYNs out are dropped at the security group -- all but those that
    reuse a tuple still tracked (one client's ephemeral ports come round again)."""
    doc = load("vpc_nat_egress").document
    doc["traffic"] = doc["traffic"][:1]
    doc["traffic"][0]["connections"] = "6k"
    doc["expect"] = []
    doc["events"] = [{"at": "30s", "action": "revoke_egress", "group": "default", "protocol": "all",
                      "ports": [0, 65535], "peer": "0.0.0.0/0"}]
    run = Scenario.from_dict(doc, directory=str(SCENARIOS)).run()
    series, t = run.data["series"]["verdicts"], run.data["series"]["t_s"]
    before = sum(f for f, end in zip(series["FORWARD"], t) if end <= 30)
    after = [(f, d) for f, d, end in zip(series["FORWARD"], series["DROP_SECURITY_GROUP"], t) if end > 30]
    assert before == 3000 and all(d == 0 for d, end in zip(series["DROP_SECURITY_GROUP"], t) if end <= 30)
    assert sum(d for _, d in after) > 0.85 * sum(f + d for f, d in after)
    assert run.data["counters"]["eni-1/sg-out.security_group"] == run.verdicts["DROP_SECURITY_GROUP"]


def test_a_topology_file_is_checked_when_the_scenario_is_read(tmp_path: Path) -> None:
    (tmp_path / "net.toml").write_text('[[Vpcs]]\nVpcId = "vpc-1"\nCidrBlock = "10.0.0.0/8"\n')
    text = (SCENARIOS / "vpc_nat_egress.toml").read_text().replace('"../networks/vpc.toml"', '"net.toml"')
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(ScenarioError, match=r"s\.toml:\d+: network\.topology: .*net\.toml: .*/16 to /28"):
        Scenario.load(tmp_path / "s.toml")
    (tmp_path / "net.toml").unlink()
    with pytest.raises(ScenarioError, match=r"network\.topology: cannot read .*net\.toml"):
        Scenario.load(tmp_path / "s.toml")


def _stage_state(run: Run) -> dict[str, object]:
    return {k: run.data[k] for k in ("verdicts", "counters", "metrics", "balance", "packets") if k in run.data}


@pytest.mark.parametrize("name", ["nat_port_exhaustion", "syn_flood"])
def test_windows_give_the_result_of_one_batch(name: str) -> None:
    """The runner feeds a window at a time; the same traffic in one call gives the same verdicts and state."""
    sc = load(name, **({"connections": "20k", "clients": 20000} if name == "nat_port_exhaustion" else
                       {"packets": "60k", "flows": "3k", "rate": "5kpps"}))
    run = sc.run(seed=7)
    kind = KINDS[sc.kind](sc.stage, derive(7, "stage"))
    batch = traffic.merge(*(b for _, _, b in windows(sc.sources, sc.duration_ns, sc.window_ns, derive(7, "traffic"),
                                                      kind.resolve)))
    verdict = kind.process(batch)
    totals = np.bincount(verdict, minlength=len(Verdict))
    assert {Verdict(v).name: int(n) for v, n in enumerate(totals) if n or v == 0} == run.verdicts
    assert kind.state()["counters"] == run.data["counters"]
    if "metrics" in run.data:
        assert {k: [int(x) for x in v] for k, v in kind.state()["metrics"].items()} == run.data["metrics"]


def test_a_drawn_seed_is_shown_and_replays_the_run() -> None:
    document = load("syn_flood").document
    del document["scenario"]["seed"]
    sc = Scenario.from_dict(document).with_values({"packets": "20k", "flows": "1k", "rate": "2kpps", "duration": "8s"})
    first, second = sc.run(), sc.run()
    assert first.data["seed_drawn"] and first.seed != second.seed
    again = sc.run(seed=first.seed)
    assert _stage_state(again) == _stage_state(first)
    assert not again.data["seed_drawn"]


def test_save_and_load_keep_the_report(tmp_path: Path) -> None:
    run = load("nat_port_exhaustion", connections="5k", clients=5000).run()
    run.save(tmp_path / "run")
    back = Run.load(tmp_path / "run")
    assert back.data == run.data
    saved = {p.name for p in (tmp_path / "run").iterdir()}
    assert saved >= {"report.json", "report.html", "drops_by_reason.png", "drops_by_reason.svg", "metrics.png", "balance.png"}


def test_memory_is_one_window_whatever_the_duration() -> None:
    """12M packets (2 minutes at 100 kpps) in windows of 1 s: numpy's allocations peak at a window's
    worth, not at the 384 MB the whole trace would take."""
    import tracemalloc

    sc = Scenario.from_dict({
        "scenario": {"name": "long", "kind": "ena", "seed": 3, "duration": "120s"},
        "traffic": [{"generator": "syn_flood", "rate": "100kpps", "target": "198.51.100.1"}],
        "ena": {"instance_type": "c5.large", "conntrack": False},
    })
    tracemalloc.start()
    try:
        run = sc.run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert run.data["packets"] == 12_000_000
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"
