"""Captures built by hand, byte by byte, for the pcap tests.

Written from the format documents (draft-ietf-opsawg-pcap, -pcapng; RFC 791,
793, 768, 792; tcpdump.org's LINKTYPE_ pages) with `struct` alone, so that they
judge the C++ reader and writer rather than share code with them. Checksums
here are computed in full (RFC 1071), the reference the writer's incremental
updates are checked against.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence


def addr(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, *, options: bytes = b"", ident: int = 1,
         offset: int = 0, more: bool = False, ttl: int = 64, total: int | None = None) -> bytes:
    """An IPv4 header (with ``options``, padded to 4 bytes) and its payload; ``offset`` in 8-byte units."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = ihl * 4 + len(payload) if total is None else total
    flags = (0x2000 if more else 0) | offset
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, flags, ttl, proto, 0, addr(src), addr(dst))
    head += options
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + payload


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    return addr(src) + addr(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src: str, dst: str, sport: int, dport: int, *, seq: int = 1000, ack: int = 0, flags: int = 0x10,
        payload: bytes = b"", options: bytes = b"", window: int = 65535) -> bytes:
    """A TCP segment with a correct checksum (to be carried in ``ipv4(src, dst, 6, ...)``)."""
    options += b"\0" * (-len(options) % 4)
    doff = 5 + len(options) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0) + options + payload
    c = checksum(_pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", *, zero_checksum: bool = False) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if zero_checksum:
        return seg
    c = checksum(_pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(type_: int, code: int = 0, ident: int = 0, seq: int = 0, payload: bytes = b"") -> bytes:
    msg = struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def ether(payload: bytes, ethertype: int = 0x0800, vlans: Sequence[tuple[int, int]] = ()) -> bytes:
    """Ethernet II; ``vlans``: (TPID, VLAN id) tags from outer to inner (0x88a8 for 802.1ad, 0x8100 for 802.1Q)."""
    tags = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in vlans)
    return MAC_A + MAC_B + tags + struct.pack("!H", ethertype) + payload


def sll(payload: bytes, ethertype: int = 0x0800, packet_type: int = 0) -> bytes:
    """Linux cooked capture v1: packet type, ARPHRD_ETHER, address length 6, address, protocol."""
    return struct.pack("!HHH8sH", packet_type, 1, 6, MAC_A + b"\0\0", ethertype) + payload


def sll2(payload: bytes, ethertype: int = 0x0800, packet_type: int = 0) -> bytes:
    """Linux cooked capture v2: protocol, reserved, interface index, ARPHRD_ETHER, packet type, address."""
    return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, packet_type, 6, MAC_A + b"\0\0") + payload


Frame = tuple[int, bytes] | tuple[int, bytes, int]
"""(ts in ns, captured bytes) or (ts, captured bytes, length on the wire)."""


def pcap(frames: Iterable[Frame], linktype: int = 1, *, nanos: bool = True, big_endian: bool = False,
         snaplen: int = 65535) -> bytes:
    e = ">" if big_endian else "<"
    out = struct.pack(e + "IHHiIII", 0xA1B23C4D if nanos else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for f in frames:
        ts, data = f[0], f[1]
        wire = f[2] if len(f) == 3 else len(data)  # type: ignore[misc]
        frac = ts % 10**9 if nanos else ts % 10**9 // 1000
        out += struct.pack(e + "IIII", ts // 10**9, frac, len(data), wire) + data
    return out


def _block(e: str, kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", kind, n) + body + struct.pack(e + "I", n)


def shb(big_endian: bool = False) -> bytes:
    e = ">" if big_endian else "<"
    return _block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(linktype: int, *, tsresol: int | None = None, tsoffset: int | None = None, snaplen: int = 0,
        big_endian: bool = False) -> bytes:
    e = ">" if big_endian else "<"
    opts = b""
    if tsresol is not None:
        opts += struct.pack(e + "HHB3x", 9, 1, tsresol)
    if tsoffset is not None:
        opts += struct.pack(e + "HHq", 14, 8, tsoffset)
    if opts:
        opts += struct.pack(e + "HH", 0, 0)
    return _block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)


def epb(iface: int, ts_units: int, data: bytes, wire: int | None = None, big_endian: bool = False) -> bytes:
    e = ">" if big_endian else "<"
    head = struct.pack(e + "IIIII", iface, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data),
                       len(data) if wire is None else wire)
    return _block(e, 6, head + data)


def spb(data: bytes, wire: int | None = None, big_endian: bool = False) -> bytes:
    e = ">" if big_endian else "<"
    return _block(e, 3, struct.pack(e + "I", len(data) if wire is None else wire) + data)


def unknown_block(kind: int = 0x0BAD, big_endian: bool = False) -> bytes:
    return _block(">" if big_endian else "<", kind, b"opaque!")


def tcp_frame(src: str = "10.0.0.1", dst: str = "198.51.100.7", sport: int = 40000, dport: int = 443, **kw: object) -> bytes:
    """An Ethernet frame carrying one TCP segment."""
    payload = kw.pop("payload", b"hello")
    return ether(ipv4(src, dst, 6, tcp(src, dst, sport, dport, payload=payload, **kw)))  # type: ignore[arg-type]
