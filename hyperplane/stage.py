"""What the Python side of every sharded stage (conntrack, NAT, NLB) shares.

The core's stages share one skeleton (csrc/runtime/sharded_stage.hpp) and one binding
template (csrc/bindings/stage.hpp), so their Python wrappers share one base too: the thread
count, expiry in packet time, packets by verdict, the connections held and, for the stages
with CloudWatch metrics, the per-minute series under the names of their counter family.
A stage's wrapper adds only its own configuration and listings.

The same base moves a stage's connections: ``export_state()`` gives them as an array of
:data:`STATE_DTYPE` and ``import_state()`` adds them to a stage of the same configuration, which
then decides their packets as the first would have (``docs/fleet.md``). Pickling and
``copy.deepcopy`` go through that round trip: the copy is rebuilt from the arguments the stage
was built with, its Python attributes, its connections, its packets by verdict and its metrics.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from hyperplane import _core
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


STATE_DTYPE: np.dtype[np.void] = _core.STATE_DTYPE
"""One connection as :meth:`ShardedStage.export_state` gives it (64 bytes): the key (``ip_lo``,
``ip_hi``, ``port_lo``, ``port_hi``, ``proto``; lower endpoint first, ``flags`` bit 0 set when it is
the originator), ``state`` (a :class:`~hyperplane.conntrack.TcpState` for TCP), ``flags``,
``timeout_class``, first and last packet time (ns), bytes and packets each way, and the binding:
``bind_ip``/``bind_port`` (NAT: the public address and port; NLB: the target's address and the
source-NAT port) and ``target`` (NLB: the target's index)."""


class ImportResult(NamedTuple):
    """What :meth:`ShardedStage.import_state` did with its rows (each counted once)."""

    imported: int
    """Rows added, including those that replaced a connection with the same key."""
    replaced: int
    """Of those, rows that replaced a connection the stage held."""
    table_full: int
    """Rows refused for want of room (the stage's ``capacity``), as a new connection would be."""
    conflict: int
    """Rows whose binding this stage cannot keep: a public address or target it does not have, a
    port outside its shard's slice or taken by another connection, a source it does not translate."""


class _Core(Protocol):
    def expire(self, now_ns: int) -> None: ...
    def verdict_values(self) -> list[int]: ...
    def export_state(self) -> npt.NDArray[np.void]: ...
    def import_state(self, state: npt.NDArray[np.void]) -> tuple[int, int, int, int]: ...
    def restore_verdicts(self, values: list[int]) -> None: ...
    def restore_start(self, start_minute: int) -> None: ...
    def __len__(self) -> int: ...
    @property
    def queues(self) -> int: ...
    @property
    def start_minute(self) -> int: ...


class _MeteredCore(_Core, Protocol):
    def metric_values(self) -> npt.NDArray[np.uint64]: ...
    def shard_metric_values(self, shard: int) -> npt.NDArray[np.uint64]: ...
    def restore_metrics(self, shard: int, values: npt.NDArray[np.uint64]) -> None: ...
    def minute_positions(self) -> list[int]: ...
    def resume_minutes(self, positions: list[int]) -> None: ...


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

    @serialised
    def export_state(self) -> npt.NDArray[np.void]:
        """Every connection held, as an array of :data:`STATE_DTYPE` (a copy: the stage goes on)."""
        return self._core.export_state()

    @serialised
    def import_state(self, state: npt.NDArray[np.void]) -> ImportResult:
        """Add the connections ``state`` (an array of :data:`STATE_DTYPE`, as :meth:`export_state`
        of a stage of the same configuration gives it) with their translations and targets; a row
        with the key of a connection held replaces it. Afterwards the stage decides their packets
        as the exporting stage would have. Every row is checked first: a wrong dtype raises
        ``TypeError``, a wrong shape or a row no stage could have exported ``ValueError`` (naming
        ``state`` and the row), and then nothing changes; a full table or a binding this stage
        cannot keep is counted in the result, not raised."""
        return ImportResult(*self._core.import_state(state))

    def _extra_state(self) -> dict[str, Any]:
        """What a copy carries besides connections and verdicts (the stages with more add it)."""
        return {}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        """Restores :meth:`_extra_state` into a freshly built stage."""

    def _after_restore(self) -> None:
        """Pushes Python-side state (targets, health) to a rebuilt core before its connections return."""

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:  # type: ignore[override]
        with self._lock:
            args, kwargs = self._init_args
            attributes = {k: v for k, v in vars(self).items() if k not in ("_core", "_lock", "_init_args")}
            verdicts = list(self._core.verdict_values())
            core = {"state": self._core.export_state(), "verdicts": verdicts, "extra": self._extra_state(),
                    "start_minute": self._core.start_minute if any(verdicts) else None}
            return _restore_stage, (type(self), args, kwargs, attributes, core)


class MeteredStage(ShardedStage[MeteredCoreT]):
    """A sharded stage with CloudWatch-style metrics per minute of packet time."""

    metric_family: ClassVar[CounterFamily]

    def _extra_state(self) -> dict[str, Any]:
        return {"metrics": [self._core.shard_metric_values(k) for k in range(self._core.queues)],
                "minutes": self._core.minute_positions()}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        for shard, values in enumerate(extra["metrics"]):
            self._core.restore_metrics(shard, values)
        self._core.resume_minutes(extra["minutes"])

    @property
    @serialised
    def metrics(self) -> dict[str, npt.NDArray[np.uint64]]:
        """The stage's CloudWatch metrics per minute of packet time, plus ``Timestamp`` (ns at each
        minute's start). Sums per minute, except the first metric (``ActiveConnectionCount``,
        ``ActiveFlowCount``): the most connections held at once during the minute, over shards."""
        return per_minute(self.metric_family.names, self._core.metric_values(), self._core.start_minute)


def _restore_stage(cls: type[ShardedStage[Any]], args: tuple[Any, ...], kwargs: dict[str, Any],
                   attributes: dict[str, Any], core: dict[str, Any]) -> ShardedStage[Any]:
    """A pickled or copied stage, rebuilt: its configuration from the arguments it was built with,
    then its Python attributes, then its connections, verdict counts and metrics."""
    stage: ShardedStage[Any] = cls(*args, **kwargs)
    vars(stage).update(attributes)
    stage._after_restore()
    result = ImportResult(*stage._core.import_state(core["state"]))
    if result.imported != len(core["state"]):
        raise ValueError(f"a copy of {cls.__name__} kept {result.imported} of {len(core['state'])} connections: {result}")
    stage._core.restore_verdicts(core["verdicts"])
    if core["start_minute"] is not None:
        stage._core.restore_start(core["start_minute"])
    stage._restore_extra(core["extra"])
    return stage


def per_minute(names: Sequence[str], values: npt.NDArray[np.uint64], start_minute: int) -> dict[str, npt.NDArray[np.uint64]]:
    """CloudWatch-style series: one array per metric (a value per minute of packet time, from
    ``start_minute`` on), plus ``Timestamp``, the ns at which each minute starts."""
    out = {name: values[:, k].copy() for k, name in enumerate(names)}
    out["Timestamp"] = (np.arange(len(values), dtype=np.uint64) + np.uint64(start_minute)) * np.uint64(60 * 10**9)
    return out
