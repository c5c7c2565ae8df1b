"""pytest-benchmark programs for the network path: ``pytest bench/ -k network``.

The same workload as ``hyperplane bench``'s ``network.*`` stages (a path through an ENI, its
security groups, ACLs, route tables, a NAT gateway and the internet gateway, and back), smaller,
for comparing commits with ``--benchmark-autosave`` / ``--benchmark-compare``.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from hyperplane.bench import network as bench_network

PACKETS = 200_000


@pytest.fixture(scope="module")
def setup() -> bench_network.NetworkSetup:
    return bench_network.build(PACKETS, PACKETS // 10, seed=1)


@pytest.mark.benchmark(group="network")
@pytest.mark.parametrize("which", ["path", "stages"])
def test_network(benchmark: BenchmarkFixture, setup: bench_network.NetworkSetup, which: str) -> None:
    one_round = bench_network.path_round if which == "path" else bench_network.stages_round
    benchmark(one_round, setup)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["mpps"] = len(setup.batch) / benchmark.stats.stats.median / 1e6
