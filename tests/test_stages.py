"""The one process() convention every stage follows (docs/stages.md), checked stage by stage:
the leaving packets first and the verdicts second; ``out=`` receives the packets (rewritten by
a stage that rewrites, copied by one that does not, and it may be the batch itself where the
stage rewrites); ``verdict_out=`` receives the verdicts; the results do not depend on which
buffers were given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperplane as hp

TRACE = hp.traffic.merge(
    hp.traffic.many_to_one(500, seed=3, client_cidr="10.1.0.0/16", dst="198.19.0.1", dst_port=443),
    hp.traffic.synthetic(flows=200, packets=2_000, seed=4),
)

# (name, a fresh stage, whether it rewrites packets)
STAGES: list[tuple[str, Callable[[], Any], bool]] = [
    ("conntrack", lambda: hp.ConnTrack(10_000, queues=2, seed=1), False),
    ("nat", lambda: hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], queues=2, seed=1), True),
    ("nlb", lambda: hp.NetworkLoadBalancer([(443, "tcp")], [("10.0.1.5:443", "a"), ("10.0.1.6:443", "a")],
                                           {"a": "198.19.0.1"}, queues=2, seed=1), True),
    ("ena", lambda: hp.ena.Interface("c5.large", direction="in", seed=1), False),
]


@pytest.mark.parametrize(("name", "make", "rewrites"), STAGES, ids=[s[0] for s in STAGES])
def test_one_convention(name: str, make: Callable[[], Any], rewrites: bool) -> None:
    plain = make().process(TRACE.copy())
    assert plain._fields[:2] == ("packets", "verdict")
    assert plain.verdict.dtype == np.uint8 and len(plain.verdict) == len(TRACE)
    if not rewrites:
        batch = TRACE.copy()
        assert make().process(batch).packets is batch  # nothing rewritten: the batch itself

    out, verdict_out = hp.empty(len(TRACE)), np.zeros(len(TRACE), dtype=np.uint8)
    given = make().process(TRACE.copy(), out=out, verdict_out=verdict_out)
    assert given.packets is out and given.verdict is verdict_out
    np.testing.assert_array_equal(out, plain.packets)
    np.testing.assert_array_equal(verdict_out, plain.verdict)
    for extra in plain._fields[2:]:
        np.testing.assert_array_equal(getattr(given, extra), getattr(plain, extra))

    if rewrites:  # in place: out= may be the batch itself
        batch = TRACE.copy()
        in_place = make().process(batch, out=batch)
        assert in_place.packets is batch
        np.testing.assert_array_equal(batch, plain.packets)
        assert (plain.packets != TRACE).any(), f"{name} rewrote nothing: the check above proves nothing"


@pytest.mark.parametrize(("name", "make", "rewrites"), STAGES, ids=[s[0] for s in STAGES])
def test_wrong_buffers_name_the_argument(name: str, make: Callable[[], Any], rewrites: bool) -> None:
    stage = make()
    with pytest.raises(ValueError, match="out must hold 3 packets"):
        stage.process(hp.empty(3), out=hp.empty(4))
    with pytest.raises(ValueError, match="verdict_out must be 1-D with 3 elements"):
        stage.process(hp.empty(3), verdict_out=np.zeros(4, dtype=np.uint8))
