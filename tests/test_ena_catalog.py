"""The instance-type catalog: published figures, flagged estimates, sources, overrides."""

from __future__ import annotations

import copy
import dataclasses
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hyperplane import ena
from hyperplane.ena import FIGURES, CatalogError, InstanceType
from hyperplane.ena.catalog import load_catalog, parse_catalog

ROOT = Path(__file__).resolve().parent.parent

SIZES = {
    "C1": ["c1.medium", "c1.xlarge"],
    "CC1": ["cc1.4xlarge"],
    "CC2": ["cc2.8xlarge"],
    "C3": ["c3.large", "c3.xlarge", "c3.2xlarge", "c3.4xlarge", "c3.8xlarge"],
    "C4": ["c4.large", "c4.xlarge", "c4.2xlarge", "c4.4xlarge", "c4.8xlarge"],
    "C5": [
        "c5.large",
        "c5.xlarge",
        "c5.2xlarge",
        "c5.4xlarge",
        "c5.9xlarge",
        "c5.12xlarge",
        "c5.18xlarge",
        "c5.24xlarge",
    ],
    "C5n": ["c5n.large", "c5n.xlarge", "c5n.2xlarge", "c5n.4xlarge", "c5n.9xlarge", "c5n.18xlarge"],
    "M4": ["m4.large", "m4.xlarge", "m4.2xlarge", "m4.4xlarge", "m4.10xlarge", "m4.16xlarge"],
    "M5": [f"m5.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")],
    "R4": ["r4.large", "r4.xlarge", "r4.2xlarge", "r4.4xlarge", "r4.8xlarge", "r4.16xlarge"],
    "R5": [f"r5.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")],
    "T2": [f"t2.{s}" for s in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")],
    "T3": [f"t3.{s}" for s in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")],
}
ALL = ena.instance_types()


def test_c5_large_has_the_published_figures() -> None:
    t = ena.instance_type("c5.large")
    assert (t.name, t.family, t.size) == ("c5.large", "C5", "large")
    assert (t.vcpus, t.memory_gib) == (2, 4.0)
    assert (t.enis, t.ipv4_per_eni) == (3, 10)
    assert (t.baseline_gbps, t.burst_gbps) == (0.75, 10.0)
    assert t.network_performance == "Up to 10 Gigabit"
    assert (t.enhanced_networking, t.hypervisor) == ("ena", "nitro")
    assert t.queues == 2
    assert t.mtu == 9001
    published = {"vcpus", "enis", "ipv4_per_eni", "baseline_gbps", "burst_gbps", "queues", "enhanced_networking"}
    assert not published & t.estimates
    assert "compute-optimized-instances" in t.sources["baseline_gbps"]
    assert "AvailableIpPerENI" in t.sources["enis"]
    assert "ENA_Linux_Best_Practices" in t.sources["queues"]


def test_lookup_ignores_case_and_surrounding_space() -> None:
    assert ena.instance_type("  C5.Large ") is ena.instance_type("c5.large")


def test_c3_uses_the_intel_vf_with_fewer_queues_than_ena() -> None:
    c3 = {t.size: t for t in ena.instance_types("C3")}
    c5 = {t.size: t for t in ena.instance_types("C5")}
    assert {t.enhanced_networking for t in c3.values()} == {"intel-82599-vf"}
    assert {t.hypervisor for t in c3.values()} == {"xen"}
    assert {t.queues for t in c3.values()} == {2}
    for size in ("xlarge", "2xlarge", "4xlarge"):  # same vCPUs in both families
        assert c3[size].vcpus == c5[size].vcpus
        assert c3[size].queues < c5[size].queues
    assert max(t.max_queues_per_eni for t in c3.values()) < min(t.max_queues_per_eni for t in c5.values())
    assert "IXGBEVF_MAX_RSS_QUEUES" in c3["large"].sources["queues"]


@pytest.mark.parametrize(
    ("enhanced", "plain"),
    [
        ("c3.large", "c1.medium"),
        ("c3.2xlarge", "c1.xlarge"),
        ("c4.2xlarge", "c1.xlarge"),
        ("c3.8xlarge", "cc2.8xlarge"),
        ("c4.8xlarge", "cc1.4xlarge"),
    ],
)
def test_enhanced_networking_moves_about_ten_times_the_packets(enhanced: str, plain: str) -> None:
    sriov, split = ena.instance_type(enhanced), ena.instance_type(plain)
    assert (sriov.enhanced_networking, split.enhanced_networking) == ("intel-82599-vf", "none")
    assert min(sriov.vcpus, 8) == min(split.vcpus, 8)  # the same size class
    assert 8 <= sriov.pps / split.pps <= 12
    assert "Netflix" in sriov.sources["pps"] and "Netflix" in split.sources["pps"]


def test_packet_rates_grow_with_size_and_generation() -> None:
    for family in ena.families():
        rates = [t.pps for t in ena.instance_types(family)]
        assert rates == sorted(rates), family
    c4 = {t.size: t for t in ena.instance_types("C4")}
    c5 = {t.size: t for t in ena.instance_types("C5")}
    for size in ("large", "xlarge", "2xlarge", "4xlarge"):
        assert c5[size].pps >= c4[size].pps, size


def test_every_figure_of_every_type_has_a_source() -> None:
    assert len(ALL) == sum(map(len, SIZES.values()))
    for t in ALL:
        assert set(t.sources) == set(FIGURES), t.name
        for name in FIGURES:
            text = t.sources[name]
            assert isinstance(text, str) and len(text) > 20, (t.name, name)
            assert "{" not in text, (t.name, name, "unexpanded reference")


def test_estimates_are_flagged_and_explained() -> None:
    for t in ALL:
        assert t.estimates <= set(FIGURES)
        for name in FIGURES:
            assert (name in t.estimates) == t.sources[name].startswith("estimate:"), (t.name, name)
        # AWS publishes no PPS, conntrack or latency figure for any type.
        assert {"pps", "conntrack", "latency_us"} <= t.estimates, t.name
    c5 = ena.instance_type("c5.4xlarge")
    assert not {"baseline_gbps", "burst_gbps", "queues", "enis"} & c5.estimates
    for t in ena.instance_types("C3")[:-1] + ena.instance_types("C4")[:-1]:
        assert {"baseline_gbps", "burst_gbps"} <= t.estimates, t.name
    assert not {"baseline_gbps", "burst_gbps"} & ena.instance_type("c4.8xlarge").estimates
    assert {"vcpus", "enis", "ipv4_per_eni"} <= ena.instance_type("cc1.4xlarge").estimates
    assert "queues" in ena.instance_type("c5n.18xlarge").estimates
    assert "queues" not in ena.instance_type("c5n.2xlarge").estimates


def test_overrides_make_a_new_type() -> None:
    t = ena.instance_type("c5.large")
    u = t.with_overrides(pps=3_000_000)
    assert u.pps == 3_000_000
    assert t.pps != 3_000_000 and ena.instance_type("c5.large").pps == t.pps
    assert "pps" in t.estimates and "pps" not in u.estimates
    assert u.sources["pps"].startswith("override")
    assert u.sources["enis"] == t.sources["enis"]
    assert dataclasses.replace(u, pps=t.pps, estimates=t.estimates, sources=t.sources) == t


def test_every_figure_can_be_overridden() -> None:
    t = ena.instance_type("c5.large")
    new: dict[str, Any] = {
        "network_performance": "Up to 12 Gigabit",
        "enhanced_networking": "intel-82599-vf",
        "hypervisor": "xen",
    }
    for name in FIGURES:
        value = new.get(name, getattr(t, name))
        if isinstance(value, float):
            value += 1.0
        elif isinstance(value, int):
            value += 1
        u = t.with_overrides(**{name: value})
        assert getattr(u, name) == value, name
        assert u.sources[name].startswith("override")
        assert name not in u.estimates


def test_overrides_refuse_unknown_fields_and_bad_values() -> None:
    t = ena.instance_type("c5.large")
    with pytest.raises(ValueError, match="pps_limit"):
        t.with_overrides(pps_limit=1)
    with pytest.raises(ValueError, match="'name'"):
        t.with_overrides(name="c5.huge")
    with pytest.raises(TypeError, match="pps"):
        t.with_overrides(pps="fast")
    with pytest.raises(TypeError, match="pps"):
        t.with_overrides(pps=True)
    with pytest.raises(ValueError, match="pps must be positive"):
        t.with_overrides(pps=0)
    with pytest.raises(ValueError, match="burst_gbps"):
        t.with_overrides(baseline_gbps=20.0)
    with pytest.raises(ValueError, match="enhanced_networking"):
        t.with_overrides(enhanced_networking="virtio")
    with pytest.raises(ValueError, match="max_queues_per_eni"):
        t.with_overrides(queues=9)
    assert t.with_overrides(queues=16, max_queues_per_eni=32).queues == 16


def test_instance_types_are_immutable() -> None:
    t = ena.instance_type("c5.large")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.pps = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.sources["pps"] = "mine"  # type: ignore[index]
    assert hash(t) == hash(ena.instance_type("c5.large"))


@pytest.mark.parametrize(
    ("typo", "match"),
    [("c5.larg", "c5.large"), ("c5n.18xl", "c5n.18xlarge"), ("c4.8xlarg", "c4.8xlarge"), ("cc2.8xl", "cc2.8xlarge")],
)
def test_unknown_type_names_close_matches(typo: str, match: str) -> None:
    with pytest.raises(ValueError, match="unknown instance type") as info:
        ena.instance_type(typo)
    assert match in str(info.value)


def test_unknown_type_with_no_close_match_names_the_families() -> None:
    with pytest.raises(ValueError, match="C5n") as info:
        ena.instance_type("mainframe")
    assert "did you mean" not in str(info.value)
    with pytest.raises(TypeError):
        ena.instance_type(5)  # type: ignore[arg-type]


def test_every_family_and_size_is_present_in_order() -> None:
    assert ena.families() == list(SIZES)
    for family, names in SIZES.items():
        assert [t.name for t in ena.instance_types(family)] == names
        assert {t.family for t in ena.instance_types(family)} == {family}
    assert [t.name for t in ALL] == [n for names in SIZES.values() for n in names]
    assert ena.instance_types("c5n") == ena.instance_types("C5n")
    with pytest.raises(ValueError, match="C5"):
        ena.instance_types("C6")


def test_queues_follow_the_driver_rules() -> None:
    caps = {"none": {1}, "intel-82599-vf": {2}, "ena": {8, 32}}
    for t in ALL:
        assert t.max_queues_per_eni in caps[t.enhanced_networking], t.name
        assert t.queues == min(t.vcpus, t.max_queues_per_eni), t.name
    assert {t.max_queues_per_eni for t in ena.instance_types("C5")} == {8}
    assert {t.max_queues_per_eni for t in ena.instance_types("C5n")} == {32}
    assert [t.queues for t in ena.instance_types("C5")] == [2, 4, 8, 8, 8, 8, 8, 8]
    assert ena.instance_type("c5n.18xlarge").queues == 32


def test_bandwidth_follows_the_published_class() -> None:
    for t in ALL:
        perf = t.network_performance
        if perf.endswith("Gigabit"):
            figure = float(perf.removeprefix("Up to ").removesuffix(" Gigabit"))
            assert t.burst_gbps == figure, t.name
            assert (t.baseline_gbps < t.burst_gbps) == perf.startswith("Up to "), t.name
        elif t.family == "T2":  # a class, and "Up to 1 Gbps" for every size
            assert perf in ("Low", "Low to Moderate", "Moderate"), t.name
            assert t.baseline_gbps < t.burst_gbps == 1.0, t.name
        else:
            assert perf in ("Moderate", "High"), t.name
            assert t.baseline_gbps == t.burst_gbps <= 1.0 or perf == "High", t.name
    assert [t.baseline_gbps for t in ena.instance_types("C5")[:4]] == [0.75, 1.25, 2.5, 5.0]
    assert [t.baseline_gbps for t in ena.instance_types("C5n")[:4]] == [3.0, 5.0, 10.0, 15.0]


def test_c5_bandwidth_scopes() -> None:
    def scopes(t: InstanceType) -> tuple[float, float, float, float]:
        return (t.bw_placement_group_gbps, t.bw_region_gbps, t.bw_s3_gbps, t.bw_elsewhere_gbps)

    assert scopes(ena.instance_type("c5.18xlarge")) == (25.0, 25.0, 25.0, 5.0)
    assert scopes(ena.instance_type("c5.24xlarge")) == (25.0, 25.0, 25.0, 5.0)
    assert scopes(ena.instance_type("c5.large")) == (10.0, 10.0, 10.0, 5.0)
    for t in ALL:
        assert max(scopes(t)) <= t.burst_gbps, t.name
        assert t.bw_elsewhere_gbps == min(5.0, t.burst_gbps), t.name


def test_documented_limits_apply_to_every_type() -> None:
    for t in ALL:
        assert t.link_local_pps == 1024
        assert (t.single_flow_gbps, t.single_flow_placement_group_gbps) == (5.0, 10.0)
        assert t.mtu == (1500 if t.family in ("C1", "CC1", "CC2") else 9001), t.name
        if t.hypervisor == "nitro":
            assert t.enhanced_networking == "ena", t.name
        assert "1024" in t.sources["link_local_pps"]


def test_latency_classes_order_the_generations() -> None:
    by_kind = {t.enhanced_networking: t.latency_us for t in ALL}
    assert by_kind["ena"] < by_kind["intel-82599-vf"] < by_kind["none"]
    assert ena.instance_type("c3.large").latency_us == 100.0
    assert ena.instance_type("c5.large").latency_us == 50.0


def test_the_data_file_ships_in_the_package() -> None:
    data = resources.files("hyperplane.ena").joinpath("instance_types.toml")
    assert data.is_file()
    assert [t.name for t in load_catalog()] == [t.name for t in ALL]


# ---- the loader refuses incomplete data ---------------------------------------------------


def minimal_doc() -> dict[str, Any]:
    t = ena.instance_type("c5.large")
    family: dict[str, Any] = {name: getattr(t, name) for name in FIGURES}
    family["sources"] = {name: "a test source, {ref}" for name in FIGURES}
    return {
        "schema": 1,
        "refs": {"ref": "the reference text"},
        "families": {"X1": family},
        "types": [{"name": "x1.large", "family": "X1"}],
    }


def test_loader_builds_types_from_a_minimal_document() -> None:
    catalog = parse_catalog(minimal_doc())
    t = catalog.get("x1.large")
    assert (t.family, t.size, t.pps) == ("X1", "large", ena.instance_type("c5.large").pps)
    assert t.sources["pps"] == "a test source, the reference text"
    assert t.estimates == frozenset()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d["families"]["X1"]["sources"].pop("pps"), "no source for pps"),
        (lambda d: d["families"]["X1"].pop("conntrack"), "no value for conntrack"),
        (lambda d: d["families"]["X1"]["sources"].update(pps={"estimate": True, "source": "a guess"}), "must start"),
        (lambda d: d["families"]["X1"]["sources"].update(pps="estimate: a guess"), "not marked estimate"),
        (lambda d: d["families"]["X1"]["sources"].update(pps="see {nowhere}"), "unknown reference"),
        (lambda d: d["types"][0].update(pps_max=5), "unknown key"),
        (lambda d: d["types"][0].update(family="X2"), "unknown family"),
        (lambda d: d["types"][0].update(name="y1.large"), "named 'x1.<size>'"),
        (lambda d: d["types"][0].update(burst_gbps=0.5), "burst_gbps"),
        (lambda d: d["types"].append({"name": "x1.large", "family": "X1"}), "twice"),
        (lambda d: d.update(schema=2), "schema"),
    ],
)
def test_loader_refuses_bad_documents(damage: Any, message: str) -> None:
    doc = copy.deepcopy(minimal_doc())
    damage(doc)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(doc)


def test_loader_reads_files_and_reports_bad_toml(tmp_path: Path) -> None:
    good = tmp_path / "types.toml"
    good.write_text(
        (resources.files("hyperplane.ena") / "instance_types.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert len(load_catalog(good)) == len(ALL)
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = 1\n[[types]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="bad.toml"):
        load_catalog(bad)


# ---- the documentation shows the catalog as it is -----------------------------------------


def cell(t: InstanceType, name: str) -> str:
    value = getattr(t, name)
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, int):
        text = f"{value:,}" if value >= 10_000 else str(value)
    else:
        text = str(value)
    return text + ("\\*" if name in t.estimates else "")


TABLE = (
    "vcpus",
    "memory_gib",
    "network_performance",
    "baseline_gbps",
    "burst_gbps",
    "enhanced_networking",
    "hypervisor",
    "enis",
    "ipv4_per_eni",
    "queues",
    "pps",
    "conntrack",
    "latency_us",
    "mtu",
)
SCOPES = ("bw_placement_group_gbps", "bw_region_gbps", "bw_s3_gbps", "bw_elsewhere_gbps")


def doc_row(t: InstanceType, names: tuple[str, ...]) -> str:
    return "| " + " | ".join([f"`{t.name}`", *(cell(t, n) for n in names)]) + " |"


def test_docs_table_matches_the_catalog() -> None:
    text = (ROOT / "docs" / "instance-types.md").read_text(encoding="utf-8")
    for t in ALL:
        assert doc_row(t, TABLE) in text, t.name
        assert doc_row(t, SCOPES) in text, t.name


# ---- the ECS families: M4, M5, R4, R5, T2, T3 ------------------------------------------------

# (type, vCPUs, GiB, network performance, baseline, burst, ENIs, IPv4 per ENI, enhanced, hypervisor)
ECS_FAMILIES = [
    ("m4.large", 2, 8.0, "Moderate", 0.5, 0.5, 2, 10, "intel-82599-vf", "xen"),
    ("m4.10xlarge", 40, 160.0, "10 Gigabit", 10.0, 10.0, 8, 30, "intel-82599-vf", "xen"),
    ("m4.16xlarge", 64, 256.0, "25 Gigabit", 25.0, 25.0, 8, 30, "ena", "xen"),
    ("m5.large", 2, 8.0, "Up to 10 Gigabit", 0.75, 10.0, 3, 10, "ena", "nitro"),
    ("m5.4xlarge", 16, 64.0, "Up to 10 Gigabit", 5.0, 10.0, 8, 30, "ena", "nitro"),
    ("m5.24xlarge", 96, 384.0, "25 Gigabit", 25.0, 25.0, 15, 50, "ena", "nitro"),
    ("r4.large", 2, 15.25, "Up to 10 Gigabit", 0.75, 10.0, 3, 10, "ena", "xen"),
    ("r4.16xlarge", 64, 488.0, "25 Gigabit", 25.0, 25.0, 15, 50, "ena", "xen"),
    ("r5.large", 2, 16.0, "Up to 10 Gigabit", 0.75, 10.0, 3, 10, "ena", "nitro"),
    ("r5.16xlarge", 64, 512.0, "20 Gigabit", 20.0, 20.0, 15, 50, "ena", "nitro"),
    ("t2.nano", 1, 0.5, "Low", 0.1, 1.0, 2, 2, "none", "xen"),
    ("t2.large", 2, 8.0, "Low to Moderate", 0.3, 1.0, 3, 12, "none", "xen"),
    ("t3.nano", 2, 0.5, "Up to 5 Gigabit", 0.032, 5.0, 2, 2, "ena", "nitro"),
    ("t3.2xlarge", 8, 32.0, "Up to 5 Gigabit", 2.048, 5.0, 4, 15, "ena", "nitro"),
]


@pytest.mark.parametrize(("name", "vcpus", "gib", "perf", "base", "burst", "enis", "ips", "enhanced", "hyp"), ECS_FAMILIES)
def test_ecs_families_have_the_published_figures(
    name: str, vcpus: int, gib: float, perf: str, base: float, burst: float, enis: int, ips: int, enhanced: str, hyp: str
) -> None:
    t = ena.instance_type(name)
    assert (t.vcpus, t.memory_gib, t.network_performance) == (vcpus, gib, perf)
    assert (t.baseline_gbps, t.burst_gbps) == (base, burst)
    assert (t.enis, t.ipv4_per_eni, t.enhanced_networking, t.hypervisor) == (enis, ips, enhanced, hyp)
    assert not {"vcpus", "memory_gib", "enis", "ipv4_per_eni", "network_performance"} & t.estimates
    assert ("baseline_gbps" in t.estimates) == (t.family == "T2" or (t.family == "M4" and t.vcpus <= 16))


def test_m5_replaces_the_instance_type_typo_answer() -> None:
    """The issue: before, ``instance_type("m5.large")`` answered "did you mean c5.large"."""
    assert ena.instance_type("m5.large").family == "M5"
    with pytest.raises(ValueError, match="m5.large"):
        ena.instance_type("m5.larg")


# The ECS table, row by row, for the catalogued families ("Task limit without ENI trunking",
# "Task limit with ENI trunking"). r5.8xlarge is excluded by name, and C5n as a family.
TRUNKING = [
    ("c5.large", 2, 10),
    ("c5.xlarge", 3, 20),
    ("c5.2xlarge", 3, 40),
    ("c5.4xlarge", 7, 60),
    ("c5.9xlarge", 7, 60),
    ("c5.12xlarge", 7, 60),
    ("c5.18xlarge", 14, 120),
    ("c5.24xlarge", 14, 120),
    ("m5.large", 2, 10),
    ("m5.xlarge", 3, 20),
    ("m5.2xlarge", 3, 40),
    ("m5.4xlarge", 7, 60),
    ("m5.8xlarge", 7, 60),
    ("m5.12xlarge", 7, 60),
    ("m5.16xlarge", 14, 120),
    ("m5.24xlarge", 14, 120),
    ("r5.large", 2, 10),
    ("r5.xlarge", 3, 20),
    ("r5.2xlarge", 3, 40),
    ("r5.4xlarge", 7, 60),
    ("r5.12xlarge", 7, 60),
    ("r5.16xlarge", 14, 120),
    ("r5.24xlarge", 14, 120),
]


@pytest.mark.parametrize(("name", "without", "with_trunking"), TRUNKING)
def test_ecs_trunking_table_row_by_row(name: str, without: int, with_trunking: int) -> None:
    """ECS: "For the elastic network interface (ENI) limits on each instance type, add one to the
    current task limit, as the primary network interface counts against the limit"."""
    t = ena.instance_type(name)
    assert t.enis - 1 == without
    assert t.ecs_trunk_tasks == with_trunking
    assert "Task limit with ENI trunking" in t.sources["ecs_trunk_tasks"]
    assert "ecs_trunk_tasks" not in t.estimates


def test_types_outside_the_trunking_table_have_none() -> None:
    """ECS: "The c5n, ... instance families are not supported" and "... r5.8xlarge ... instance
    types are not supported"; M4, R4, T2, T3 and the Xen-era C families are not listed."""
    listed = {name for name, _, _ in TRUNKING}
    for t in ALL:
        assert (t.ecs_trunk_tasks > 0) == (t.name in listed), t.name
    assert "not supported" in ena.instance_type("r5.8xlarge").sources["ecs_trunk_tasks"]
    assert "c5n" in ena.instance_type("c5n.large").sources["ecs_trunk_tasks"]
    with pytest.raises(ValueError, match="ecs_trunk_tasks must be >= 0"):
        ena.instance_type("c5.large").with_overrides(ecs_trunk_tasks=-1)


def test_docs_trunking_table_matches_the_catalog() -> None:
    text = (ROOT / "docs" / "instance-types.md").read_text(encoding="utf-8")
    for name, without, with_trunking in TRUNKING:
        t = ena.instance_type(name)
        assert f"| `{name}` | {t.enis} | {without} | {with_trunking} |" in text, name
