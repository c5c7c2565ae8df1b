"""A NAT gateway with AWS NAT Gateway semantics.

Sources in private networks leave through a set of public addresses; replies
are translated back; everything a gateway refuses is a counted verdict:

- a new connection gets a public (address, port) from 1024-65535, at random
  (seeded), and a port may repeat toward different destinations; at most 55,000
  simultaneous connections per public address and destination (IP, port,
  protocol); when none is free: ``DROP_NO_PORT`` and ``ErrorPortAllocation``;
- inbound packets to a public address are translated back when they match a live
  connection, otherwise ``DROP_UNSOLICITED``;
- connections idle for 350 s (settable) are gone (``IdleTimeoutCount``); a TCP
  packet from inside with no live connection (timed out, or never opened) gets
  ``RESET``: the gateway answers with an RST, not a FIN;
- TCP, UDP and ICMP echo (the identifier translated like a port) cross; other
  protocols get ``DROP_PROTOCOL``; fragments (``PacketFlag.FRAGMENT``) of UDP are
  forwarded, of TCP and ICMP dropped (``DROP_FRAGMENT``);
- optional packet and bit rate limits of the gateway (``DROP_RATE_LIMIT``).

See ``docs/nat.md`` for sharding, port allocation near exhaustion and the metrics.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.conntrack import Timeouts
from hyperplane.counters import NAT_METRICS
from hyperplane.locking import serialised
from hyperplane.packets import Batch
from hyperplane.stage import MeteredStage, default_threads, draw_seed

CONNECTION_DTYPE: np.dtype[np.void] = _core.NAT_CONNECTION_DTYPE
"""One row of :meth:`NatGateway.connections`: private, remote and public tuples, state, times,
packets and bytes each way."""
METRICS: list[str] = NAT_METRICS.names
"""CloudWatch's NAT gateway metrics, in the order of :attr:`NatGateway.metrics`."""

IDLE_TIMEOUT_S = 350.0
"""AWS: a NAT gateway connection idle for 350 seconds or more times out."""
PORTS_PER_DESTINATION = 55_000
"""AWS: simultaneous connections per public IPv4 address per unique destination."""
BASE_LIMITS = (1e6, 5.0)
"""AWS: a NAT gateway "can process one million packets per second" and "supports 5 Gbps of
bandwidth" (pps, Gbps) ..."""
MAX_LIMITS = (10e6, 100.0)
"""... "and automatically scales up to ten million packets per second" and "up to 100 Gbps"."""
MAX_PUBLIC_IPS = 8
"""AWS: up to 8 public IPv4 addresses per NAT gateway (the quota, beyond which ``beyond_aws=True``)."""
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
"""RFC 1918 and shared address space: what a VPC's private networks are drawn from."""


class ProcessResult(NamedTuple):
    packets: Batch
    """The packets as they leave the gateway: sources of outbound, destinations of inbound rewritten."""
    verdict: npt.NDArray[np.uint8]
    """A :class:`~hyperplane.verdict.Verdict` per packet."""


def _rates(limits: bool, max_pps: float | None, max_gbps: float | None) -> str:
    """The rate limits in words, for the ``repr``."""
    pps = f"{max_pps / 1e6:g} Mpps" if max_pps else f"{BASE_LIMITS[0] / 1e6:g}-{MAX_LIMITS[0] / 1e6:g} Mpps" if limits else ""
    gbps = f"{max_gbps:g} Gbps" if max_gbps else f"{BASE_LIMITS[1]:g}-{MAX_LIMITS[1]:g} Gbps" if limits else ""
    return ", ".join(r for r in (pps, gbps) if r) or "none"


def _address(text: str, what: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


class NatGateway(MeteredStage[_core.NatGateway]):
    """A NAT gateway with the public addresses ``public_ips`` (AWS allows up to 8).

    - ``public_ips``: dotted IPv4 addresses the gateway translates to.
    - ``private_cidrs``: the networks (CIDRs) whose sources are translated.
    - ``capacity``: simultaneous connections held (``DROP_TABLE_FULL`` beyond).
    - ``queues``: shards, as conntrack's (1..128); each shard owns a slice of every public
      address's ports and enforces its share of the per-destination limit and of the rate limits.
    - ``idle_timeout``: seconds a connection may idle (AWS: 350); ``timeouts`` instead sets
      seconds per state and protocol (:class:`~hyperplane.conntrack.Timeouts`).
    - ``per_destination``: simultaneous connections per public address and destination (55,000).
    - Rates, as AWS's gateway: it starts at ``BASE_LIMITS`` (1 Mpps, 5 Gbps), scales up under
      sustained load to ``MAX_LIMITS`` (10 Mpps, 100 Gbps) and drops beyond (``DROP_RATE_LIMIT``);
      how fast it scales is an estimate (``docs/nat.md``). ``max_pps`` (packets per second) and
      ``max_gbps`` (gigabits per second of IP bytes) instead fix a cap that does not scale;
      ``limits=False`` removes every rate limit (the gateway as a pure function).
    - ``port_slice=(k, n)``: the gateway is slice ``k`` of ``n`` sharing the same public addresses
      (the nodes of a fleet tenant, ``hyperplane.fleet``): it gives out only its slice's ports and
      ``1/n`` of the per-destination limit, so a reply's port names the node that holds it.
    - ``beyond_aws=True`` accepts more than AWS's 8 public addresses, for studies past its quota.
    - ``threads``: worker threads (default: the machine's cores); speed only, never a result.
    - ``seed``: an integer fixing port choice and the table's hash key; without one a seed is
      drawn and kept in :attr:`seed` (shown in the ``repr``), so passing it back replays the run.
    """

    metric_family = NAT_METRICS

    def __init__(
        self,
        public_ips: Sequence[str],
        private_cidrs: Sequence[str] = PRIVATE_CIDRS,
        *,
        capacity: int = 1_000_000,
        queues: int = 1,
        idle_timeout: float = IDLE_TIMEOUT_S,
        timeouts: Timeouts | None = None,
        per_destination: int = PORTS_PER_DESTINATION,
        limits: bool = True,
        max_pps: float | None = None,
        max_gbps: float | None = None,
        beyond_aws: bool = False,
        port_slice: tuple[int, int] = (0, 1),
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        if isinstance(public_ips, str) or not 1 <= len(public_ips) <= 255:
            raise ValueError("public_ips must be a list of 1 to 255 addresses (AWS allows up to 8)")
        if len(public_ips) > MAX_PUBLIC_IPS and not beyond_aws:
            raise ValueError(
                f"public_ips: a NAT gateway has at most {MAX_PUBLIC_IPS} public IPv4 addresses (AWS), not "
                f"{len(public_ips)}; pass beyond_aws=True to model more"
            )
        ips = [_address(a, "public_ips") for a in public_ips]
        if len(set(ips)) != len(ips):
            raise ValueError("public_ips must not repeat an address")
        if isinstance(private_cidrs, str):
            raise ValueError("private_cidrs must be a list of CIDRs, not one string")
        networks = []
        for cidr in private_cidrs:
            try:
                net = ipaddress.IPv4Network(cidr)
            except ValueError as e:
                raise ValueError(f"private_cidrs: {e}") from None
            networks.append((int(net.network_address), int(net.netmask)))
            if any(ip in net for ip in map(ipaddress.IPv4Address, ips)):
                raise ValueError(f"private_cidrs: {cidr} contains a public address")
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, not {capacity!r}")
        if not isinstance(queues, int) or not 1 <= queues <= 128:
            raise ValueError(f"queues must be in 1..128, not {queues!r}")
        if not isinstance(per_destination, int) or not 1 <= per_destination <= 64_512:
            raise ValueError(f"per_destination must be in 1..64512, not {per_destination!r}")
        if len(port_slice) != 2 or not 0 <= port_slice[0] < port_slice[1] or port_slice[1] * queues > 4096:
            raise ValueError(f"port_slice must be (k, n) with 0 <= k < n and n * queues <= 4096, not {port_slice!r}")
        if idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be positive, not {idle_timeout}")
        for name, value in (("max_pps", max_pps), ("max_gbps", max_gbps)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        self.public_ips = list(public_ips)
        self.timeouts = Timeouts.uniform(idle_timeout) if timeouts is None else timeouts
        self.threads = default_threads() if threads is None else threads
        self.seed = seed_value = draw_seed(seed)
        self.capacity, self.per_destination = capacity, per_destination
        self._rates = _rates(limits, max_pps, max_gbps)
        cfg = _core.NatConfig()
        cfg.capacity, cfg.queues, cfg.seed = capacity, queues, seed_value
        cfg.timeouts_ns = self.timeouts.as_ns()
        cfg.hash_key = np.random.default_rng(seed_value).bytes(32)
        cfg.public_ips, cfg.private_networks, cfg.per_destination = ips, networks, per_destination
        cfg.port_slice, cfg.port_slices = port_slice
        self.port_slice = tuple(port_slice)
        base_pps, top_pps = (max_pps, max_pps) if max_pps else (BASE_LIMITS[0], MAX_LIMITS[0])
        base_gbps, top_gbps = (max_gbps, max_gbps) if max_gbps else (BASE_LIMITS[1], MAX_LIMITS[1])
        if limits or max_pps:
            cfg.base_pps, cfg.max_pps = base_pps, top_pps
        if limits or max_gbps:
            cfg.base_bps, cfg.max_bps = base_gbps * 1e9, top_gbps * 1e9
        self._core = _core.NatGateway(cfg)

    @serialised
    def process(
        self, batch: Batch, *, out: Batch | None = None, verdict_out: npt.NDArray[np.uint8] | None = None
    ) -> ProcessResult:
        """Translate ``batch`` (a batch of ``PACKET_DTYPE``, in order of ``ts``, ns). ``out=`` (which may be ``batch`` itself) and
        ``verdict_out=`` reuse memory."""
        packets, verdict = self._core.process(batch, out, verdict_out, self._threads)
        return ProcessResult(packets, verdict)

    @serialised
    def connections(self) -> npt.NDArray[np.void]:
        """Live connections, as an array of ``CONNECTION_DTYPE``: private, remote and public tuples
        (host-order addresses), ``state`` (a :class:`~hyperplane.conntrack.TcpState` for TCP), first
        and last packet time in ns, packets and IP bytes each way. ``hp.tables.table(nat.connections())``
        reads them as a table (dotted addresses, names), ``hp.tables.to_pandas`` as a frame."""
        return self._core.connections()

    def __repr__(self) -> str:
        t = self.timeouts
        idle = f"idle_timeout={t.tcp_established:g}" if len(set(vars(t).values())) == 1 else "timeouts=per state"
        return (f"NatGateway(public_ips={self.public_ips}, capacity={self.capacity:_}, queues={self.queues}, {idle}, "
                f"rates={self._rates!r}, seed={self.seed}, connections={len(self):_})")
