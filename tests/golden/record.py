"""The golden run: fixed traces through every stage with fixed seeds, reduced to digests.

Restructuring and speed work must not change a single result. This module runs one
fixed set of traces through RSS, Maglev, connection tracking, the NAT gateway, the load
balancer and the ENA interface (each sharded stage on one thread and on two, in one
batch and in chunks), and reduces every output — verdicts, rewritten packets, targets,
delays, counters, metrics, flows — to a SHA-256 digest per part. ``digests.json`` holds
the digests of the run as it was before a change; ``test_golden.py`` compares.

When a change is meant to alter behaviour (an AWS-fidelity fix, say), re-record with
``python -m tests.golden.record --write`` and say in the commit which parts changed and why.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import hyperplane as hp

DIGESTS = Path(__file__).with_name("digests.json")


def _digest(value: Any) -> str:
    """A digest of an array (bytes, dtype and shape), a dict of them, or plain data."""
    h = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, np.ndarray) and v.dtype.names:
            # Field by field: a structured row's padding bytes are not part of its value.
            h.update(f"{v.dtype.names}{v.shape}".encode())
            for name in v.dtype.names:
                feed(np.ascontiguousarray(v[name]))
        elif isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        elif isinstance(v, dict):
            for k in sorted(v):
                h.update(str(k).encode())
                feed(v[k])
        elif isinstance(v, (list, tuple)):
            for item in v:
                feed(item)
        else:
            h.update(repr(v).encode())

    feed(value)
    return h.hexdigest()


def _sorted_rows(rows: np.ndarray) -> np.ndarray:
    """Table rows in an order that does not depend on slot positions."""
    return np.sort(rows, order=list(rows.dtype.names or ()))


def _chunks(batch: np.ndarray, parts: int) -> Iterator[np.ndarray]:
    for piece in np.array_split(np.arange(len(batch)), parts):
        yield batch[piece[0] : piece[-1] + 1] if len(piece) else batch[:0]


def _traces() -> dict[str, np.ndarray]:
    mixed = hp.traffic.merge(
        hp.traffic.synthetic(flows=3_000, packets=60_000, seed=7, duration_s=2.0),
        hp.traffic.syn_flood(5_000, seed=1, target="198.19.0.1"),
    )
    return {
        "mixed": mixed,
        "many_to_one": hp.traffic.many_to_one(20_000, seed=2, dst="198.19.0.1", dst_port=443),
        "nlb_clients": hp.traffic.many_to_one(8_000, seed=4, client_cidr="100.64.0.0/16", dst="198.19.0.1"),
    }


def _run_rss(traces: dict[str, np.ndarray]) -> dict[str, str]:
    out = {}
    for queues in (1, 8):
        rss = hp.Rss(queues=queues)
        out[f"rss.q{queues}.hash"] = _digest(rss.hash(traces["mixed"]))
        out[f"rss.q{queues}.queue"] = _digest(rss.queue(traces["mixed"]))
    sym = hp.Rss(queues=8, key=hp.rss.symmetric_key())
    out["rss.symmetric.queue"] = _digest(sym.queue(traces["mixed"]))
    return out


def _run_maglev(traces: dict[str, np.ndarray]) -> dict[str, str]:
    mg = hp.Maglev([f"10.0.1.{i}:80" for i in range(10)])
    weighted = hp.Maglev([f"10.0.2.{i}:80" for i in range(7)], size=4099, weights=[1, 2, 3, 1, 1, 5, 2])
    hashes = hp.Rss().hash(traces["mixed"])
    # Named backends, not indices: the names chosen are the behaviour, whatever the indexing.
    return {
        "maglev.table": _digest([mg.backends[i] for i in mg.table[:4096]]),
        "maglev.lookup": _digest([mg.backends[i] for i in mg.lookup(hashes)[:4096]]),
        "maglev.weighted.slots": _digest(weighted.slots()),
    }


def _sharded_runs(make: Callable[[int], Any], trace: np.ndarray) -> Iterator[tuple[str, Any, list[Any]]]:
    """The same stage on one thread in one batch, two threads in one batch, two threads in chunks."""
    for label, threads, parts in (("t1", 1, 1), ("t2", 2, 1), ("t2.chunked", 2, 5)):
        stage = make(threads)
        results = [stage.process(c) for c in _chunks(trace, parts)]
        yield label, stage, results


def _joined(results: list[Any], field: str) -> np.ndarray:
    return np.concatenate([getattr(r, field) for r in results])


def _run_conntrack(traces: dict[str, np.ndarray]) -> dict[str, str]:
    out = {}
    for early_drop in (True, False):  # evicting unconfirmed connections, or refusing new ones
        for label, ct, results in _sharded_runs(
            lambda t, early_drop=early_drop: hp.ConnTrack(
                capacity=4_000, queues=4, timeouts=hp.Timeouts.linux(), early_drop=early_drop,
                loose=not early_drop, threads=t, seed=3),
            traces["mixed"],
        ):
            name = f"conntrack.early_drop{int(early_drop)}.{label}"
            out[f"{name}.verdict"] = _digest(_joined(results, "verdict"))
            out[f"{name}.counters"] = _digest(ct.counters)
            out[f"{name}.flows"] = _digest(_sorted_rows(ct.flows()))
            ct.expire(int(traces["mixed"]["ts"].max()) + 130 * 10**9)
            out[f"{name}.after_expire"] = _digest(ct.counters)
    return out


def _run_nat(traces: dict[str, np.ndarray]) -> dict[str, str]:
    out = {}
    trace = hp.traffic.merge(traces["many_to_one"], traces["mixed"])
    for label, nat, results in _sharded_runs(
        lambda t: hp.NatGateway(["203.0.113.10", "203.0.113.11"], ["10.0.0.0/8", "100.64.0.0/10", "198.18.0.0/16"],
                                capacity=16_000, queues=4, per_destination=3_000, threads=t, seed=5),
        trace,
    ):
        out[f"nat.{label}.verdict"] = _digest(_joined(results, "verdict"))
        out[f"nat.{label}.packets"] = _digest(_joined(results, "packets"))
        out[f"nat.{label}.counters"] = _digest(nat.counters)
        out[f"nat.{label}.metrics"] = _digest(nat.metrics)
        out[f"nat.{label}.connections"] = _digest(_sorted_rows(nat.connections()))
    return out


def _run_nlb(traces: dict[str, np.ndarray]) -> dict[str, str]:
    out = {}
    targets = [("10.0.1.5:443", "a"), ("10.0.1.6:443", "a"), ("10.0.1.7:443", "a"), ("10.0.2.9:443", "b")]

    def make(threads: int) -> hp.NetworkLoadBalancer:
        return hp.NetworkLoadBalancer(listeners=[(443, "tcp"), (53, "udp")], targets=targets,
                                      zones={"a": "198.19.0.1", "b": "198.19.0.2"}, queues=4, threads=threads,
                                      seed=9, table_size=4099)

    for label, nlb, results in _sharded_runs(make, traces["nlb_clients"]):
        out[f"nlb.{label}.verdict"] = _digest(_joined(results, "verdict"))
        out[f"nlb.{label}.packets"] = _digest(_joined(results, "packets"))
        out[f"nlb.{label}.target"] = _digest(_joined(results, "target"))
        out[f"nlb.{label}.counters"] = _digest(nlb.counters)
        out[f"nlb.{label}.metrics"] = _digest(nlb.metrics)
        out[f"nlb.{label}.flows_per_target"] = _digest(nlb.flows_per_target())
    # Health, draining and source NAT, applied between batches.
    trace = traces["nlb_clients"]
    half = len(trace) // 2
    for snat in (True, False):
        nlb = hp.NetworkLoadBalancer(listeners=[(443, "tcp")], targets=targets,
                                     zones={"a": "198.19.0.1", "b": "198.19.0.2"}, preserve_client_ip=snat,
                                     seed=11, table_size=4099, threads=1)
        first = nlb.process(trace[:half])
        nlb.set_health("10.0.1.5:443", healthy=False)
        nlb.deregister("10.0.1.6:443", at_ns=int(trace["ts"][half]))
        second = nlb.process(trace[half:])
        name = f"nlb.events.preserve{int(snat)}"
        out[f"{name}.verdict"] = _digest([first.verdict, second.verdict])
        out[f"{name}.packets"] = _digest([first.packets, second.packets])
        out[f"{name}.target"] = _digest([first.target, second.target])
        out[f"{name}.metrics"] = _digest(nlb.metrics)
    return out


def _run_ena(traces: dict[str, np.ndarray]) -> dict[str, str]:
    out = {}
    trace = hp.traffic.synthetic(flows=2_000, packets=200_000, seed=1, duration_s=0.25)
    for name, make in (
        ("c5.large.in", lambda: hp.ena.Interface("c5.large", direction="in", seed=1)),
        ("c5.xlarge.both", lambda: hp.ena.Interface("c5.xlarge", instance_ips=["10.0.0.0/9"], seed=2)),
        ("c3.large.in", lambda: hp.ena.Interface("c3.large", direction="in", conntrack=5_000, seed=3)),
    ):
        for parts in (1, 4):
            eni = make()
            results = [eni.process(c) for c in _chunks(trace, parts)]
            label = f"ena.{name}.p{parts}"
            out[f"{label}.verdict"] = _digest(_joined(results, "verdict"))
            out[f"{label}.delay"] = _digest(_joined(results, "delay_ns"))
            out[f"{label}.counters"] = _digest(eni.counters)
            out[f"{label}.latency"] = _digest(eni.latency())
    return out


def record() -> dict[str, str]:
    """Every part's digest, by name."""
    traces = _traces()
    out = {f"trace.{name}": _digest(t) for name, t in traces.items()}
    for run in (_run_rss, _run_maglev, _run_conntrack, _run_nat, _run_nlb, _run_ena):
        out |= run(traces)
    return out


def main(argv: list[str]) -> int:
    digests = record()
    if argv == ["--write"]:
        DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(digests)} digests to {DIGESTS}")
        return 0
    if argv:
        print("usage: python -m tests.golden.record [--write]", file=sys.stderr)
        return 2
    print(json.dumps(digests, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
