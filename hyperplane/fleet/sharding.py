"""Shuffle sharding: each tenant gets a few nodes of its cell, drawn by a seeded shuffle.

AWS's argument (docs/fleet.md): with shards of 5 among 100 nodes, two tenants share no node
most of the time, and a tenant whose traffic kills its nodes takes down no other tenant whole.
The draw here is a shuffle of the cell's nodes, repeated until the shard shares at most half a
shard with every tenant already in the cell (``bound``); a matrix product checks a candidate
against all of them at once. The hypergeometric law gives what random shards would share, so a
placement can be checked against it.
"""

from __future__ import annotations

from math import comb

import numpy as np
import numpy.typing as npt

MAX_DRAWS = 2_000
"""Shuffles tried for one tenant before the cell is declared full at this overlap bound."""


def overlap_bound(shard_size: int) -> int:
    """The most nodes two tenants of a cell may share: half a shard (rounded down)."""
    return shard_size // 2


def draw_shard(rng: np.random.Generator, cell_size: int, shard_size: int,
               placed: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """A shard of ``shard_size`` of the cell's ``cell_size`` nodes (positions in the cell, sorted)
    sharing at most :func:`overlap_bound` nodes with each row of ``placed`` (tenants × nodes)."""
    bound = overlap_bound(shard_size)
    for _ in range(MAX_DRAWS):
        shard = np.sort(rng.permutation(cell_size)[:shard_size])
        if len(placed) == 0 or int(placed[:, shard].sum(axis=1).max()) <= bound:
            return shard
    raise ValueError(
        f"shard_size: no shard of {shard_size} among {cell_size} nodes shares at most {bound} with each of the "
        f"{len(placed)} tenants already in the cell (after {MAX_DRAWS} shuffles); add cells or nodes")


def hypergeometric_share(nodes: int, shard_size: int, at_least: int) -> float:
    """The chance that two random shards of ``shard_size`` among ``nodes`` share at least ``at_least``
    nodes (for 5 of 100: 23.0% at least one, 1.9% at least two)."""
    total = comb(nodes, shard_size)
    return sum(comb(shard_size, j) * comb(nodes - shard_size, shard_size - j)
               for j in range(at_least, shard_size + 1)) / total


def pair_overlaps(members: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Nodes shared by every pair of tenants (rows of ``members``, tenants × nodes), upper triangle."""
    m = members.astype(np.int64)
    shared = m @ m.T
    return shared[np.triu_indices(len(m), k=1)]
