"""pytest-benchmark program for ECS placement: ``pytest bench/ -k ecs``.

The workload of ``hyperplane bench``'s ``ecs.*`` stages: 10,000 tasks placed by one service on
1,000 container instances (a fresh cluster each round, built outside the timing).
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from hyperplane.bench import ecs as bench_ecs


@pytest.mark.benchmark(group="ecs")
@pytest.mark.parametrize("mode", ["bridge", "awsvpc"])
def test_ecs_placement(benchmark: BenchmarkFixture, mode: str) -> None:
    def setup() -> tuple[tuple[object, ...], dict[str, object]]:
        return bench_ecs.build(mode, 1), {}

    def place(c: object, d: object) -> None:
        svc = c.create_service("web", d, desired_count=bench_ecs.TASKS)  # type: ignore[attr-defined]
        assert svc.running_count == bench_ecs.TASKS

    benchmark.pedantic(place, setup=setup, rounds=3)
