"""Maglev consistent hashing: Google's network load balancer's backend table (NSDI 2016, §3.4).

Each backend has a preference list over the ``size`` (M, prime) slots of a
lookup table, ``permutation[j] = (offset + j * skip) mod M``, where ``offset``
and ``skip`` come from two hashes of its name. Backends take turns, in sorted
order of their names, each claiming the next slot on its list that is still
empty, until the table is full. A flow goes to ``table[hash % M]``.

Sorted turns make the table depend on the set of backends, not on the order a
caller lists them; but the caller's list is the one they index. So ``backends``,
``weights``, ``table``, ``lookup()`` and ``slots()`` all speak in the order given,
and the sorted order stays inside (``turns`` shows it).

The hashes are Envoy's: ``offset = XXH64(name, seed=0) mod M`` and
``skip = XXH64(name, seed=1) mod (M - 1) + 1``, over the name's UTF-8 bytes.
Weights are Envoy's too: a backend skips its turn until its weight has
accumulated to the pace of the heaviest backend, so slot shares follow weights.

With equal weights every turn claims a slot, so each backend gets
``M // N`` or ``M // N + 1`` slots (the first ``M % N`` names get the extra one).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import numpy.typing as npt

from hyperplane import _core

DEFAULT_SIZE = 65537
"""The paper's (and Envoy's) default table size: prime, and over 100 slots per backend up to 655 backends."""
SLOTS_PER_BACKEND = 100
"""The paper's rule for the table size, M > 100·N (NSDI 2016, §3.4, to keep backends' shares of the
hash space within about 1 % of each other); a smaller table is allowed, with a ``UserWarning``."""

_U32_MAX = 2**32 - 1
_U64 = 2**64 - 1


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 of ``data`` under ``seed``, computed by the C++ core (the hash behind every table)."""
    if not 0 <= seed <= _U64:
        raise ValueError(f"seed must be in 0..2**64-1, not {seed}")
    return _core.xxh64(bytes(data), seed)


def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin: exact for every n below 3.3e24, far beyond a table's size."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in small:
        return True
    if any(n % p == 0 for p in small):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _check_size(size: object, backends: int) -> int:
    if not isinstance(size, Integral) or isinstance(size, bool):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    size = int(size)
    if not is_prime(size):
        raise ValueError(f"size must be prime (the default is {DEFAULT_SIZE}), not {size}")
    if size > _U32_MAX:
        raise ValueError(f"size must be below 2**32, not {size}")
    if size <= backends:
        raise ValueError(f"size must be larger than the number of backends ({backends}), not {size}")
    if size < SLOTS_PER_BACKEND * backends:
        warnings.warn(
            f"size {size} is below {SLOTS_PER_BACKEND} slots per backend ({SLOTS_PER_BACKEND * backends} for "
            f"{backends}): Maglev's rule is M > 100·N (NSDI 2016, §3.4), and balance degrades below it",
            UserWarning,
            stacklevel=4,
        )
    return size


def _check_ints(values: object, name: str, count: int, lo: int, hi: int) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of integers, not {type(values).__name__}")
    if len(values) != count:
        raise ValueError(f"{name} must have one entry per backend ({count}), not {len(values)}")
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, Integral) or isinstance(v, bool):
            raise TypeError(f"{name}[{i}] must be an int, not {type(v).__name__}")
        if not lo <= int(v) <= hi:
            raise ValueError(f"{name}[{i}] must be in {lo}..{hi}, not {v}")
        out.append(int(v))
    return out


def _check_weights(weights: Sequence[int] | None, count: int) -> list[int]:
    if weights is None:
        return [1] * count
    return _check_ints(weights, "weights", count, 1, _U32_MAX)


def _check_names(backends: Sequence[str], *, at_least: int = 1) -> list[str]:
    if isinstance(backends, (str, bytes)) or not isinstance(backends, Sequence):
        raise TypeError(f"backends must be a sequence of names, not {type(backends).__name__}")
    names = list(backends)
    if len(names) < at_least:
        raise ValueError("backends must not be empty")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"backends[{i}] must be a str, not {type(name).__name__}")
        try:
            name.encode()
        except UnicodeEncodeError:
            raise ValueError(f"backends[{i}] is not encodable as UTF-8: {name!r}") from None
        if name in seen:
            raise ValueError(f"backends must be distinct: {name!r} appears more than once")
        seen.add(name)
    return names


def _checked(
    backends: Sequence[str], size: int, weights: Sequence[int] | None
) -> tuple[list[str], int, list[int], list[int]]:
    """Names and weights as given, the size, and the order of turns (indices into the names,
    sorted by name); every check of the configuration."""
    names = _check_names(backends)
    size = _check_size(size, len(names))
    w = _check_weights(weights, len(names))
    # Python orders str by code point, which is the UTF-8 byte order the core checks.
    return names, size, w, sorted(range(len(names)), key=names.__getitem__)


def _checked_permutations(
    offsets: Sequence[int], skips: Sequence[int], size: int, weights: Sequence[int] | None
) -> tuple[list[int], list[int], int, list[int]]:
    if isinstance(offsets, (str, bytes)) or not isinstance(offsets, (Sequence, np.ndarray)):
        raise TypeError(f"offsets must be a sequence of integers, not {type(offsets).__name__}")
    n = len(offsets)
    if n == 0:
        raise ValueError("offsets must not be empty: one per backend")
    size = _check_size(size, n)
    off = _check_ints(offsets, "offsets", n, 0, size - 1)
    sk = _check_ints(skips, "skips", n, 1, size - 1)
    return off, sk, size, _check_weights(weights, n)


# --- The reference: the paper's pseudocode with Envoy's weights, in plain Python -----------

_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _U64


def _round(acc: int, lane: int) -> int:
    return _rotl((acc + lane * _P2) & _U64, 31) * _P1 & _U64


def xxh64_reference(data: bytes, seed: int = 0) -> int:
    """XXH64 as its specification defines it, in Python: the model the core's XXH64 is held to."""
    n, p = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _U64, (seed + _P2) & _U64, seed, (seed - _P1) & _U64]
        while n - p >= 32:
            v = [_round(v[k], int.from_bytes(data[p + 8 * k : p + 8 * k + 8], "little")) for k in range(4)]
            p += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _U64
        for lane in v:
            h = ((h ^ _round(0, lane)) * _P1 + _P4) & _U64
    else:
        h = (seed + _P5) & _U64
    h = (h + n) & _U64
    while n - p >= 8:
        h = (_rotl(h ^ _round(0, int.from_bytes(data[p : p + 8], "little")), 27) * _P1 + _P4) & _U64
        p += 8
    if n - p >= 4:
        h = (_rotl(h ^ (int.from_bytes(data[p : p + 4], "little") * _P1 & _U64), 23) * _P2 + _P3) & _U64
        p += 4
    for byte in data[p:]:
        h = _rotl(h ^ (byte * _P5 & _U64), 11) * _P1 & _U64
    h = (h ^ (h >> 33)) * _P2 & _U64
    h = (h ^ (h >> 29)) * _P3 & _U64
    return h ^ (h >> 32)


def maglev_reference_from_permutations(
    offsets: Sequence[int], skips: Sequence[int], size: int, weights: Sequence[int] | None = None
) -> list[int]:
    """The table for explicit preference lists, backends taking turns in the order given."""
    off, sk, m, w = _checked_permutations(offsets, skips, size, weights)
    heaviest = max(w)
    following = [0] * len(off)  # the paper's next[i]
    target = [0] * len(off)  # Envoy's target_weight_
    table = [-1] * m
    filled, iteration = 0, 0
    while filled < m:
        iteration += 1
        for i in range(len(off)):
            if filled == m:
                break
            if iteration * w[i] < target[i]:
                continue
            target[i] += heaviest
            c = (off[i] + following[i] * sk[i]) % m
            while table[c] >= 0:
                following[i] += 1
                c = (off[i] + following[i] * sk[i]) % m
            table[c] = i
            following[i] += 1
            filled += 1
    return table


def maglev_reference(
    backends: Sequence[str], size: int = DEFAULT_SIZE, weights: Sequence[int] | None = None
) -> list[int]:
    """The table :class:`Maglev` builds, in pure Python: entry s indexes ``backends`` as given."""
    names, m, w, turns = _checked(backends, size, weights)
    keys = [names[i].encode() for i in turns]
    offsets = [xxh64_reference(k, 0) % m for k in keys]
    skips = [xxh64_reference(k, 1) % (m - 1) + 1 for k in keys]
    return [turns[t] for t in maglev_reference_from_permutations(offsets, skips, m, [w[i] for i in turns])]


# --- The table, built by the core ----------------------------------------------------------


class Maglev:
    """A Maglev lookup table: ``Maglev(["10.0.0.1:80", "10.0.0.2:80"])``.

    ``backends`` are names (any text, e.g. ``"ip:port"``); ``size`` is the table's number of
    slots, a prime larger than the number of backends
    (the paper keeps it above 100 per backend: below, a ``UserWarning``);
    ``weights``, one positive integer per backend, make slot shares proportional.
    Everything indexes ``backends`` in the order given; backends take their turns
    sorted by name (``turns``), so the table does not depend on that order.
    Raises ``ValueError``/``TypeError`` naming the argument on bad configuration.
    """

    _backends: tuple[str, ...]
    _turns: tuple[int, ...]
    _weights: tuple[int, ...]
    _size: int
    _table: npt.NDArray[np.uint32]
    _permutations: tuple[tuple[int, ...], tuple[int, ...]] | None

    def __init__(
        self, backends: Sequence[str], size: int = DEFAULT_SIZE, weights: Sequence[int] | None = None
    ) -> None:
        names, m, w, turns = _checked(backends, size, weights)
        by_turn = _core.maglev_table([names[i] for i in turns], np.array([w[i] for i in turns], dtype=np.uint32), m)
        table = np.array(turns, dtype=np.uint32)[by_turn]  # from turn order back to the order given
        self._setup(tuple(names), tuple(turns), tuple(w), m, table, None)

    @classmethod
    def from_permutations(
        cls,
        offsets: Sequence[int],
        skips: Sequence[int],
        size: int,
        weights: Sequence[int] | None = None,
        backends: Sequence[str] | None = None,
    ) -> Maglev:
        """The table for explicit preference lists (the paper's worked example is one).

        Backends take turns in the order given, not sorted; they are named
        ``backends`` (default ``B0``, ``B1``, … as in the paper).
        """
        off, sk, m, w = _checked_permutations(offsets, skips, size, weights)
        if backends is None:
            names = [f"B{i}" for i in range(len(off))]
        else:
            names = _check_names(backends)
            if len(names) != len(off):
                raise ValueError(f"backends must have one name per offset ({len(off)}), not {len(names)}")
        table = _core.maglev_table_from_permutations(
            np.array(off, dtype=np.uint32), np.array(sk, dtype=np.uint32), np.array(w, dtype=np.uint32), m
        )
        self = cls.__new__(cls)
        self._setup(tuple(names), tuple(range(len(names))), tuple(w), m, table, (tuple(off), tuple(sk)))
        return self

    def _setup(
        self,
        backends: tuple[str, ...],
        turns: tuple[int, ...],
        weights: tuple[int, ...],
        size: int,
        table: npt.NDArray[np.uint32],
        permutations: tuple[tuple[int, ...], tuple[int, ...]] | None,
    ) -> None:
        table.flags.writeable = False
        self._backends, self._turns, self._weights, self._size = backends, turns, weights, size
        self._table, self._permutations = table, permutations

    @property
    def backends(self) -> tuple[str, ...]:
        """Backend names in the order given; ``table``, ``lookup()`` and ``weights`` index this tuple."""
        return self._backends

    @property
    def turns(self) -> tuple[str, ...]:
        """Backend names in the order they take turns filling the table: sorted by name
        (``from_permutations``: the order given)."""
        return tuple(self._backends[i] for i in self._turns)

    @property
    def weights(self) -> tuple[int, ...]:
        """Each backend's weight, aligned with ``backends``."""
        return self._weights

    @property
    def size(self) -> int:
        return self._size

    @property
    def table(self) -> npt.NDArray[np.uint32]:
        """A read-only view of the table: the index into ``backends`` of each slot's owner."""
        return self._table.view()

    @property
    def offsets(self) -> tuple[int, ...]:
        """Each backend's first preference, ``XXH64(name, 0) mod size``."""
        return self._preference_lists()[0]

    @property
    def skips(self) -> tuple[int, ...]:
        """Each backend's stride, ``XXH64(name, 1) mod (size - 1) + 1``."""
        return self._preference_lists()[1]

    def _preference_lists(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if self._permutations is None:
            m, keys = self._size, [name.encode() for name in self._backends]
            self._permutations = (
                tuple(_core.xxh64(k, 0) % m for k in keys),
                tuple(_core.xxh64(k, 1) % (m - 1) + 1 for k in keys),
            )
        return self._permutations

    def lookup(
        self, hashes: npt.ArrayLike, *, out: npt.NDArray[np.uint32] | None = None
    ) -> npt.NDArray[np.uint32]:
        """The backend index of each hash, ``table[hash % size]`` (uint32); ``out=`` reuses memory.

        ``hashes`` is 1-D; uint32 and uint64 arrays are read in place, other
        non-negative integers are widened to uint64 first.
        """
        arr = np.asarray(hashes)
        if arr.ndim != 1:
            raise ValueError(f"hashes must be 1-D, not {arr.ndim}-D")
        if arr.dtype != np.uint32 and arr.dtype != np.uint64:
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"hashes must be integers (uint32 or uint64), not {arr.dtype}")
            if arr.size and arr.min() < 0:
                raise ValueError("hashes must be non-negative")
            arr = arr.astype(np.uint64)
        arr = np.require(arr, requirements=["C", "A"])
        return _core.maglev_lookup(self._table, arr, out)

    def slots(self) -> dict[str, int]:
        """How many slots each backend owns, in the order of ``backends``."""
        counts = np.bincount(self._table, minlength=len(self._backends))
        return {name: int(c) for name, c in zip(self._backends, counts)}

    def disruption(self, other: Maglev) -> float:
        """The fraction of slots whose backend (by name) differs in ``other``, a table of the same size."""
        if not isinstance(other, Maglev):
            raise TypeError(f"other must be a Maglev, not {type(other).__name__}")
        if other.size != self._size:
            raise ValueError(f"other must have the same size ({self._size}), not {other.size}")
        ids = {name: i for i, name in enumerate(sorted(set(self._backends) | set(other.backends)))}
        mine = np.array([ids[n] for n in self._backends], dtype=np.int64)[self._table]
        theirs = np.array([ids[n] for n in other.backends], dtype=np.int64)[other._table]
        return float(np.count_nonzero(mine != theirs)) / self._size

    def __repr__(self) -> str:
        weighted = "" if len(set(self._weights)) <= 1 else ", weighted"
        return f"Maglev(backends={len(self._backends)}, size={self._size}{weighted})"
