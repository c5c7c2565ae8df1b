"""pytest-benchmark programs for the flow table: ``pytest bench/ -k conntrack``.

The same workloads as ``hyperplane bench``'s conntrack stages, for comparing commits with
``--benchmark-autosave`` / ``--benchmark-compare``.
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from hyperplane.bench import Workload

LOOKUPS = 2_000_000


@pytest.fixture(scope="module")
def workload() -> Workload:
    return Workload(flows=50_000, packets=1_000_000, seed=1, lookups=LOOKUPS, rounds=5)


@pytest.mark.benchmark(group="conntrack.established")
@pytest.mark.parametrize("flows", [1_000, 100_000, 1_000_000])
@pytest.mark.parametrize("threads", [1, 2])
def test_established(benchmark: BenchmarkFixture, workload: Workload, flows: int, threads: int) -> None:
    ct = workload.tracker(flows)
    ct.threads = threads
    _, lookups, _ = workload.established(flows)
    out = np.empty(len(lookups), dtype=np.uint8)
    benchmark(ct.process, lookups, verdict_out=out)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["mpps"] = LOOKUPS / benchmark.stats.stats.median / 1e6
