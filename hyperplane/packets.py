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

import enum
import ipaddress
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hyperplane import _core

PACKET_DTYPE: np.dtype[np.void] = _core.PACKET_DTYPE
"""One packet: 32 bytes, aligned. The layout is defined once, in ``csrc/core/packet.hpp``."""

Batch = npt.NDArray[np.void]
"""A 1-D array of :data:`PACKET_DTYPE`."""


class Proto(enum.IntEnum):
    ICMP = 1
    TCP = 6
    UDP = 17


class TcpFlag(enum.IntFlag):
    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


class PacketFlag(enum.IntFlag):
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


def ip(address: str) -> int:
    """``"198.18.0.1"`` -> the address as a host-order integer."""
    return int(ipaddress.IPv4Address(address))


def ip_str(address: int) -> str:
    """A host-order integer -> dotted-quad text."""
    return str(ipaddress.IPv4Address(int(address)))


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
