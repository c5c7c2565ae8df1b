"""What the Python side of every sharded stage (conntrack, NAT, NLB) shares.

The core's stages share one skeleton (csrc/runtime/sharded_stage.hpp) and one binding
template (csrc/bindings/stage.hpp), so their Python wrappers share one base too: the thread
count, expiry in packet time, packets by verdict, the connections held and, for the stages
with CloudWatch metrics, the per-minute series under the names of their counter family.
A stage's wrapper adds only its own configuration and listings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from hyperplane.counters import CounterFamily
from hyperplane.locking import Serialised, serialised
from hyperplane.verdict import packet_counters


def default_threads() -> int:
    """The machine's cores (those this process may run on)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


SEED_BITS = 63
"""A drawn seed has 63 bits: it fits a signed 64-bit integer (TOML, JSON readers, pandas)."""


def draw_seed(seed: int | None) -> int:
    """``seed`` checked (an integer in 0..2**64-1), or a fresh one drawn when it is ``None``.

    Every stage and network keeps the result as ``.seed`` and shows it in its ``repr``, so a run
    with a drawn seed can be replayed by passing that seed back."""
    if seed is None:
        return secrets.randbits(SEED_BITS)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer or None, not {type(seed).__name__}")
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be in 0..2**64-1, not {seed}")
    return int(seed)


class _Core(Protocol):
    def expire(self, now_ns: int) -> None: ...
    def verdict_values(self) -> list[int]: ...
    def __len__(self) -> int: ...
    @property
    def queues(self) -> int: ...


class _MeteredCore(_Core, Protocol):
    def metric_values(self) -> npt.NDArray[np.uint64]: ...
    @property
    def start_minute(self) -> int: ...


CoreT = TypeVar("CoreT", bound=_Core)
MeteredCoreT = TypeVar("MeteredCoreT", bound=_MeteredCore)


class ShardedStage(Serialised, Generic[CoreT]):
    """The thread count a stage runs its shards on (it changes speed, never a result),
    expiry in packet time, packets by verdict and connections held, over the stage's core."""

    _core: CoreT
    _threads: int
    seed: int
    """The seed of the stage's hash keys and random choices: the one given, or the one drawn."""

    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, value: int) -> None:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"threads must be a positive integer, not {value!r}")
        self._threads = value

    @property
    def queues(self) -> int:
        """Shards (RSS queues) the stage's state is split over."""
        return self._core.queues

    @serialised
    def expire(self, now_ns: int) -> None:
        """Remove every connection or flow idle past its timeout at ``now_ns`` (packet time, ns)."""
        if now_ns < 0:
            raise ValueError(f"now_ns must be >= 0, not {now_ns}")
        self._core.expire(now_ns)

    @property
    @serialised
    def counters(self) -> dict[str, int]:
        """Packets by verdict: ``packets`` = ``forwarded`` + every drop reason."""
        return packet_counters(self._core.verdict_values())

    @serialised
    def __len__(self) -> int:
        """Connections (flows) held, including any that timed out and were not yet swept."""
        return len(self._core)


class MeteredStage(ShardedStage[MeteredCoreT]):
    """A sharded stage with CloudWatch-style metrics per minute of packet time."""

    metric_family: ClassVar[CounterFamily]

    @property
    @serialised
    def metrics(self) -> dict[str, npt.NDArray[np.uint64]]:
        """The stage's CloudWatch metrics per minute of packet time, plus ``Timestamp`` (ns at each
        minute's start). Sums per minute, except the first metric (``ActiveConnectionCount``,
        ``ActiveFlowCount``): the most connections held at once during the minute, over shards."""
        return per_minute(self.metric_family.names, self._core.metric_values(), self._core.start_minute)


def per_minute(names: Sequence[str], values: npt.NDArray[np.uint64], start_minute: int) -> dict[str, npt.NDArray[np.uint64]]:
    """CloudWatch-style series: one array per metric (a value per minute of packet time, from
    ``start_minute`` on), plus ``Timestamp``, the ns at which each minute starts."""
    out = {name: values[:, k].copy() for k, name in enumerate(names)}
    out["Timestamp"] = (np.arange(len(values), dtype=np.uint64) + np.uint64(start_minute)) * np.uint64(60 * 10**9)
    return out
