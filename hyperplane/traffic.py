"""Seeded synthetic traffic: batches of :data:`~hyperplane.packets.PACKET_DTYPE`.

Every generator here answers a scenario question with packets a stage can eat:

* :func:`synthetic` -- a mix of TCP and UDP flows with Zipf-like sizes, full TCP
  handshakes and teardowns, for conntrack, RSS and NLB runs;
* :func:`many_to_one` -- many private clients opening connections to one destination,
  the NAT gateway's port-exhaustion case;
* :func:`syn_flood` -- spoofed SYNs at a fixed rate at one target;
* :func:`elephant` -- one long TCP flow at a given bit rate, the single-flow limit case;
* :func:`merge` -- several batches as one, to compose scenarios.

Why it is built the way it is:

* **Deterministic.** ``seed`` is a required keyword everywhere and all randomness comes from
  one ``np.random.default_rng(seed)`` drawn in a fixed order, so a scenario is replayable
  byte for byte (DESIGN.md §1, determinism).
* **Vectorised.** Generators describe flows as per-flow arrays and packets as per-packet
  arrays laid out *flow-major* (all of flow 0, then all of flow 1, ...); one shared builder,
  :func:`_build`, turns them into a batch. No Python loop runs per packet or per flow, so ten
  million packets take seconds.
* **Ordered.** A batch is sorted by ``ts`` with a *stable* sort, and each flow's timestamps are
  non-decreasing in protocol order, so the sort never reorders a flow: a SYN always comes
  before its SYN|ACK, even when they share a nanosecond.
* **Flows are distinct.** Each flow of :func:`synthetic` and :func:`many_to_one` has its own
  (client address, client port). Client ports are Linux's ephemeral range (32768-60999) and
  :func:`synthetic`'s server ports are all below 32768, so a flow's reverse direction is never
  another flow's forward direction either, whatever CIDRs the caller passes.

Conventions shared by all generators: ``length`` is the IP total length; TCP segments are
20 bytes of IP + 20 of TCP (40) plus payload, except SYN and SYN|ACK, which carry 20 bytes of
options and no payload (60). ``seq`` is the TCP sequence number: each direction starts at its
own random initial sequence number (ISN) on the SYN or SYN|ACK and advances by the payload,
plus one for SYN and for FIN, exactly as TCP counts. UDP packets carry ``seq`` 0.
"""

from __future__ import annotations

import ipaddress
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

from hyperplane.packets import PACKET_DTYPE, Batch, Proto, TcpFlag, empty

__all__ = [
    "EPHEMERAL_PORTS",
    "IMIX",
    "elephant",
    "many_to_one",
    "merge",
    "syn_flood",
    "synthetic",
]

Bools = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_T = TypeVar("_T", bound=np.generic)

EPHEMERAL_PORTS: Final = (32768, 60999)
"""Client source ports: Linux's default ``net.ipv4.ip_local_port_range``."""
_EPHEMERAL_FIRST: Final = EPHEMERAL_PORTS[0]
_EPHEMERAL_COUNT: Final = EPHEMERAL_PORTS[1] - EPHEMERAL_PORTS[0] + 1

IMIX: Final = ((40, 7), (576, 4), (1500, 1))
"""Simple IMIX: (IP length, weight). The classic 7:4:1 mix used to benchmark forwarding."""
_IMIX_TABLE: Final = np.repeat(
    np.array([length for length, _ in IMIX], dtype=np.uint16), [weight for _, weight in IMIX]
)
_DATA_TABLE: Final = _IMIX_TABLE[_IMIX_TABLE > 40]
"""IMIX without its 40-byte packets: a segment drawn from here always carries payload."""

_TCP_SERVER_PORTS: Final = ((443, 0.70), (80, 0.20), (8080, 0.05), (8443, 0.03), (22, 0.02))
"""Server ports of synthetic TCP flows and their shares: mostly HTTPS, then HTTP."""
_UDP_SERVER_PORTS: Final = ((53, 0.50), (443, 0.40), (123, 0.10))
"""Server ports of synthetic UDP flows: DNS, QUIC, NTP."""

_TCP_HEADER: Final = 40
"""IP + TCP header bytes without options: a segment's payload is ``length - 40``."""
_SYN_LENGTH: Final = 60
"""A SYN or SYN|ACK with the usual 20 bytes of options (MSS, SACK-permitted, timestamps, wscale)."""
_FLOOD_SYN_LENGTH: Final = 40
"""Flood tools (hping3 and the like) send bare SYNs without options."""
_DATA_REPLY_TENTHS: Final = 8
"""Of synthetic TCP segments with payload, 8 in 10 go server to client (downloads dominate)."""
_UDP_REPLY_TENTHS: Final = 5
"""After its first datagram, a synthetic UDP flow's packets go either way, evenly."""
_GAP_NS: Final = (1_000.0, 10_000_000.0)
"""A flow's mean gap between packets is log-uniform over 1 us .. 10 ms: LAN to WAN pacing."""

_MAX_NS: Final = 2**63
"""Timestamps are computed in int64: a scenario must end before 2**63 ns (292 years)."""

_C2S: Final = False
_S2C: Final = True

_FIN, _SYN, _PSH, _ACK = (int(TcpFlag.FIN), int(TcpFlag.SYN), int(TcpFlag.PSH), int(TcpFlag.ACK))

_TCP_OPEN_CLOSE: Final = (
    (_SYN, _C2S, _SYN_LENGTH),
    (_SYN | _ACK, _S2C, _SYN_LENGTH),
    (_ACK, _C2S, _TCP_HEADER),
    (_FIN | _ACK, _C2S, _TCP_HEADER),
    (_FIN | _ACK, _S2C, _TCP_HEADER),
    (_ACK, _C2S, _TCP_HEADER),
)
"""(flags, server-to-client?, length) of a TCP flow's first three and last three packets:
the three-way handshake, then a client-initiated close. A TCP flow has at least these six."""
_TCP_MIN_PACKETS: Final = len(_TCP_OPEN_CLOSE)
_CLIENT_OPEN: Final = ((_SYN, _SYN_LENGTH), (_ACK, _TCP_HEADER))
"""(flags, length) of an outbound-only TCP connection's first two packets; data follows."""
_OC_FLAGS: Final = np.array([f for f, _, _ in _TCP_OPEN_CLOSE], dtype=np.uint8)
_OC_REPLY: Final = np.array([r for _, r, _ in _TCP_OPEN_CLOSE], dtype=np.bool_)
_OC_LENGTH: Final = np.array([n for _, _, n in _TCP_OPEN_CLOSE], dtype=np.uint16)


# --------------------------------------------------------------------------------------------
# The shared builder


@dataclass(frozen=True)
class _Flows:
    """One row per flow, in flow-major order: what every packet of a flow shares."""

    client_ip: U32
    client_port: U16
    server_ip: U32
    server_port: U16
    proto: U8
    size: I64
    """Packets in the flow, >= 1."""
    start: I64
    """Absolute ns of the flow's first packet."""
    client_isn: U32
    server_isn: U32


@dataclass(frozen=True)
class _Packets:
    """One row per packet, flow-major: what differs from packet to packet."""

    reply: Bools
    """True where the packet goes server to client."""
    tcp_flags: U8
    length: U16
    offset: I64
    """ns after the flow's start; non-decreasing within a flow."""


def _build(flows: _Flows, packets: _Packets) -> Batch:
    """Per-flow and per-packet arrays -> a batch sorted by ``ts``.

    The sort is stable and each flow's offsets are non-decreasing, so every flow keeps
    its protocol order in the result.
    """
    n = int(flows.size.sum())
    if n == 0:
        return empty(0)

    def per_packet(values: npt.NDArray[_T]) -> npt.NDArray[_T]:
        return np.repeat(values, flows.size)

    reply = packets.reply
    client_ip, server_ip = per_packet(flows.client_ip), per_packet(flows.server_ip)
    client_port, server_port = per_packet(flows.client_port), per_packet(flows.server_port)
    proto = per_packet(flows.proto)
    tcp = proto == Proto.TCP

    batch = empty(n)
    batch["ts"] = per_packet(flows.start) + packets.offset
    batch["src_ip"] = np.where(reply, server_ip, client_ip)
    batch["dst_ip"] = np.where(reply, client_ip, server_ip)
    batch["src_port"] = np.where(reply, server_port, client_port)
    batch["dst_port"] = np.where(reply, client_port, server_port)
    batch["length"] = packets.length
    batch["proto"] = proto
    batch["tcp_flags"] = np.where(tcp, packets.tcp_flags, 0)
    batch["seq"] = _sequence_numbers(flows, packets, tcp)
    order = np.argsort(batch["ts"], kind="stable")
    return np.take(batch, order)


def _sequence_numbers(flows: _Flows, packets: _Packets, tcp: Bools) -> U32:
    """TCP sequence numbers: each direction counts from its ISN as TCP does.

    A segment consumes its payload (``length - 40``; SYNs carry none) plus one for
    SYN and one for FIN. Its ``seq`` is its direction's ISN plus what that direction's
    earlier segments in the flow consumed. UDP and others get 0.
    """
    flags = packets.tcp_flags
    syn = (flags & _SYN) != 0
    fin = (flags & _FIN) != 0
    payload = np.where(syn, 0, packets.length.astype(np.int64) - _TCP_HEADER).clip(min=0)
    consumed = np.where(tcp, payload + syn + fin, 0)
    reply = packets.reply
    before_c2s = _exclusive_cumsum_within(np.where(reply, 0, consumed), flows.size)
    before_s2c = _exclusive_cumsum_within(np.where(reply, consumed, 0), flows.size)
    client_isn = np.repeat(flows.client_isn.astype(np.int64), flows.size)
    server_isn = np.repeat(flows.server_isn.astype(np.int64), flows.size)
    seq = np.where(reply, server_isn + before_s2c, client_isn + before_c2s) & 0xFFFF_FFFF
    return np.where(tcp, seq, 0).astype(np.uint32)


def _exclusive_cumsum_within(values: I64, size: I64) -> I64:
    """For each packet, the sum of ``values`` over the earlier packets of its flow.

    One global cumulative sum minus its value at each flow's first packet: no loop per flow.
    """
    before = np.cumsum(values) - values
    first = _flow_starts(size)
    return before - np.repeat(before[first], size)


def _flow_starts(size: I64) -> I64:
    """Index of each flow's first packet in a flow-major layout (sizes must be >= 1)."""
    return np.cumsum(size) - size


def _position(size: I64) -> I64:
    """For each packet of a flow-major layout, its index within its flow (0, 1, ...)."""
    n = int(size.sum())
    return np.arange(n, dtype=np.int64) - np.repeat(_flow_starts(size), size)


def _open_close_index(position: I64, size: I64) -> I64:
    """Index into :data:`_TCP_OPEN_CLOSE` for each packet of a TCP flow, -1 for data.

    Positions 0-2 are the handshake and the last three the teardown; a flow has >= 6.
    """
    from_end = position - size + _TCP_MIN_PACKETS
    return np.where(position < 3, position, np.where(from_end >= 3, from_end, -1))


def _open_and_close(control: I64, reply: Bools, flags: U8, length: U16) -> None:
    """Overwrite, in place, the handshake and teardown packets (``control >= 0``)."""
    is_control = control >= 0
    which = control[is_control]
    reply[is_control] = _OC_REPLY[which]
    flags[is_control] = _OC_FLAGS[which]
    length[is_control] = _OC_LENGTH[which]


def _spread(rng: np.random.Generator, size: I64, span: I64) -> I64:
    """Offsets of each flow's packets over ``[0, span]``: first at 0, last at ``span``.

    Gaps are exponential (Poisson-like arrivals), normalised per flow so the flow fits its
    span exactly. Done as one global cumulative sum: offsets are non-decreasing within a flow.
    """
    gaps = rng.standard_exponential(int(size.sum()))
    clock = np.cumsum(gaps)
    first = _flow_starts(size)
    elapsed = clock - np.repeat(clock[first], size)
    total = np.repeat(elapsed[first + size - 1], size)
    fraction: F64 = np.divide(elapsed, total, out=np.zeros_like(elapsed), where=total > 0)
    return np.floor(fraction * np.repeat(span, size)).astype(np.int64)


def _schedule(rng: np.random.Generator, size: I64, duration_ns: int) -> tuple[I64, I64]:
    """Start offsets and spans of flows over a run of ``duration_ns``.

    Flows start uniformly over the run. A flow lasts its packet count times a per-flow
    mean gap (log-uniform, :data:`_GAP_NS`), cut short where it would outlast the run:
    short flows stay short whatever the run's length, elephants last the rest of it.
    """
    count = len(size)
    start = rng.integers(0, duration_ns, size=count, dtype=np.int64)
    gap = np.exp(rng.uniform(math.log(_GAP_NS[0]), math.log(_GAP_NS[1]), size=count))
    wanted = np.floor((size - 1) * gap)
    room = duration_ns - 1 - start
    span = np.minimum(wanted, room).astype(np.int64)
    return start, span


def _isn(rng: np.random.Generator, count: int) -> U32:
    """Random initial sequence numbers, as RFC 6528 asks of real stacks."""
    return rng.integers(0, 2**32, size=count, dtype=np.uint64).astype(np.uint32)


def _check_pairs(name: str, count: int, addresses: int) -> None:
    """Refuse more flows than there are distinct (client address, ephemeral port) pairs."""
    space = addresses * _EPHEMERAL_COUNT
    if count > space:
        raise ValueError(
            f"{name}={count} exceeds the {space:,} distinct (client address, port) pairs "
            f"({addresses:,} addresses x {_EPHEMERAL_COUNT:,} ephemeral ports)"
        )


def _pick_pairs(rng: np.random.Generator, count: int, addresses: int) -> tuple[I64, U16]:
    """``count`` distinct (address index, ephemeral port) pairs, drawn without replacement.

    Distinct client pairs make distinct 5-tuples; drawing indices from the product space keeps
    the draw uniform and cheap (numpy samples by Floyd's method: no table of the whole space).
    Callers check the count first, with :func:`_check_pairs`.
    """
    space = addresses * _EPHEMERAL_COUNT
    pick = rng.choice(space, size=count, replace=False).astype(np.int64)
    port = (_EPHEMERAL_FIRST + pick % _EPHEMERAL_COUNT).astype(np.uint16)
    return pick // _EPHEMERAL_COUNT, port


def _sample_hosts(rng: np.random.Generator, first: int, count: int, k: int) -> U32:
    """``k`` distinct addresses from the ``count`` host addresses starting at ``first``."""
    return (first + rng.choice(count, size=k, replace=False)).astype(np.uint32)


def _weighted(rng: np.random.Generator, table: tuple[tuple[int, float], ...], count: int) -> U16:
    """``count`` values drawn from a (value, share) table."""
    values = np.array([v for v, _ in table], dtype=np.uint16)
    shares = np.array([s for _, s in table], dtype=np.float64)
    return rng.choice(values, size=count, p=shares / shares.sum())


def _zipf_sizes(rng: np.random.Generator, minimum: I64, packets: int, exponent: float) -> I64:
    """Flow sizes summing to exactly ``packets``, each at least its ``minimum``.

    The packets above the minima are dealt out multinomially with probabilities
    proportional to ``rank ** -exponent`` (Zipf's rank-size law), ranks shuffled over
    the flows: a few flows get most packets, most get only their minimum.
    """
    flows = len(minimum)
    spare = packets - int(minimum.sum())
    rank = rng.permutation(flows).astype(np.float64) + 1.0
    weight = rank**-exponent
    extra = rng.multinomial(spare, weight / weight.sum())
    return minimum + extra.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Argument checks: at the boundary, naming the argument


def _count(name: str, value: int, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {number}")
    return number


def _positive(name: str, value: float) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
    return number


def _hosts(name: str, cidr: str) -> tuple[int, int]:
    """``cidr`` -> (first host address, number of host addresses).

    Network and broadcast addresses are left out where a prefix has them (shorter than /31),
    as no host sends from them.
    """
    try:
        net = ipaddress.IPv4Network(cidr)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must be an IPv4 CIDR such as '198.18.0.0/16', not {cidr!r}: {error}") from None
    first, count = int(net.network_address), net.num_addresses
    if net.prefixlen < 31:
        first, count = first + 1, count - 2
    return first, count


def _address(name: str, address: str) -> int:
    try:
        return int(ipaddress.IPv4Address(address))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} must be an IPv4 address such as '198.19.0.1', not {address!r}: {error}") from None


def _port(name: str, port: int) -> int:
    number = _count(name, port)
    if not 0 < number < 65536:
        raise ValueError(f"{name} must be in 1..65535, not {number}")
    return number


def _duration_ns(name: str, seconds: float) -> int:
    """Seconds -> whole ns, rounded up so that ``ts < start + seconds * 1e9`` holds."""
    return math.ceil(_positive(name, seconds) * 1e9)


def _start(start_ns: int, length_ns: int) -> int:
    """Check ``start_ns``, and that a run of ``length_ns`` from it ends before 2**63 ns."""
    start = _count("start_ns", start_ns)
    if start + length_ns >= _MAX_NS:
        raise ValueError(f"start_ns={start} plus the run's {length_ns:,} ns passes 2**63 ns, the end of time here")
    return start


# --------------------------------------------------------------------------------------------
# Generators


def synthetic(
    flows: int,
    packets: int,
    *,
    seed: int,
    tcp_share: float = 0.8,
    zipf: float = 1.2,
    clients: str = "198.18.0.0/16",
    servers: str = "198.19.0.0/16",
    server_count: int = 1000,
    duration_s: float = 1.0,
    start_ns: int = 0,
) -> Batch:
    """Exactly ``packets`` packets in ``flows`` distinct TCP and UDP flows.

    ``round(flows * tcp_share)`` flows are TCP, the rest UDP. Flow sizes follow Zipf's law
    with exponent ``zipf`` (0 makes them even) and sum to ``packets``. A TCP flow has at
    least 6 packets -- SYN, SYN|ACK, ACK, data..., FIN|ACK, FIN|ACK, ACK (the client closes
    first) -- and its data segments are IMIX-sized: 40-byte ACKs from the client, and
    PSH|ACK segments with payload, 8 in 10 from the server. A UDP flow has at least one
    packet; its first goes client to server, later ones either way, IMIX-sized.

    Clients are distinct (address, ephemeral port) pairs from ``clients``; servers are
    ``server_count`` addresses drawn from ``servers``, each flow picking one uniformly, on a
    well-known port (TCP mostly 443 and 80; UDP 53, 443 for QUIC, 123). The defaults split
    the RFC 2544 benchmarking range 198.18.0.0/15.

    Flows start uniformly over ``[start_ns, start_ns + duration_s)``; every packet falls in
    it. The batch is sorted by ``ts`` and each flow keeps its protocol order.

    Raises ValueError naming the argument: negative counts, ``packets`` too few for the
    flows' minimum sizes, more flows than client pairs, bad CIDRs, ...
    """
    flows = _count("flows", flows)
    packets = _count("packets", packets)
    tcp_share = float(tcp_share)
    if not 0.0 <= tcp_share <= 1.0:
        raise ValueError(f"tcp_share must be in [0, 1], not {tcp_share!r}")
    zipf = float(zipf)
    if not (math.isfinite(zipf) and zipf >= 0):
        raise ValueError(f"zipf must be a finite exponent >= 0, not {zipf!r}")
    client_first, client_count = _hosts("clients", clients)
    server_first, server_hosts = _hosts("servers", servers)
    server_count = _count("server_count", server_count, minimum=1)
    if server_count > server_hosts:
        raise ValueError(
            f"server_count={server_count} exceeds the {server_hosts:,} host addresses in servers={servers!r}"
        )
    duration_ns = _duration_ns("duration_s", duration_s)
    start_ns = _start(start_ns, duration_ns)

    tcp_flows = round(flows * tcp_share)
    udp_flows = flows - tcp_flows
    needed = _TCP_MIN_PACKETS * tcp_flows + udp_flows
    if packets < needed:
        raise ValueError(
            f"packets={packets} is too few: {tcp_flows} TCP flows need {_TCP_MIN_PACKETS} packets each "
            f"and {udp_flows} UDP flows 1 each, so at least {needed} packets are needed"
        )
    if flows == 0 and packets > 0:
        raise ValueError(f"packets={packets} needs flows to carry it, but flows=0")
    _check_pairs("flows", flows, client_count)
    if flows == 0:
        return empty(0)

    rng = np.random.default_rng(seed)
    client_index, client_port = _pick_pairs(rng, flows, client_count)
    client_ip = (client_first + client_index).astype(np.uint32)
    pool = _sample_hosts(rng, server_first, server_hosts, server_count)
    server_ip = pool[rng.integers(0, server_count, size=flows)]
    server_port = np.concatenate(
        [_weighted(rng, _TCP_SERVER_PORTS, tcp_flows), _weighted(rng, _UDP_SERVER_PORTS, udp_flows)]
    )
    proto = np.repeat(np.array([Proto.TCP, Proto.UDP], dtype=np.uint8), [tcp_flows, udp_flows])
    minimum = np.repeat(np.array([_TCP_MIN_PACKETS, 1], dtype=np.int64), [tcp_flows, udp_flows])
    size = _zipf_sizes(rng, minimum, packets, zipf)
    start, span = _schedule(rng, size, duration_ns)
    table = _Flows(
        client_ip=client_ip,
        client_port=client_port,
        server_ip=server_ip,
        server_port=server_port,
        proto=proto,
        size=size,
        start=start + start_ns,
        client_isn=_isn(rng, flows),
        server_isn=_isn(rng, flows),
    )
    return _build(table, _synthetic_packets(rng, table, span))


def _synthetic_packets(rng: np.random.Generator, flows: _Flows, span: I64) -> _Packets:
    """Per-packet direction, flags and length of :func:`synthetic`'s flows, plus offsets."""
    size = flows.size
    n = int(size.sum())
    position = _position(size)
    tcp = np.repeat(flows.proto == Proto.TCP, size)
    length = _IMIX_TABLE[rng.integers(0, len(_IMIX_TABLE), size=n)]
    tenths = rng.integers(0, 10, size=n, dtype=np.uint8)

    # TCP data: a 40-byte IMIX packet is the client's ACK; the others carry payload.
    has_payload = length > _TCP_HEADER
    reply = has_payload & (tenths < _DATA_REPLY_TENTHS)
    flags = np.where(has_payload, _PSH | _ACK, _ACK).astype(np.uint8)
    # TCP handshake and teardown override the first and last three packets.
    _open_and_close(np.where(tcp, _open_close_index(position, np.repeat(size, size)), -1), reply, flags, length)
    # UDP: the client speaks first, then either side.
    udp = ~tcp
    reply[udp] = (position[udp] > 0) & (tenths[udp] < _UDP_REPLY_TENTHS)
    flags[udp] = 0
    return _Packets(reply=reply, tcp_flags=flags, length=length, offset=_spread(rng, size, span))


def many_to_one(
    connections: int,
    *,
    seed: int,
    clients: int = 1000,
    client_cidr: str = "10.0.0.0/16",
    dst: str | Sequence[str] = "198.19.0.1",
    dst_port: int = 443,
    proto: Proto = Proto.TCP,
    packets_per_connection: int = 1,
    duration_s: float = 1.0,
    start_ns: int = 0,
) -> Batch:
    """``connections`` connections from ``clients`` private addresses to one destination.

    The NAT gateway's port-exhaustion case: every connection has its own (client address,
    client port) but all share (``dst``, ``dst_port``, ``proto``), so each needs its own
    public source port. ``clients`` addresses are drawn from ``client_cidr``; each
    connection draws a distinct (address, ephemeral port) pair among them.

    Only the outbound direction is generated: replies come from the far side, through the
    NAT, and a scenario produces them from the translated packets. A TCP connection's
    packets are SYN (60 bytes), ACK (40), then PSH|ACK segments of 576 or 1500 bytes
    (IMIX's data sizes, 4:1) -- so ``packets_per_connection=1`` is a bare connection
    attempt. A UDP connection's datagrams are IMIX-sized.

    Connections start uniformly over ``[start_ns, start_ns + duration_s)`` and their packets
    spread after the start, all inside it. The batch is sorted by ``ts``.

    ``dst`` may be a DNS answer, a list of addresses (``nlb.dns_answer()``): each client
    address resolves once and keeps the address it got, the answers taken in turn by client.
    """
    connections = _count("connections", connections)
    clients = _count("clients", clients, minimum=1)
    first, hosts = _hosts("client_cidr", client_cidr)
    if clients > hosts:
        raise ValueError(f"clients={clients} exceeds the {hosts:,} host addresses in client_cidr={client_cidr!r}")
    answer = np.array([_address("dst", a) for a in ([dst] if isinstance(dst, str) else dst)], dtype=np.uint32)
    if len(answer) == 0:
        raise ValueError("dst must be an address or a non-empty list of addresses")
    port = _port("dst_port", dst_port)
    protocol = _tcp_or_udp(proto)
    per = _count("packets_per_connection", packets_per_connection, minimum=1)
    duration_ns = _duration_ns("duration_s", duration_s)
    start_ns = _start(start_ns, duration_ns)
    _check_pairs("connections", connections, clients)
    if connections == 0:
        return empty(0)

    rng = np.random.default_rng(seed)
    pool = _sample_hosts(rng, first, hosts, clients)
    client_index, client_port = _pick_pairs(rng, connections, clients)
    size = np.full(connections, per, dtype=np.int64)
    start, span = _schedule(rng, size, duration_ns)
    table = _Flows(
        client_ip=pool[client_index],
        client_port=client_port,
        server_ip=answer[client_index % len(answer)],
        server_port=np.full(connections, port, dtype=np.uint16),
        proto=np.full(connections, protocol, dtype=np.uint8),
        size=size,
        start=start + start_ns,
        client_isn=_isn(rng, connections),
        server_isn=np.zeros(connections, dtype=np.uint32),
    )
    n = connections * per
    position = _position(size)
    if protocol == Proto.TCP:
        length = _DATA_TABLE[rng.integers(0, len(_DATA_TABLE), size=n)]
        flags = np.full(n, _PSH | _ACK, dtype=np.uint8)
        for index, (flag, size_bytes) in enumerate(_CLIENT_OPEN):
            flags[position == index] = flag
            length[position == index] = size_bytes
    else:
        flags = np.zeros(n, dtype=np.uint8)
        length = _IMIX_TABLE[rng.integers(0, len(_IMIX_TABLE), size=n)]
    outbound = _Packets(
        reply=np.zeros(n, dtype=np.bool_), tcp_flags=flags, length=length, offset=_spread(rng, size, span)
    )
    return _build(table, outbound)


def _tcp_or_udp(proto: Proto | int) -> Proto:
    if proto not in (Proto.TCP, Proto.UDP):
        raise ValueError(f"proto must be Proto.TCP or Proto.UDP, not {proto!r}")
    return Proto(proto)


def syn_flood(
    packets: int,
    *,
    seed: int,
    target: str = "198.19.0.1",
    dst_port: int = 80,
    sources: str = "0.0.0.0/0",
    rate_pps: float = 1e6,
    start_ns: int = 0,
) -> Batch:
    """``packets`` spoofed SYNs at ``target``, evenly spaced at ``rate_pps``.

    Each SYN has a random source address from ``sources`` (by default anywhere, as
    ``hping3 --rand-source`` spoofs), a random source port in 1024-65535 and a random
    sequence number, so nearly every SYN opens a half-open connection of its own. SYNs are
    bare (40 bytes, no options). Packet ``i`` is at ``start_ns + floor(i * 1e9 / rate_pps)``.
    """
    packets = _count("packets", packets)
    target_ip = _address("target", target)
    port = _port("dst_port", dst_port)
    first, hosts = _hosts("sources", sources)
    rate = _positive("rate_pps", rate_pps)
    offset = np.floor(np.arange(packets, dtype=np.float64) * 1e9 / rate).astype(np.int64)
    start_ns = _start(start_ns, int(offset[-1]) + 1 if packets else 0)

    rng = np.random.default_rng(seed)
    ones = np.ones(packets, dtype=np.int64)
    table = _Flows(
        client_ip=(first + rng.integers(0, hosts, size=packets, dtype=np.int64)).astype(np.uint32),
        client_port=rng.integers(1024, 65536, size=packets, dtype=np.int64).astype(np.uint16),
        server_ip=np.full(packets, target_ip, dtype=np.uint32),
        server_port=np.full(packets, port, dtype=np.uint16),
        proto=np.full(packets, Proto.TCP, dtype=np.uint8),
        size=ones,
        start=start_ns + offset,
        client_isn=_isn(rng, packets),
        server_isn=np.zeros(packets, dtype=np.uint32),
    )
    syns = _Packets(
        reply=np.zeros(packets, dtype=np.bool_),
        tcp_flags=np.full(packets, _SYN, dtype=np.uint8),
        length=np.full(packets, _FLOOD_SYN_LENGTH, dtype=np.uint16),
        offset=np.zeros(packets, dtype=np.int64),
    )
    return _build(table, syns)


def elephant(
    packets: int,
    *,
    seed: int,
    src: str = "198.18.0.1",
    dst: str = "198.19.0.1",
    dst_port: int = 5201,
    gbps: float = 10.0,
    length: int = 1500,
    start_ns: int = 0,
) -> Batch:
    """One TCP flow of ``packets`` packets from ``src`` to ``dst`` at ``gbps``.

    An iperf3-like bulk transfer (5201 is iperf3's port): the handshake, ``packets - 6``
    PSH|ACK segments of ``length`` bytes from client to server, then the teardown. Every
    packet is ``length * 8 / gbps`` ns after the one before it, so the data segments make
    ``gbps`` counted in IP bytes (no Ethernet framing). The seed picks the client's
    ephemeral port and both ISNs.
    """
    packets = _count("packets", packets)
    if packets < _TCP_MIN_PACKETS:
        raise ValueError(f"packets must be >= {_TCP_MIN_PACKETS} (handshake and teardown), not {packets}")
    src_ip = _address("src", src)
    dst_ip = _address("dst", dst)
    port = _port("dst_port", dst_port)
    rate = _positive("gbps", gbps)
    segment = _count("length", length)
    if not _TCP_HEADER < segment <= 65535:
        raise ValueError(f"length must be in {_TCP_HEADER + 1}..65535 so segments carry payload, not {segment}")
    gap_ns = segment * 8 / rate
    offset = np.floor(np.arange(packets, dtype=np.float64) * gap_ns).astype(np.int64)
    start_ns = _start(start_ns, int(offset[-1]) + 1)

    rng = np.random.default_rng(seed)
    flow = _Flows(
        client_ip=np.array([src_ip], dtype=np.uint32),
        client_port=rng.integers(*EPHEMERAL_PORTS, size=1, endpoint=True, dtype=np.int64).astype(np.uint16),
        server_ip=np.array([dst_ip], dtype=np.uint32),
        server_port=np.array([port], dtype=np.uint16),
        proto=np.array([Proto.TCP], dtype=np.uint8),
        size=np.array([packets], dtype=np.int64),
        start=np.array([start_ns], dtype=np.int64),
        client_isn=_isn(rng, 1),
        server_isn=_isn(rng, 1),
    )
    reply = np.zeros(packets, dtype=np.bool_)
    flags = np.full(packets, _PSH | _ACK, dtype=np.uint8)
    lengths = np.full(packets, segment, dtype=np.uint16)
    _open_and_close(_open_close_index(np.arange(packets, dtype=np.int64), flow.size), reply, flags, lengths)
    return _build(flow, _Packets(reply=reply, tcp_flags=flags, length=lengths, offset=offset))


def merge(*batches: Batch) -> Batch:
    """The packets of all ``batches`` as one batch ordered by ``ts``.

    The sort is stable: packets with equal ``ts`` keep their argument order, then their
    order within their batch, so merging generators' outputs never reorders a flow.
    """
    for i, batch in enumerate(batches):
        if not isinstance(batch, np.ndarray) or batch.dtype != PACKET_DTYPE or batch.ndim != 1:
            what = f"a {batch.ndim}-D array of {batch.dtype}" if isinstance(batch, np.ndarray) else type(batch).__name__
            raise TypeError(f"batches[{i}] must be a 1-D array of hyperplane.PACKET_DTYPE, not {what}")
    if not batches:
        return empty(0)
    combined = np.concatenate(batches)
    return np.take(combined, np.argsort(combined["ts"], kind="stable"))
