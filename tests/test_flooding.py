"""Hash flooding: flows crafted to collide under one table's key land in 1/256 of that table, and
spread like random flows under another key (every table draws its own); a table flooded under
its own key still finds every connection (the overflow counts keep probing right). RSS: flows
aimed at one queue under the specification's key spread over the queues under a random key.
How fast a flooded table runs is the benchmark's (``hyperplane bench --only 'conntrack.flood*'``)."""

from __future__ import annotations

import numpy as np

import hyperplane as hp
from hyperplane.conntrack import flow_hash
from hyperplane.flooding import colliding_flows, queue_aimed_flows

N = 20_000


def test_crafted_flows_collide_under_their_key_only() -> None:
    aimed, other = hp.ConnTrack(100, seed=1).hash_key, hp.ConnTrack(100, seed=2).hash_key
    flows = colliding_flows(N, aimed)
    assert len(np.unique(flows)) == N
    assert (flow_hash(flows, aimed) >> np.uint64(56) == 0).all()  # all in the first 1/256
    buckets = np.bincount((flow_hash(flows, other) >> np.uint64(56)).astype(np.int64), minlength=256)
    expected = N / 256
    chi2 = float(((buckets - expected) ** 2 / expected).sum())
    assert chi2 < 256 + 5 * np.sqrt(2 * 256)  # uniform: chi-square of 255 degrees, 5 sigma
    assert buckets.max() < 2 * expected


def test_a_table_flooded_under_its_own_key_stays_correct() -> None:
    ct = hp.ConnTrack(N + N // 4, queues=1, seed=1)
    flows = colliding_flows(N, ct.hash_key)
    _, v = ct.process(flows)
    assert (v == hp.Verdict.FORWARD).all() and len(ct) == N
    again = flows.copy()
    again["ts"] += 10**9
    _, v = ct.process(again)
    c = ct.counters
    assert (v == hp.Verdict.FORWARD).all() and c["created"] == N and c["tracked"] == N


def test_flows_aimed_at_one_rss_queue_spread_under_a_random_key() -> None:
    spec = hp.Rss(queues=8)  # the specification's key, known to anyone
    flows = queue_aimed_flows(N, spec, 0)
    assert (spec.queue(flows) == 0).all()
    secret = hp.Rss(queues=8, key=np.random.default_rng(7).bytes(40))
    share = np.bincount(secret.queue(flows), minlength=8) / N
    assert np.allclose(share, 1 / 8, atol=0.01)
