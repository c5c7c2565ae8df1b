"""Engine objects shared between Python threads: calls on one object take turns (its lock), so
N threads x M batches give the counters of the same batches run one after another, packets are
conserved, and nothing is corrupted (CI runs this under ASan+UBSan too). Different objects run
at once. Sharded stages pickle and copy through their exported state; the ENA interface
refuses with a TypeError; RSS tables pickle."""

from __future__ import annotations

import copy
import pickle
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer

from .checks import assert_conserved

THREADS, BATCHES, PER_BATCH = 4, 12, 2000


def batches(dst: str = "198.51.100.7") -> list[np.ndarray]:
    """BATCHES batches of UDP flows (two packets each), every flow in one batch only, all inside
    the same second: whatever order the batches run in, each opens its own flows."""
    out = []
    for b in range(BATCHES):
        pkts = hp.packets.empty(PER_BATCH)
        i = np.arange(PER_BATCH)
        pkts["ts"] = (b * PER_BATCH + i) * 10_000  # 10 us apart
        pkts["src_ip"] = hp.ip("10.0.0.0") + b * 4096 + i // 2
        pkts["src_port"], pkts["dst_ip"], pkts["dst_port"] = 40000, hp.ip(dst), 53
        pkts["proto"], pkts["length"] = int(hp.Proto.UDP), 100
        out.append(pkts)
    return out


def hammer(call: Callable[[np.ndarray], Any], work: list[np.ndarray]) -> None:
    """Every batch of ``work`` through ``call``, spread over THREADS threads started together."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        start.wait()
        try:
            for b in work[k::THREADS]:
                call(b)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# Rate limits depend on the order batches arrive in (a batch from the past counts as arriving
# now), and threads choose the order: the stages run here without them, so that any order
# gives the same counts.
STAGES: dict[str, Callable[[], Any]] = {
    "conntrack": lambda: hp.ConnTrack(100_000, queues=4, threads=2, seed=1),
    "nat": lambda: NatGateway(["203.0.113.10"], queues=4, threads=2, seed=1, limits=False),
    "nlb": lambda: NetworkLoadBalancer([(53, "udp")], [("10.1.0.5:53", "a"), ("10.1.0.6:53", "a")],
                                       {"a": "198.51.100.7"}, queues=4, threads=2, seed=1),
    "ena": lambda: hp.ena.Interface("c5.4xlarge", direction="in", conntrack=100_000, seed=1, pps=10**9,
                                    baseline_gbps=10**4, burst_gbps=10**4, single_flow_gbps=10**4),
}


@pytest.mark.parametrize("name", list(STAGES))
def test_threads_sharing_a_stage_take_turns(name: str) -> None:
    work = batches()
    shared, alone = STAGES[name](), STAGES[name]()
    hammer(lambda b: shared.process(b), work)
    for b in work:
        alone.process(b)
    counts = shared.verdict_counts if name == "ena" else shared.counters
    assert counts == (alone.verdict_counts if name == "ena" else alone.counters)
    assert counts["packets"] == BATCHES * PER_BATCH
    if name != "ena":
        assert len(shared) == len(alone)


def test_readers_and_writers_on_one_stage() -> None:
    """Counters, listings and expiry called while other threads process: each call sees the stage
    between batches, never inside one, so the verdict counts always add up."""
    ct = hp.ConnTrack(100_000, queues=4, threads=2, seed=2)
    work = batches()
    seen: list[dict[str, int]] = []

    def read(b: np.ndarray) -> None:
        ct.process(b)
        seen.append(ct.counters)
        ct.flows()
        ct.expire(0)

    hammer(read, work)
    for c in seen:  # whole batches only, every packet forwarded
        assert c["packets"] % PER_BATCH == 0 and c["forwarded"] == c["packets"] > 0
    final = ct.counters
    assert final["packets"] == BATCHES * PER_BATCH and final["forwarded"] == BATCHES * PER_BATCH


def test_rss_hashes_in_parallel_and_tables_change_safely() -> None:
    rss = hp.Rss(queues=8)
    work = batches()
    expected = [rss.hash(b) for b in work]
    results: dict[int, np.ndarray] = {}

    def both(b: np.ndarray) -> None:
        results[id(b)] = rss.hash(b)
        rss.indirection = rss.indirection[::-1].copy()  # a writer among the readers
        rss.queue(b)

    hammer(both, work)
    for b, e in zip(work, expected):
        np.testing.assert_array_equal(results[id(b)], e)


def test_different_objects_run_at_once() -> None:
    """Two trackers, one thread each: both finish with the counts of running alone."""
    work = batches()
    a, b = hp.ConnTrack(100_000, seed=3), hp.ConnTrack(100_000, seed=3)
    ta = threading.Thread(target=lambda: [a.process(x) for x in work])
    tb = threading.Thread(target=lambda: [b.process(x) for x in work])
    ta.start(), tb.start()
    ta.join(), tb.join()
    assert a.counters == b.counters and a.counters["forwarded"] == BATCHES * PER_BATCH


@pytest.mark.parametrize("name", list(STAGES))
def test_stages_pickle_and_copy_through_their_state_or_refuse(name: str) -> None:
    """Sharded stages round-trip their connections (tests/test_state.py has the property); the
    ENA interface, which has no such round trip, refuses rather than copy without its state."""
    stage, uninterrupted = STAGES[name](), STAGES[name]()
    work = batches()
    stage.process(work[0])
    uninterrupted.process(work[0])
    expected = uninterrupted.process(work[1]).verdict
    for attempt in (lambda s: pickle.loads(pickle.dumps(s)), copy.copy, copy.deepcopy):
        if name == "ena":
            with pytest.raises(TypeError, match="do not pickle or copy"):
                attempt(stage)
            continue
        other = attempt(stage)
        assert other is not stage and other.counters == stage.counters and len(other) == len(stage)
        np.testing.assert_array_equal(other.process(work[1]).verdict, expected)


def test_configuration_pickles() -> None:
    rss = hp.Rss(queues=4, key=hp.rss.symmetric_key())
    rss.indirection = np.arange(128, dtype=np.uint16) % 3
    again = pickle.loads(pickle.dumps(rss))
    assert again.key == rss.key and (again.indirection == rss.indirection).all()
    batch = batches()[0]
    np.testing.assert_array_equal(again.queue(batch), rss.queue(batch))
    t = hp.Timeouts.linux()
    assert pickle.loads(pickle.dumps(t)) == t and copy.deepcopy(t) == t


def test_conservation_under_threads() -> None:
    nat = NatGateway(["203.0.113.10"], queues=4, threads=2, seed=4)  # with its rate limits: counted, whatever the order
    verdicts: list[np.ndarray] = []
    hammer(lambda b: verdicts.append(nat.process(b).verdict.copy()), batches())
    assert_conserved(nat.counters, np.concatenate(verdicts))
