"""The ENA interface: what an EC2 instance's network interface does to its traffic.

``Interface("c5.large")`` spreads packets over the type's queues (RSS), holds them to
the type's allowances, queues what exceeds an allowance and drops what the queue
cannot hold, and adds latency:

- **packets per second**, in and out together (``pps_allowance_exceeded``);
- **bandwidth in** and **bandwidth out**, separately (``bw_in_allowance_exceeded``,
  ``bw_out_allowance_exceeded``): the baseline rate, and for "up to" sizes a burst
  rate while network I/O credits last (earned below the baseline, spent above it);
- **bandwidth per flow** (AWS's single-flow limit: 5 Gbps, 10 in a cluster placement
  group); AWS publishes no counter for it, so it has its own,
  :attr:`Interface.flow_allowance_exceeded`, and verdict ``DROP_FLOW_ALLOWANCE``;
- **link-local services**: 1024 packets per second per interface to the Amazon DNS
  resolver, the instance metadata service and the time service, dropped beyond
  (``linklocal_allowance_exceeded``);
- **connections tracked**: a connection tracker of the type's size; a packet that
  would open a connection beyond it is dropped (``conntrack_allowance_exceeded``;
  ``conntrack_allowance_available`` is what is left).

A packet over a bandwidth or packet-rate allowance waits in its direction's queue
until its tokens are there; when the queue is full it is dropped. ENA's counters
count both ("queued or dropped"). Every forwarded packet is delayed by the type's
latency plus its wait. Allowances are token buckets in packet time, exact to the
nanosecond. See ``docs/ena.md`` for the model and where each figure comes from.

>>> import hyperplane as hp
>>> from hyperplane.ena.interface import Interface
>>> eni = Interface("c5.large", direction="in", seed=1)
>>> eni.allowances.pps, eni.allowances.baseline_bps, eni.queues
(550000, 750000000, 2)
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.conntrack import Timeouts
from hyperplane.ena.catalog import InstanceType
from hyperplane.ena.catalog import instance_type as _lookup
from hyperplane.locking import Serialised, serialised
from hyperplane.packets import Batch
from hyperplane.rss import DEFAULT_KEY, KEY_SIZE
from hyperplane.stage import draw_seed
from hyperplane.verdict import packet_counters

Direction = Literal["in", "out", "both"]
DIRECTIONS: Final[tuple[str, ...]] = get_args(Direction)

COUNTERS: Final[tuple[str, ...]] = (
    "bw_in_allowance_exceeded",
    "bw_out_allowance_exceeded",
    "pps_allowance_exceeded",
    "conntrack_allowance_exceeded",
    "conntrack_allowance_available",
    "linklocal_allowance_exceeded",
)
"""ENA's allowance counters as ``ethtool -S`` names them, the keys of :attr:`Interface.counters`."""

LINK_LOCAL: Final[tuple[str, ...]] = ("169.254.169.0/24",)
"""The link-local services: DNS resolver 169.254.169.253, instance metadata 169.254.169.254,
Time Sync 169.254.169.123. An interface given its ``vpc_cidr`` adds the VPC's resolver too."""


def vpc_resolver(vpc_cidr: str) -> str:
    """The VPC's own address of the Amazon DNS server: its network's base plus two (AWS: "the
    reserved IP address at the base of the VPC network range 'plus two'"), e.g. 10.0.0.2."""
    try:
        net = ipaddress.IPv4Network(vpc_cidr)
    except (ValueError, TypeError) as e:
        raise ValueError(f"vpc_cidr: {e}") from None
    if net.num_addresses < 16:
        raise ValueError(f"vpc_cidr: a VPC is a /16 to /28, not {vpc_cidr}")
    return str(net.network_address + 2)

QUEUE_DEPTH: Final = 1024
"""Packets that may wait per direction: ENA's default ring size (1024 descriptors)."""

BURST_WINDOW_US: Final = 1000.0
"""Every token bucket's depth is this long at its rate, and at least two of its largest packets
(two packets; two MTU-sized packets' bits)."""

CREDIT_SECONDS_PER_VCPU: Final = 195.0
"""Estimate: an "up to" size bursts for 195 s per vCPU from full credits (c5.large 6.5 min,
c5.xlarge 13, c5.2xlarge 26, c5.4xlarge 52), matching measured burst durations and AWS's
"typically from 5 to 60 minutes"; see docs/ena.md."""

FLOW_SLOTS: Final = 4096
"""Per-flow buckets held at once (128 KB). A flow needs one only while its bucket is short of full:
for a few microseconds after each packet, or while it is over the single-flow limit."""

_QUEUE_ROWS: Final = ("rx_cnt", "rx_bytes", "tx_cnt", "tx_bytes")


class ProcessResult(NamedTuple):
    packets: Batch
    """The batch itself: the interface rewrites nothing (``ts + delay_ns`` is when each packet arrives)."""
    verdict: npt.NDArray[np.uint8]
    """A :class:`~hyperplane.verdict.Verdict` per packet."""
    delay_ns: npt.NDArray[np.uint64]
    """The flow's latency (below the type's class) plus the packet's wait in the queue; 0 for a
    dropped packet."""


@dataclass(frozen=True)
class Allowances:
    """What an :class:`Interface` holds its traffic to (0 means no limit)."""

    pps: int
    """Packets per second, in and out together."""
    baseline_bps: int
    """Bandwidth sustained in each direction, bit/s."""
    burst_bps: int
    """Bandwidth while credits last, bit/s (= baseline where there is no credit mechanism)."""
    credit_bits: int
    """Burst credits when full, bits per direction: (burst - baseline) x credit_seconds."""
    credit_seconds: float
    """How long full credits last at the burst rate."""
    flow_bps: int
    """Bandwidth of one flow in one direction, bit/s."""
    link_local_pps: int
    """Packets per second to link-local services."""
    conntrack: int
    """Connections tracked; 0: no tracking."""
    latency_ns: int
    """The latency class: every flow's latency is below it (``docs/ena.md``)."""
    queue_depth_packets: int
    """Packets that may wait per direction."""
    burst_window_ns: int
    """Each bucket's depth in time at its rate."""

    def sustained_pps(self, length: int) -> int:
        """Packets of ``length`` IP bytes per second one direction sustains once credits are spent."""
        return self._limit(self.baseline_bps, length)

    def burst_pps(self, length: int) -> int:
        """Packets of ``length`` IP bytes per second one direction reaches while credits last."""
        return self._limit(self.burst_bps, length)

    def _limit(self, bps: int, length: int) -> int:
        if not isinstance(length, int) or not 1 <= length <= 65535:
            raise ValueError(f"length must be an IP length in 1..65535, not {length!r}")
        rates = [r for r in (self.pps, bps // (8 * length) if bps else 0) if r]
        return min(rates) if rates else 0


def _networks(cidrs: Sequence[str], what: str) -> list[tuple[int, int]]:
    if isinstance(cidrs, str):
        raise ValueError(f"{what} must be a list of addresses or CIDRs, not one string")
    out = []
    for cidr in cidrs:
        try:
            net = ipaddress.IPv4Network(cidr)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{what}: {e}") from None
        out.append((int(net.network_address), int(net.netmask)))
    return out


def _type_of(instance_type: str | InstanceType) -> InstanceType:
    if isinstance(instance_type, InstanceType):
        return instance_type
    if isinstance(instance_type, str):
        return _lookup(instance_type)
    raise TypeError(f"instance_type must be a name or an InstanceType, not {type(instance_type).__name__}")


def _gbps(value: float) -> int:
    return round(value * 1e9)


class Interface(Serialised):
    """One ENA interface of an instance of ``instance_type`` (a name or an :class:`InstanceType`).

    **Without** ``instance_ips`` **(and no** ``direction``) **every packet counts as inbound**:
    the interface cannot tell otherwise. Which packets are inbound: with ``direction="in"``
    every packet, with ``"out"`` none, with ``"both"`` those whose destination is in
    ``instance_ips`` (the instance's addresses or CIDRs); those whose source is there are
    outbound, the rest get ``DROP_NOT_ROUTED``. By default the direction is ``"both"`` when
    ``instance_ips`` is given and ``"in"`` otherwise.

    Packets to ``link_local`` addresses are held to the link-local allowance alone (the card
    answers them); packets from there pass. ``vpc_cidr`` (the VPC the interface is in) adds
    the VPC's resolver, base + 2 (:func:`vpc_resolver`), as AWS counts it.

    Latency: each flow (directed 5-tuple) gets its own, below the type's latency class and
    drawn from ``seed`` (an estimate, ``docs/ena.md``), plus its wait in the queue.

    ``conntrack``: ``True`` tracks up to the type's figure, an int that many, ``False``
    nothing (``timeouts`` default: EC2 security groups'). ``placement_group`` takes the
    single-flow limit inside a cluster placement group. ``burst_credits`` is the fraction
    of the credits held at the first packet (1: a fresh instance); ``credit_seconds``
    overrides how long full credits last at the burst rate (default
    :data:`CREDIT_SECONDS_PER_VCPU` x vCPUs). ``queue_depth_packets`` (0: drop instead of
    queueing) and ``burst_window_us`` shape the queues and buckets. Any other keyword is
    a figure of the type to override (``pps=1_000_000``, ``baseline_gbps=2``, ``queues=4``,
    ``latency_us=0``), as :meth:`InstanceType.with_overrides`: ``pps`` in packets per second,
    ``*_gbps`` in gigabits per second, ``latency_us`` in microseconds. ``rss_key`` is the
    40-byte Toeplitz key of the queues; ``flow_slots`` the per-flow buckets held at once (a
    power of two). ``seed`` (an integer) fixes the hash keys of the tables and the flows'
    latencies (default: drawn, kept in :attr:`seed` and shown in the ``repr``, so passing it
    back replays the run); nothing else depends on it unless the per-flow table overflows.
    """

    def __init__(
        self,
        instance_type: str | InstanceType,
        direction: Direction | None = None,
        *,
        instance_ips: Sequence[str] | None = None,
        queue_depth_packets: int = QUEUE_DEPTH,
        conntrack: bool | int = True,
        timeouts: Timeouts | None = None,
        placement_group: bool = False,
        burst_credits: float = 1.0,
        credit_seconds: float | None = None,
        burst_window_us: float = BURST_WINDOW_US,
        link_local: Sequence[str] = LINK_LOCAL,
        vpc_cidr: str | None = None,
        rss_key: bytes = DEFAULT_KEY,
        flow_slots: int = FLOW_SLOTS,
        seed: int | None = None,
        **figures: Any,
    ) -> None:
        t = _type_of(instance_type)
        if isinstance(conntrack, bool):
            tracked = conntrack
        elif isinstance(conntrack, int) and conntrack >= 1:
            tracked, figures = True, {**figures, "conntrack": conntrack}
        else:
            raise ValueError(f"conntrack must be True, False or a positive number of connections, not {conntrack!r}")
        if figures:
            t = t.with_overrides(**figures)
        self.instance_type: InstanceType = t
        """The type, with any figures overridden."""

        if direction is None:
            direction = "both" if instance_ips is not None else "in"
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(map(repr, DIRECTIONS))}, not {direction!r}")
        if direction == "both" and not instance_ips:
            raise ValueError("direction='both' needs instance_ips: the instance's addresses tell inbound from outbound")
        if direction != "both" and instance_ips is not None:
            raise ValueError(f"instance_ips only applies to direction='both', not direction={direction!r}")
        self.direction: Direction = direction
        instance = _networks(instance_ips or [], "instance_ips")
        if isinstance(link_local, str):
            raise ValueError("link_local must be a list of addresses or CIDRs, not one string")
        link = _networks([*link_local, *([vpc_resolver(vpc_cidr)] if vpc_cidr is not None else [])], "link_local")

        if isinstance(queue_depth_packets, bool) or not isinstance(queue_depth_packets, int) or queue_depth_packets < 0:
            raise ValueError(f"queue_depth_packets must be an integer >= 0, not {queue_depth_packets!r}")
        if not 0.0 <= burst_credits <= 1.0:
            raise ValueError(f"burst_credits must be a fraction in [0, 1], not {burst_credits!r}")
        if credit_seconds is not None and not (math.isfinite(credit_seconds) and credit_seconds >= 0):
            raise ValueError(f"credit_seconds must be a number of seconds >= 0, not {credit_seconds!r}")
        window_ns = round(burst_window_us * 1000) if math.isfinite(burst_window_us) else 0
        if window_ns < 1:
            raise ValueError(f"burst_window_us must be at least 0.001, not {burst_window_us!r}")
        if not isinstance(rss_key, bytes) or len(rss_key) != KEY_SIZE:
            raise ValueError(f"rss_key must be {KEY_SIZE} bytes")
        if not isinstance(flow_slots, int) or flow_slots < 4 or flow_slots & (flow_slots - 1):
            raise ValueError(f"flow_slots must be a power of two >= 4, not {flow_slots!r}")
        self.timeouts = Timeouts.aws_sg() if timeouts is None else timeouts
        if not isinstance(self.timeouts, Timeouts):
            raise TypeError(f"timeouts must be a hyperplane.Timeouts, not {type(timeouts).__name__}")

        baseline, burst = _gbps(t.baseline_gbps), _gbps(t.burst_gbps)
        if credit_seconds is None:
            credit_seconds = CREDIT_SECONDS_PER_VCPU * t.vcpus if burst > baseline else 0.0
        credit_ns = round(credit_seconds * 1e9)
        self.allowances = Allowances(
            pps=t.pps,
            baseline_bps=baseline,
            burst_bps=max(burst, baseline),
            credit_bits=(burst - baseline) * credit_ns // 10**9 if burst > baseline else 0,
            credit_seconds=credit_seconds if burst > baseline else 0.0,
            flow_bps=_gbps(t.single_flow_placement_group_gbps if placement_group else t.single_flow_gbps),
            link_local_pps=t.link_local_pps,
            conntrack=t.conntrack if tracked else 0,
            latency_ns=round(t.latency_us * 1000),
            queue_depth_packets=queue_depth_packets,
            burst_window_ns=window_ns,
        )
        a = self.allowances
        seed_value = draw_seed(seed)
        self.seed: int = seed_value
        """The seed of the hash keys and the latencies (drawn when not given)."""
        rng = np.random.default_rng(seed_value)
        key = rng.bytes(32)
        cfg = _core.EnaConfig()
        cfg.queues, cfg.rss_key, cfg.direction = t.queues, rss_key, direction
        cfg.instance, cfg.link_local = instance, link
        cfg.pps, cfg.baseline_bps, cfg.burst_bps, cfg.credit_ns = a.pps, a.baseline_bps, a.burst_bps, credit_ns
        cfg.initial_credits, cfg.flow_bps, cfg.link_local_pps = float(burst_credits), a.flow_bps, a.link_local_pps
        cfg.window_ns, cfg.queue_depth, cfg.conntrack = window_ns, queue_depth_packets, a.conntrack
        cfg.timeouts_ns, cfg.hash_key = self.timeouts.as_ns(), key
        cfg.latency_ns, cfg.flow_slots, cfg.mtu = a.latency_ns, flow_slots, t.mtu
        cfg.latency_seed = int(rng.integers(0, 2**63))
        self._core = _core.EnaInterface(cfg)

    @property
    def queues(self) -> int:
        return self.instance_type.queues

    @serialised
    def process(
        self,
        batch: Batch,
        *,
        out: Batch | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        delay_out: npt.NDArray[np.uint64] | None = None,
    ) -> ProcessResult:
        """Take ``batch`` (in order of time) through the interface. Nothing is rewritten:
        ``packets`` is ``batch`` itself, or ``out`` holding a copy of it; ``verdict_out=`` and
        ``delay_out=`` reuse memory (docs/stages.md). State carries over: a trace fed in chunks
        gives the same result as in one call."""
        packets, verdict, delay = self._core.process(batch, out, verdict_out, delay_out)
        return ProcessResult(packets, verdict, delay)

    def share_packet_rate(self, other: Interface) -> None:
        """Take packets-per-second tokens from one allowance with ``other``, the same interface's
        other direction kept as a second ``Interface`` (AWS counts the allowance over both
        directions: "pps_allowance_exceeded: The number of packets queued or dropped because the
        bidirectional PPS exceeded the maximum for the instance", ENA documentation). Call it
        before either has seen a packet; both must have the same packet-rate allowance. Each call
        of either is in time order; when one's calls run ahead of the other's, the one behind sees
        both directions' packets in time order, the one ahead does not see the other's earlier
        packets until its next call (csrc/limits/shared_allowance.hpp)."""
        if not isinstance(other, Interface):
            raise TypeError(f"other must be an Interface, not {type(other).__name__}")
        self._core.share_pps(other._core)

    @serialised
    def queue_of(self, batch: Batch, *, out: npt.NDArray[np.uint16] | None = None) -> npt.NDArray[np.uint16]:
        """The queue RSS gives each packet (receive for inbound, transmit for outbound)."""
        return self._core.queue(batch, out)

    @serialised
    def flow_latency(self, batch: Batch, *, out: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.uint64]:
        """Each packet's flow latency in ns (below the type's class; the same for every packet of a
        flow), without any wait: a forwarded packet's ``delay_ns`` is this plus its wait."""
        return self._core.latencies(batch, out)

    @serialised
    def expire(self, now_ns: int) -> None:
        """Forget every tracked connection idle past its timeout at ``now_ns`` (packet time)."""
        if now_ns < 0:
            raise ValueError(f"now_ns must be >= 0, not {now_ns}")
        self._core.expire(now_ns)

    @property
    @serialised
    def counters(self) -> dict[str, int]:
        """ENA's allowance counters, named as ``ethtool -S`` names them (see :data:`COUNTERS`).

        The ``*_exceeded`` ones count packets queued or dropped (a packet over two
        allowances counts in both); ``conntrack_allowance_available`` is the connections
        that can still be tracked (0 without tracking).
        """
        values = self._core.counter_values()
        return {name: int(values[name]) for name in COUNTERS}

    @property
    @serialised
    def flow_allowance_exceeded(self) -> int:
        """Packets queued or dropped over the single-flow limit (hyperplane's; ENA has no such counter)."""
        return int(self._core.counter_values()["flow_allowance_exceeded"])

    @property
    @serialised
    def verdict_counts(self) -> dict[str, int]:
        """Packets by verdict: ``packets`` = ``forwarded`` + every drop reason."""
        return packet_counters(self._core.verdict_values())

    @property
    @serialised
    def queue_stats(self) -> dict[str, npt.NDArray[np.uint64]]:
        """Forwarded packets and IP bytes per queue, as ENA's ``queue_N_rx_cnt``, ``queue_N_rx_bytes``,
        ``queue_N_tx_cnt``, ``queue_N_tx_bytes``: arrays indexed by queue."""
        values = self._core.queue_values()
        return {name: values[k].copy() for k, name in enumerate(_QUEUE_ROWS)}

    @serialised
    def latency(self) -> dict[str, int]:
        """Latency of the forwarded packets in ns: ``p50``, ``p99``, ``p999`` and ``max``, with
        ``count`` (forwarded) and ``delayed`` (of them, those that waited). Quantiles are
        within 1/64 of the exact value (a bounded histogram); all 0 when nothing went through."""
        c = self._core
        out = {name: int(c.latency_quantile(q)) for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999))}
        return out | {"max": int(c.latency_max()), "count": int(c.forwarded), "delayed": int(c.delayed)}

    @property
    @serialised
    def credits(self) -> dict[str, float]:
        """Burst credits held at the latest packet's time, in bits, ``"in"`` and ``"out"``."""
        return {"in": self._core.credits_bits(True), "out": self._core.credits_bits(False)}

    @property
    @serialised
    def flow_evictions(self) -> int:
        """Times a flow's bucket, still in debt, lost its slot in the per-flow table to a newcomer
        (its debt forgiven): nonzero only when more flows than ``flow_slots`` send at once."""
        return int(self._core.flow_evictions)

    @property
    @serialised
    def connections(self) -> int:
        """Connections held by the tracker (call :meth:`expire` first for only the live ones)."""
        return int(self._core.connections)

    def __repr__(self) -> str:
        a = self.allowances
        return (f"Interface({self.instance_type.name!r}, direction={self.direction!r}, queues={self.queues}, "
                f"pps={a.pps:_}, baseline_gbps={a.baseline_bps / 1e9:g}, burst_gbps={a.burst_bps / 1e9:g}, "
                f"conntrack={a.conntrack:_}, seed={self.seed})")
