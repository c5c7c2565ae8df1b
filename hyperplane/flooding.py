"""Hash flooding, as an attacker would try it: flows crafted to collide under a known key.

A flow table finds a connection by its keyed hash: its home group is the hash's top bits. An
attacker who knew the key could send flows whose hashes share their top bits, all landing in a
few groups, so every lookup walks the same long chain. Each table's key is secret and drawn
fresh (``seed`` pins it for a replay), so flows crafted against one key spread like any others
under another. The same holds for RSS: flows aimed at one queue under the specification's key
spread over the queues under a random key, the one ENA uses by default.

:func:`colliding_flows` builds such flows (rejection sampling over random tuples: 1 in
``2**bits`` lands where aimed), for tests and the ``conntrack.flood*`` benchmark stages.
"""

from __future__ import annotations

import numpy as np

from hyperplane.conntrack import flow_hash
from hyperplane.packets import Batch, Proto, empty, ip
from hyperplane.rss import Rss

_CHUNK = 1 << 20


def _candidates(n: int, rng: np.random.Generator) -> Batch:
    """``n`` random UDP flows from 10/8 to one server, one packet each."""
    out = empty(n)
    out["src_ip"] = ip("10.0.0.0") + rng.integers(0, 1 << 24, n, dtype=np.uint32)
    out["src_port"] = rng.integers(1024, 65536, n, dtype=np.uint16)
    out["dst_ip"], out["dst_port"], out["proto"], out["length"] = ip("198.51.100.7"), 53, int(Proto.UDP), 100
    return out


def colliding_flows(count: int, key: bytes, *, bits: int = 8, seed: int = 1) -> Batch:
    """``count`` distinct flows whose flow hash under ``key`` has its top ``bits`` bits zero: all
    in the first 1/2**bits of any table keyed with ``key``. Timestamps 1 us apart."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, not {bits}")
    rng = np.random.default_rng(seed)
    found: list[Batch] = []
    have = 0
    limit = np.uint64(1 << (64 - bits))
    while have < count:
        c = _candidates(_CHUNK, rng)
        hit = c[flow_hash(c, key) < limit]
        found.append(hit)
        have += len(hit)
    flows = np.unique(np.concatenate(found))[:count]  # distinct tuples (a duplicate would not collide)
    rng.shuffle(flows)
    flows["ts"] = np.arange(len(flows), dtype=np.uint64) * 1000
    return flows


def random_flows(count: int, *, seed: int = 1) -> Batch:
    """``count`` distinct random flows like :func:`colliding_flows`' (the baseline), 1 us apart."""
    rng = np.random.default_rng(seed)
    flows = np.unique(_candidates(count * 2, rng))[:count]
    rng.shuffle(flows)
    flows["ts"] = np.arange(len(flows), dtype=np.uint64) * 1000
    return flows


def queue_aimed_flows(count: int, rss: Rss, queue: int = 0, *, seed: int = 1) -> Batch:
    """``count`` flows that ``rss`` (a known key) sends to ``queue``."""
    rng = np.random.default_rng(seed)
    found: list[Batch] = []
    have = 0
    while have < count:
        c = _candidates(_CHUNK // 4, rng)
        hit = c[rss.queue(c) == queue]
        found.append(hit)
        have += len(hit)
    return np.concatenate(found)[:count]
