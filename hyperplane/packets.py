"""The packet batch every stage shares, and helpers to build and read one.

A batch is a 1-D numpy array of :data:`PACKET_DTYPE`: one aligned 32-byte
record per packet, read and rewritten in place by the C++ core.

=========  ======  ======  ==================================================
field      dtype   offset  meaning
=========  ======  ======  ==================================================
ts         uint64  0       time in ns; every stage advances with it
src_ip     uint32  8       IPv4 source address, host byte order
dst_ip     uint32  12      IPv4 destination address, host byte order
src_port   uint16  16      TCP/UDP source port; ICMP echo: the identifier
dst_port   uint16  18      TCP/UDP destination port
length     uint16  20      IP total length in bytes
proto      uint8   22      IANA protocol number (:class:`Proto`)
tcp_flags  uint8   23      TCP flags (:class:`TcpFlag`)
flags      uint8   24      :class:`PacketFlag` bits
reserved   uint8   25      free for a later stage
mark       uint16  26      scratch a stage may set (e.g. a chosen target)
seq        uint32  28      TCP sequence number where the source carries it
=========  ======  ======  ==================================================
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.verdict import CodeEnum, FlagEnum

PACKET_DTYPE: np.dtype[np.void] = _core.PACKET_DTYPE
"""One packet: 32 bytes, aligned. The layout is defined once, in ``csrc/core/packet.hpp``."""

Batch = npt.NDArray[np.void]
"""A 1-D array of :data:`PACKET_DTYPE`."""


class Proto(CodeEnum):
    """The IANA protocol numbers the stages carry (``str(Proto.TCP)`` is ``TCP``)."""

    ICMP = 1
    TCP = 6
    UDP = 17


class TcpFlag(FlagEnum):
    """TCP header flags (``str(TcpFlag.SYN | TcpFlag.ACK)`` is ``SYN|ACK``)."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


class PacketFlag(FlagEnum):
    FRAGMENT = 0x01
    """Part of a fragmented IP datagram: its ports are not to be trusted."""
    ICMP_ERROR = 0x02
    """An ICMP error quoting a packet: the record is the quoted packet's connection as its reply
    would carry it (addresses, ports and protocol swapped from the quote), so that a stage finds
    the connection; stages translate it without changing the connection's state."""
    TRACKED_ONLY = 0x04
    """Already refused by rules (a security group's hop): conntrack lets it continue a connection
    it tracks but never opens one for it (``DROP_UNSOLICITED`` without one)."""


def empty(n: int) -> Batch:
    """A batch of ``n`` zeroed packets."""
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    return np.zeros(n, dtype=PACKET_DTYPE)


_HALVES: list[npt.NDArray[np.str_]] = []


def _halves() -> npt.NDArray[np.str_]:
    """``"a.b"`` for every 16-bit value: an address is two lookups and two joins."""
    if not _HALVES:
        _HALVES.append(np.array([f"{i >> 8}.{i & 0xFF}" for i in range(1 << 16)]))
    return _HALVES[0]


@overload
def ip(address: str) -> int: ...
@overload
def ip(address: list[str] | tuple[str, ...] | npt.NDArray[np.str_]) -> npt.NDArray[np.uint32]: ...
def ip(address: str | list[str] | tuple[str, ...] | npt.NDArray[np.str_]) -> int | npt.NDArray[np.uint32]:
    """``"198.18.0.1"`` -> the address as a host-order integer; a list or array of addresses ->
    a ``uint32`` array of them (the inverse of :func:`ip_str`)."""
    if isinstance(address, str):
        try:
            return int(ipaddress.IPv4Address(address))
        except ValueError as e:
            raise ValueError(f"address: {e}") from None
    arr = np.asarray(address)
    if arr.size and arr.dtype.kind != "U":
        raise TypeError(f"address must be an IPv4 address string or an array of them, not {arr.dtype}")
    # Addresses repeat in a trace: parse each distinct one once.
    distinct, inverse = np.unique(arr, return_inverse=True)
    values = np.empty(len(distinct), dtype=np.uint32)
    for i, text in enumerate(distinct.tolist()):
        try:
            values[i] = int(ipaddress.IPv4Address(text))
        except ValueError as e:
            raise ValueError(f"address: {e}") from None
    return values[inverse].reshape(arr.shape)


@overload
def ip_str(address: int | np.integer[Any]) -> str: ...
@overload
def ip_str(address: Sequence[int] | npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.str_]: ...
def ip_str(address: int | np.integer[Any] | Sequence[int] | npt.NDArray[np.integer[Any]]) -> str | npt.NDArray[np.str_]:
    """A host-order integer -> dotted-quad text; an array of them (a batch's ``src_ip`` column, any
    integer dtype, values in 0..2**32-1) -> an array of text of the same shape, built by whole
    columns (no Python loop per address)."""
    if isinstance(address, (bool, np.bool_)):
        raise TypeError("address must be an integer or an array of integers, not bool")
    if isinstance(address, (int, np.integer)):
        if not 0 <= int(address) <= 0xFFFFFFFF:
            raise ValueError(f"address must be in 0..2**32-1, not {int(address)}")
        return str(ipaddress.IPv4Address(int(address)))
    arr = np.asarray(address)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"address must be an integer or an array of integers (uint32), not {arr.dtype}")
    if arr.ndim == 0:
        return ip_str(int(arr))
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 0xFFFFFFFF):
        bad = int(arr.min()) if int(arr.min()) < 0 else int(arr.max())
        raise ValueError(f"address must hold values in 0..2**32-1, not {bad}")
    a = arr.astype(np.uint32)
    halves = _halves()
    text: npt.NDArray[np.str_] = np.char.add(np.char.add(halves[a >> 16], "."), halves[a & 0xFFFF]).astype("<U15")
    return text


def network(cidr: str) -> tuple[int, int]:
    """``"198.18.0.0/15"`` -> (first address, number of addresses)."""
    net = ipaddress.IPv4Network(cidr)
    return int(net.network_address), net.num_addresses


@dataclass(frozen=True)
class BatchSummary:
    """What a batch holds, at a glance: ``print(hp.packets.summary(batch))``."""

    packets: int
    bytes: int
    first_ts: int
    last_ts: int
    protocols: dict[str, int] = field(default_factory=dict)
    fragments: int = 0

    @property
    def duration_s(self) -> float:
        return (self.last_ts - self.first_ts) / 1e9

    def __str__(self) -> str:
        if self.packets == 0:
            return "0 packets"
        span = self.duration_s
        rate = f", {self.packets / span / 1e6:.3f} Mpps, {self.bytes * 8 / span / 1e9:.3f} Gbps" if span > 0 else ""
        mix = ", ".join(f"{name} {count / self.packets:.1%}" for name, count in self.protocols.items())
        frag = f", {self.fragments:,} fragments" if self.fragments else ""
        return (
            f"{self.packets:,} packets, {self.bytes:,} bytes over {span:.6f} s{rate}\n"
            f"protocols: {mix}{frag}"
        )


def summary(batch: Batch) -> BatchSummary:
    """Count, bytes, time span and protocol mix of ``batch``."""
    if batch.dtype != PACKET_DTYPE:
        raise TypeError(f"batch must have dtype hyperplane.PACKET_DTYPE, not {batch.dtype}")
    n = len(batch)
    if n == 0:
        return BatchSummary(0, 0, 0, 0)
    counts = np.bincount(batch["proto"], minlength=256)
    protocols: dict[str, int] = {}
    for number in np.flatnonzero(counts):
        name = Proto(int(number)).name if number in Proto._value2member_map_ else f"proto {number}"
        protocols[name] = int(counts[number])
    ts = batch["ts"]
    return BatchSummary(
        packets=n,
        bytes=int(batch["length"].sum(dtype=np.uint64)),
        first_ts=int(ts.min()),
        last_ts=int(ts.max()),
        protocols=protocols,
        fragments=int(np.count_nonzero(batch["flags"] & PacketFlag.FRAGMENT)),
    )
