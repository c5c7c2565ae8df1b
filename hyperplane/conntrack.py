"""Connection tracking at millions of flows, sharded over RSS queues.

``ConnTrack`` follows every TCP, UDP and ICMP echo connection through its life
in a fixed-capacity table, one shard per RSS queue; shards run on worker
threads with the GIL released and give the same result for any thread count.
See ``docs/conntrack.md`` for the state machine and the timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.counters import CONNTRACK_EVENTS
from hyperplane.locking import serialised
from hyperplane.packets import Batch
from hyperplane.stage import ShardedStage, default_threads, draw_seed
from hyperplane.verdict import CodeEnum, packet_counters

FLOW_DTYPE: np.dtype[np.void] = _core.FLOW_DTYPE
"""One row of :meth:`ConnTrack.flows`: both tuples, state, times, packets and bytes per direction."""

FLOW_RECORD_BYTES: int = _core.FLOW_RECORD_BYTES
"""Bytes the table spends on one connection's record (one cache line)."""


def flow_hash(batch: Batch, key: bytes, *, out: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.uint64]:
    """The flow table's keyed hash of each packet's connection (the same from both directions) under
    a 32-byte ``key`` (a table's :attr:`ConnTrack.hash_key`): what decides where the table looks.
    For studying collisions: flows crafted to collide under one key spread under another."""
    return _core.flow_hash(batch, key, out)


class TcpState(CodeEnum):
    """Linux conntrack's TCP states: the connection as seen from the middle of the path.

    ``print(hp.TcpState(3))`` prints ``ESTABLISHED``; ``hp.TcpState.names(flows["state"])``
    names a whole column. UDP and ICMP connections hold ``NONE``."""

    NONE = 0
    SYN_SENT = 1
    SYN_RECV = 2
    ESTABLISHED = 3
    FIN_WAIT = 4
    CLOSE_WAIT = 5
    LAST_ACK = 6
    TIME_WAIT = 7
    CLOSE = 8
    SYN_SENT2 = 9


@dataclass(frozen=True)
class Timeouts:
    """Idle timeouts in seconds: TCP by state, UDP, ICMP echo and every other protocol.

    UDP has two: ``udp`` until the flow has seen more than one request-response
    exchange (a reply, then another packet from the originator), ``udp_stream`` after.
    """

    tcp_syn_sent: float
    tcp_syn_recv: float
    tcp_established: float
    tcp_fin_wait: float
    tcp_close_wait: float
    tcp_last_ack: float
    tcp_time_wait: float
    tcp_close: float
    tcp_syn_sent2: float
    udp: float
    udp_stream: float
    icmp: float
    other: float

    @classmethod
    def linux(cls) -> Timeouts:
        """Linux's defaults (nf_conntrack_proto_{tcp,udp,icmp,generic}.c)."""
        return cls(
            tcp_syn_sent=120, tcp_syn_recv=60, tcp_established=432_000, tcp_fin_wait=120,
            tcp_close_wait=60, tcp_last_ack=30, tcp_time_wait=120, tcp_close=10, tcp_syn_sent2=120,
            udp=30, udp_stream=120, icmp=30, other=600,
        )

    @classmethod
    def aws_sg(cls) -> Timeouts:
        """EC2 security groups' documented defaults ("Connection tracking timeouts"):
        TCP established 432,000 s, UDP 30 s, UDP stream 180 s. AWS gives no figure for
        ICMP or other protocols here, nor for TCP's other states: those are Linux's, with
        ICMP counted among the 600 s of other protocols."""
        return cls.linux().replace(udp_stream=180, icmp=600)

    @classmethod
    def uniform(cls, seconds: float) -> Timeouts:
        """One idle timeout for every state and protocol (a NAT gateway's 350 s)."""
        return cls(**{f.name: seconds for f in fields(cls)})

    def replace(self, **seconds: float) -> Timeouts:
        """A copy with some timeouts changed: ``Timeouts.linux().replace(udp=60)``."""
        known = {f.name for f in fields(self)}
        unknown = set(seconds) - known
        if unknown:
            raise ValueError(f"unknown timeouts: {sorted(unknown)}; known: {sorted(known)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)} | seconds
        return Timeouts(**values)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 2**63 / 1e9:
                raise ValueError(f"timeout {f.name} must be a number of seconds >= 0, not {value!r}")

    def as_ns(self) -> npt.NDArray[np.uint64]:
        """In the core's order: index 0 unused, 1-9 by TcpState, then udp, udp_stream, icmp, other."""
        values = [0.0] + [getattr(self, f.name) for f in fields(self)]
        return np.array([round(v * 1e9) for v in values], dtype=np.uint64)


class ProcessResult(NamedTuple):
    packets: Batch
    """The batch as it leaves the stage (connection tracking does not rewrite it)."""
    verdict: npt.NDArray[np.uint8]
    """A :class:`~hyperplane.verdict.Verdict` per packet."""


class ConnTrack(ShardedStage[_core.ConnTrack]):
    """A connection tracker with room for ``capacity`` connections.

    - ``capacity``: connections held at once, over all shards.
    - ``queues``: shards (RSS queues, 1..128); the table is sharded by each packet's RSS queue
      (a symmetric Toeplitz key, so both directions meet) and each shard holds ``capacity / queues``.
    - ``timeouts``: idle timeouts in seconds by state and protocol (default :meth:`Timeouts.linux`).
    - ``loose``: pick up TCP connections mid-stream on a bare ACK, as Linux does by default;
      with ``loose=False`` such packets are invalid.
    - ``early_drop``: let a new connection evict the oldest unconfirmed one near it when the
      table is full, as Linux does under SYN floods.
    - ``threads``: worker threads (default: the machine's cores); speed only, never a result.
    - ``seed``: an integer fixing the table's hash key; without one a seed is drawn and kept in
      :attr:`seed` (shown in the ``repr``), so passing it back replays the run exactly.
    """

    def __init__(
        self,
        capacity: int,
        queues: int = 1,
        timeouts: Timeouts | None = None,
        *,
        loose: bool = True,
        early_drop: bool = False,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, not {capacity!r}")
        if not isinstance(queues, int) or not 1 <= queues <= 128:
            raise ValueError(f"queues must be in 1..128, not {queues!r}")
        self.timeouts = Timeouts.linux() if timeouts is None else timeouts
        if not isinstance(self.timeouts, Timeouts):
            raise TypeError(f"timeouts must be a hyperplane.Timeouts, not {type(timeouts).__name__}")
        self.threads = default_threads() if threads is None else threads
        self.loose, self.early_drop = bool(loose), bool(early_drop)
        cfg = _core.ConnTrackConfig()
        cfg.capacity, cfg.queues, cfg.loose, cfg.early_drop = capacity, queues, loose, early_drop
        cfg.timeouts_ns = self.timeouts.as_ns()
        self.seed = draw_seed(seed)
        self._hash_key = np.random.default_rng(self.seed).bytes(32)
        cfg.hash_key = self._hash_key
        self._core = _core.ConnTrack(cfg)

    def _extra_state(self) -> dict[str, Any]:
        return {"events": self._core.counter_values()[1]}

    def _restore_extra(self, extra: dict[str, Any]) -> None:
        self._core.restore_events(extra["events"])

    @property
    def capacity(self) -> int:
        return self._core.capacity

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the tables (records and control bytes, at most 80% full)."""
        return self._core.memory_bytes

    @serialised
    def process(
        self, batch: Batch, *, out: Batch | None = None, verdict_out: npt.NDArray[np.uint8] | None = None
    ) -> ProcessResult:
        """Track every packet of ``batch`` (a batch of ``PACKET_DTYPE``, in order of ``ts``, ns).
        Nothing is rewritten: ``packets`` is ``batch`` itself, or ``out`` holding a copy of it;
        ``verdict_out=`` reuses the verdict array (docs/stages.md)."""
        packets, verdict = self._core.process(batch, out, verdict_out, self._threads)
        return ProcessResult(packets, verdict)

    @serialised
    def flows(self) -> npt.NDArray[np.void]:
        """The connections held, as an array of :data:`FLOW_DTYPE`: both tuples (host-order addresses),
        ``state`` (a :class:`TcpState`), first and last packet time in ns, packets and IP bytes each
        way. ``hp.tables.table(ct.flows())`` reads them as a table, ``hp.tables.to_pandas`` as a frame."""
        return self._core.flows()

    @property
    def hash_key(self) -> bytes:
        """The flow table's secret 32-byte hash key (drawn from ``seed``): :func:`flow_hash` of a batch
        under it is where the table looks for each packet's connection."""
        return self._hash_key

    @serialised
    def shard_of(self, batch: Batch) -> npt.NDArray[np.uint16]:
        """The shard (RSS queue) each packet is tracked in."""
        return self._core.shard_of(batch)

    @property
    @serialised
    def counters(self) -> dict[str, int]:
        """Packets by verdict, events, and the table's fill.

        ``packets`` = ``forwarded`` + every drop reason; ``table_full`` is what ENA
        counts as ``conntrack_allowance_exceeded``.
        """
        verdicts, events = self._core.counter_values()
        out = packet_counters(verdicts)
        out |= dict(zip(CONNTRACK_EVENTS.names, events))
        out |= {"live": len(self), "capacity": self.capacity}
        return out

    def __repr__(self) -> str:
        return (f"ConnTrack(capacity={self.capacity:_}, queues={self.queues}, loose={self.loose}, "
                f"early_drop={self.early_drop}, seed={self.seed}, live={len(self):_})")
