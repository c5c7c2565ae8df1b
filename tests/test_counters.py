"""The counter families: one list each (hyperplane/counters.py), read by the C++ build and by
the stages' Python side alike."""

from __future__ import annotations

import pytest

import hyperplane as hp
from hyperplane.counters import ENA_COUNTERS, FAMILIES, NAT_METRICS, NLB_METRICS, CounterFamily


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.enum)
def test_names_and_enumerators_are_unique(family: CounterFamily) -> None:
    cxx = [m[0] for m in family.members]
    assert len(set(cxx)) == len(cxx) and len(set(family.names)) == len(family.names)
    assert all(m[0].isidentifier() and m[2] for m in family.members)


def test_the_core_counts_under_the_listed_names() -> None:
    # The ENA core names its counters itself (from the generated array): same names, same order.
    eni = hp.ena.Interface("c5.large", direction="in", seed=1)
    assert list(eni._core.counter_values())[: len(ENA_COUNTERS.members)] == ENA_COUNTERS.names


def test_metrics_carry_the_family_names() -> None:
    nat = hp.NatGateway(["203.0.113.10"], seed=1)
    nat.process(hp.traffic.many_to_one(10, seed=1, dst="198.19.0.1"))
    assert [k for k in nat.metrics if k != "Timestamp"] == NAT_METRICS.names
    nlb = hp.NetworkLoadBalancer([(443, "tcp")], [("10.0.1.5:443", "a")], {"a": "198.19.0.1"}, seed=1)
    nlb.process(hp.traffic.many_to_one(10, seed=1, dst="198.19.0.1", dst_port=443))
    assert [k for k in nlb.metrics if k != "Timestamp"] == NLB_METRICS.names
