"""pytest-benchmark programs for the stages of ``hyperplane bench``: ``pytest bench/``.

Not part of the default test run; compare implementations with
``pytest bench/ --benchmark-group-by=group``.
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import hyperplane as hp
from hyperplane import _core

PACKETS = 2_000_000


@pytest.fixture(scope="module")
def trace() -> np.ndarray:
    return hp.traffic.synthetic(flows=100_000, packets=PACKETS, seed=7)


@pytest.mark.benchmark(group="traffic")
def test_synthetic(benchmark: BenchmarkFixture) -> None:
    benchmark.pedantic(hp.traffic.synthetic, kwargs={"flows": 100_000, "packets": PACKETS, "seed": 7},
                       rounds=3, iterations=1)


@pytest.mark.benchmark(group="rss.hash")
@pytest.mark.parametrize("impl", _core.toeplitz_impls())
def test_rss_hash(benchmark: BenchmarkFixture, trace: np.ndarray, impl: str) -> None:
    rss, out = hp.Rss(queues=8), np.empty(len(trace), dtype=np.uint32)
    benchmark(rss.hash, trace, out=out, impl=impl)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["mpps"] = PACKETS / benchmark.stats.stats.median / 1e6


@pytest.mark.benchmark(group="rss.queue")
def test_rss_queue(benchmark: BenchmarkFixture, trace: np.ndarray) -> None:
    rss, out = hp.Rss(queues=8), np.empty(len(trace), dtype=np.uint16)
    benchmark(rss.queue, trace, out=out)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["mpps"] = PACKETS / benchmark.stats.stats.median / 1e6
