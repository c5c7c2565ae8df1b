"""pytest-benchmark program for the mesh simulation: ``pytest bench/ -k mesh``.

The workload of ``hyperplane bench``'s ``mesh.*`` stages: 1M requests (50,000 a second for 20
simulated seconds) from nine web tasks to nine api tasks over three AZs, a slow task, an AZ outage.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from hyperplane.bench import mesh as bench_mesh
from hyperplane.mesh import BALANCERS


@pytest.mark.benchmark(group="mesh")
@pytest.mark.parametrize("balancer", list(BALANCERS))
def test_mesh_simulate(benchmark: BenchmarkFixture, balancer: str) -> None:
    mesh = bench_mesh.build()
    seconds, sent = benchmark.pedantic(lambda: bench_mesh.simulate_round(mesh, balancer, 1), rounds=3)
    assert sent > 900_000
