"""pytest-benchmark programs for the ``pcap.*`` stages: reading a capture into batches, and
writing it back rewritten (``pytest bench/test_bench_pcap.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import hyperplane as hp
from hyperplane import pcap_synth

PACKETS = 1_000_000


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pcap") / "trace.pcap"
    path.write_bytes(pcap_synth.capture_bytes(hp.traffic.synthetic(flows=50_000, packets=PACKETS, seed=7)))
    return path


@pytest.mark.benchmark(group="pcap")
def test_read(benchmark: BenchmarkFixture, capture: Path) -> None:
    cap = hp.pcap.open(capture)
    benchmark(lambda: sum(len(f) for f in cap.batches(1 << 20)))
    assert cap.stats.frames == PACKETS
    if benchmark.stats:
        benchmark.extra_info["mpps"] = PACKETS / benchmark.stats.stats.median / 1e6


@pytest.mark.benchmark(group="pcap")
def test_rewrite(benchmark: BenchmarkFixture, capture: Path) -> None:
    frames = hp.pcap.open(capture).read()
    out = frames.packets.copy()
    out["src_ip"] = hp.ip("203.0.113.10")

    def write() -> None:
        with hp.pcap.Writer(os.devnull, "pcap") as w:
            w.write(frames, out)

    benchmark(write)
    if benchmark.stats:
        benchmark.extra_info["mpps"] = PACKETS / benchmark.stats.stats.median / 1e6
