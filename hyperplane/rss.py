"""ENA-style receive-side scaling: Toeplitz hash and indirection table.

The hash is the Microsoft RSS specification's Toeplitz hash over the IPv4
tuple in network byte order: source address, destination address, then for
TCP and UDP the source and destination ports. Every other protocol, and every
IP fragment (whose ports cannot be trusted), hashes on its addresses alone.
A packet's queue is ``indirection[hash & (len(indirection) - 1)]``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.locking import Serialised, serialised
from hyperplane.packets import Batch

KEY_SIZE = 40
"""Bytes in an RSS key: 320 bits, enough for IPv6 4-tuples (36 bytes of input)."""

DEFAULT_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"
)
"""The specification's well-known key, used by its verification suite."""

TABLE_SIZE = 128
"""ENA's indirection table has 128 entries."""

Impl = Literal["table", "bitserial"]
"""``table``: byte-indexed lookup tables (fast path); ``bitserial``: the spec's definition, bit by bit."""


def toeplitz(key: bytes, data: bytes) -> int:
    """The Toeplitz hash of ``data`` under ``key``, exactly as the specification defines it.

    ``data`` is the hash input in network byte order (e.g. 12 bytes: source IP,
    destination IP, source port, destination port) and may be at most
    ``len(key) - 4`` bytes long.
    """
    return _core.toeplitz(bytes(key), bytes(data))


def symmetric_key(pattern: bytes = b"\x6d\x5a") -> bytes:
    """A 40-byte key under which both directions of a flow hash alike.

    Repeating a 16-bit pattern makes the key's window at every bit equal to its
    window 16 bits later, so swapping the addresses (32 bits apart) and the
    ports (16 bits apart) leaves the hash unchanged (Woo and Park, 2012).
    """
    if len(pattern) != 2:
        raise ValueError(f"pattern must be 2 bytes, not {len(pattern)}")
    return bytes(pattern) * (KEY_SIZE // 2)


def default_indirection(queues: int, size: int = TABLE_SIZE) -> npt.NDArray[np.uint16]:
    """Queues dealt round-robin over the table, as Linux's ethtool default does."""
    return (np.arange(size) % queues).astype(np.uint16)


class Rss(Serialised):
    """RSS for one interface: ``Rss(queues=8)`` takes ENA's defaults.

    ``queues`` is the number of receive queues (1..65535); ``key`` the 40-byte Toeplitz key
    (default: the specification's key, so no seed: RSS is deterministic by its key);
    ``indirection`` maps the low bits of the hash to a queue (default: round-robin over
    ``table_size`` entries, which must be a power of two).

    Threads may share one: ``hash()`` reads only the key, fixed at construction, so threads
    hash in parallel; ``queue()`` and the indirection table take the object's lock. It
    pickles and copies by its key and table.
    """

    def __init__(
        self,
        queues: int = 8,
        key: bytes = DEFAULT_KEY,
        table_size: int = TABLE_SIZE,
        indirection: npt.ArrayLike | None = None,
    ) -> None:
        if not 1 <= queues <= 0xFFFF:
            raise ValueError(f"queues must be in 1..65535, not {queues}")
        if table_size < 1 or table_size & (table_size - 1):
            raise ValueError(f"table_size must be a power of two, not {table_size}")
        if len(key) != KEY_SIZE:
            raise ValueError(f"key must be {KEY_SIZE} bytes, not {len(key)}")
        self.queues = queues
        table = default_indirection(queues, table_size) if indirection is None else self._checked(indirection)
        self._core = _core.Rss(bytes(key), table)

    def _checked(self, indirection: npt.ArrayLike) -> npt.NDArray[np.uint16]:
        table = np.asarray(indirection)
        if table.ndim != 1 or not np.issubdtype(table.dtype, np.integer):
            raise TypeError("indirection must be a 1-D sequence of integer queue numbers")
        if len(table) < 1 or len(table) & (len(table) - 1):
            raise ValueError(f"indirection must have a power-of-two length, not {len(table)}")
        if len(table) and (table.min() < 0 or table.max() >= self.queues):
            raise ValueError(f"indirection entries must be queues in 0..{self.queues - 1}")
        return table.astype(np.uint16)

    @property
    def key(self) -> bytes:
        return self._core.key

    def __reduce__(self) -> tuple[type[Rss], tuple[int, bytes, int, npt.NDArray[np.uint16]]]:  # type: ignore[override]
        table = self.indirection
        return (Rss, (self.queues, self.key, len(table), table))

    @property
    @serialised
    def indirection(self) -> npt.NDArray[np.uint16]:
        """A copy of the indirection table; assign to change it (ethtool -X)."""
        return self._core.indirection

    @indirection.setter
    @serialised
    def indirection(self, table: npt.ArrayLike) -> None:
        self._core.indirection = self._checked(table)

    def hash(
        self, batch: Batch, *, out: npt.NDArray[np.uint32] | None = None, impl: Impl = "table"
    ) -> npt.NDArray[np.uint32]:
        """The Toeplitz hash of each packet (uint32); ``out=`` reuses memory."""
        return self._core.hash(batch, out, impl)

    @serialised
    def queue(self, batch: Batch, *, out: npt.NDArray[np.uint16] | None = None) -> npt.NDArray[np.uint16]:
        """The receive queue of each packet (uint16)."""
        return self._core.queue(batch, out)

    def __repr__(self) -> str:
        key = "DEFAULT_KEY" if self.key == DEFAULT_KEY else f"{self.key[:4].hex()}..."
        return f"Rss(queues={self.queues}, key={key}, table_size={len(self.indirection)})"
