"""What the Python side of every sharded stage (conntrack, NAT, NLB) shares."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt


def default_threads() -> int:
    """The machine's cores (those this process may run on)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Core(Protocol):
    def expire(self, now_ns: int) -> None: ...


CoreT = TypeVar("CoreT", bound=_Core)


class ShardedStage(Generic[CoreT]):
    """The thread count a stage runs its shards on (it changes speed, never a result),
    and expiry in packet time, over the stage's core object."""

    _core: CoreT
    _threads: int

    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, value: int) -> None:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"threads must be a positive integer, not {value!r}")
        self._threads = value

    def expire(self, now_ns: int) -> None:
        """Remove every connection or flow idle past its timeout at ``now_ns`` (packet time)."""
        if now_ns < 0:
            raise ValueError(f"now_ns must be >= 0, not {now_ns}")
        self._core.expire(now_ns)


def per_minute(names: Sequence[str], values: npt.NDArray[np.uint64], start_minute: int) -> dict[str, npt.NDArray[np.uint64]]:
    """CloudWatch-style series: one array per metric (a value per minute of packet time, from
    ``start_minute`` on), plus ``Timestamp``, the ns at which each minute starts."""
    out = {name: values[:, k].copy() for k, name in enumerate(names)}
    out["Timestamp"] = (np.arange(len(values), dtype=np.uint64) + np.uint64(start_minute)) * np.uint64(60 * 10**9)
    return out
