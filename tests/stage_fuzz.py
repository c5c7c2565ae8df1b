"""What every stage must survive, as one function per target: arbitrary packets (every field over
its whole range: port 0, protocol 255, every ICMP type and TCP flag combination, lengths 0 and
65535, timestamps running backwards or jumping by 2^63) through an arbitrary small configuration,
in one to three batches. The invariants: no crash, packets in = forwarded + dropped by reason
(the verdict array agreeing with the tallies), and each stage's own — no two live NAT connections
share a public tuple, an NLB's forwarded packets go to registered targets, RSS's implementations
agree and stay inside the queues, Maglev tables index their backends.

tests/test_stage_fuzz.py drives these with hypothesis (CI runs it under ASan+UBSan too);
tests/fuzz_stages.py drives them with atheris for long runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

import hyperplane as hp
from hyperplane.maglev import Maglev, is_prime
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer

from .checks import assert_conserved

T = TypeVar("T")
EDGE_TS = np.array([0, 1, 2**62, 2**63, 2**64 - 1], dtype=np.uint64)


def packets_from(raw: bytes, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` packets whose header fields are the bytes of ``raw`` (cycled), with a few protocols
    favoured so that the stages' TCP, UDP and ICMP paths are reached, and edge timestamps mixed in."""
    out = hp.packets.empty(n)
    need = n * out.dtype.itemsize
    data = (raw * (need // max(len(raw), 1) + 1))[:need] if raw else bytes(need)
    out[:] = np.frombuffer(data, dtype=out.dtype)
    pick = rng.integers(0, 4, n)
    out["proto"] = np.where(pick == 0, 6, np.where(pick == 1, 17, np.where(pick == 2, 1, out["proto"])))
    out["reserved"], out["mark"] = 0, 0
    edges = rng.random(n) < 0.1
    out["ts"][edges] = rng.choice(EDGE_TS, int(edges.sum()))
    return out


def metered(process: Callable[[], T], stage: Any) -> T | None:
    """A metered stage's batch, or None when it was refused as a whole for reaching past the
    metrics' span (a clear ValueError; nothing counted)."""
    before = stage.counters
    try:
        return process()
    except ValueError as e:
        assert "metrics keep one row per minute" in str(e), e
        assert stage.counters == before
        return None


def conntrack_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ct = hp.ConnTrack(int(rng.integers(1, 64)), queues=int(rng.integers(1, 9)), early_drop=bool(rng.integers(2)),
                      loose=bool(rng.integers(2)), seed=seed, threads=int(rng.integers(1, 3)))
    verdicts = [ct.process(packets_from(raw, int(rng.integers(1, 96)), rng)).verdict.copy()
                for _ in range(int(rng.integers(1, 4)))]
    assert_conserved(ct.counters, np.concatenate(verdicts))
    ct.flows()
    ct.expire(int(rng.choice(EDGE_TS)))


def nat_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    nat = NatGateway(["203.0.113.10", "203.0.113.11"][: int(rng.integers(1, 3))], ["0.0.0.0/1"],
                     capacity=int(rng.integers(1, 64)), queues=int(rng.integers(1, 9)),
                     per_destination=int(rng.integers(1, 6)), limits=bool(rng.integers(2)), seed=seed)
    verdicts = []
    for _ in range(int(rng.integers(1, 4))):
        batch = packets_from(raw, int(rng.integers(1, 96)), rng)
        batch["dst_ip"][rng.random(len(batch)) < 0.3] = hp.ip("203.0.113.10")  # replies and probes
        done = metered(lambda b=batch: nat.process(b), nat)
        if done is not None:
            verdicts.append(done.verdict.copy())
    assert_conserved(nat.counters, np.concatenate(verdicts) if verdicts else np.empty(0, np.uint8))
    metered(lambda: nat.expire(int(rng.choice(EDGE_TS))), nat)
    c = nat.connections()
    public = c[["public_ip", "public_port", "remote_ip", "remote_port", "proto"]]
    assert len(np.unique(public)) == len(c), "two live connections share a public tuple"


def nlb_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    targets = [(f"10.1.0.{i + 1}:{80 + i % 2}", "ab"[i % 2]) for i in range(int(rng.integers(1, 5)))]
    nlb = NetworkLoadBalancer([(80, "tcp"), (81, "udp")][: int(rng.integers(1, 3))], targets,
                              {"a": "198.51.100.1", "b": "198.51.100.2"}, capacity=int(rng.integers(1, 64)),
                              queues=int(rng.integers(1, 9)), preserve_client_ip=bool(rng.integers(2)),
                              cross_zone=bool(rng.integers(2)), table_size=401, seed=seed)
    verdicts = []
    for k in range(int(rng.integers(1, 4))):
        if k and rng.integers(2):
            nlb.set_health(targets[0][0], healthy=bool(rng.integers(2)))
        batch = packets_from(raw, int(rng.integers(1, 96)), rng)
        batch["dst_ip"] = np.where(rng.random(len(batch)) < 0.8, hp.ip("198.51.100.1") + rng.integers(0, 2, len(batch)),
                                   batch["dst_ip"])
        batch["dst_port"] = np.where(rng.random(len(batch)) < 0.8, 80 + rng.integers(0, 2, len(batch)), batch["dst_port"])
        done = metered(lambda b=batch: nlb.process(b), nlb)
        if done is None:
            continue
        _, v, t = done
        assert (t[v == hp.Verdict.FORWARD] < len(targets)).all()
        verdicts.append(v.copy())
    assert_conserved(nlb.counters, np.concatenate(verdicts) if verdicts else np.empty(0, np.uint8))
    metered(lambda: nlb.expire(int(rng.choice(EDGE_TS))), nlb)


def ena_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    eni = hp.ena.Interface(["c5.large", "c3.large", "c5.4xlarge"][int(rng.integers(0, 3))],
                           instance_ips=["10.0.0.0/9"], conntrack=int(rng.integers(1, 64)),
                           queue_depth_packets=int(rng.integers(0, 4)), burst_credits=float(rng.random()),
                           flow_slots=4, seed=seed)
    verdicts = []
    for _ in range(int(rng.integers(1, 4))):
        _, v, d = eni.process(packets_from(raw, int(rng.integers(1, 96)), rng))
        assert (d[v != hp.Verdict.FORWARD] == 0).all()
        verdicts.append(v.copy())
    assert_conserved(eni.verdict_counts, np.concatenate(verdicts))
    eni.latency()
    eni.expire(int(rng.choice(EDGE_TS)))


def rss_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    queues = int(rng.integers(1, 129))
    size = 1 << int(rng.integers(0, 10))
    rss = hp.Rss(queues=queues, key=rng.bytes(40), table_size=size,
                 indirection=rng.integers(0, queues, size).astype(np.uint16))
    batch = packets_from(raw, int(rng.integers(1, 96)), rng)
    hashes = {impl: rss.hash(batch, impl=impl) for impl in hp._core.toeplitz_impls()}
    first = next(iter(hashes.values()))
    for impl, h in hashes.items():
        np.testing.assert_array_equal(h, first, err_msg=impl)
    assert (rss.queue(batch) < queues).all()


PRIMES = [p for p in range(2, 700) if is_prime(p)]


def maglev_target(raw: bytes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    text = raw.decode("utf-8", errors="replace")
    cuts = (text[i : i + int(rng.integers(1, 6))] for i in range(0, len(text), 3))
    names = list(dict.fromkeys(n for n in cuts if n)) or ["a"]
    names = names[: int(rng.integers(1, 40))]
    size = int(rng.choice([p for p in PRIMES if p > len(names)]))
    weights = rng.integers(1, 2**32, len(names)).tolist() if rng.integers(2) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small tables on purpose
        m = Maglev(names, size, weights)
    assert len(m.table) == size and (m.table < len(names)).all()
    assert sum(m.slots().values()) == size


TARGETS = {"conntrack": conntrack_target, "nat": nat_target, "nlb": nlb_target, "ena": ena_target,
           "rss": rss_target, "maglev": maglev_target}
