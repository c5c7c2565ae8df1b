"""Seed captures for fuzzing the reader and writer: one of each format, byte order and
link type the reader knows, with the frame shapes it decodes (tests/test_pcap_fuzz.py and
the atheris target tests/fuzz_pcap.py start from these)."""

from __future__ import annotations

from tests import pcap_build as b

S, D = "10.0.0.1", "198.51.100.7"


def _frames() -> list[bytes]:
    seg = b.udp(S, D, 4000, 53, b"y" * 40)
    return [
        b.tcp_frame(seq=5, ack=9, flags=0x18, payload=b"abc"),
        b.ether(b.ipv4(S, D, 17, seg, options=b"\x94\x04\0\0"), vlans=[(0x88A8, 5), (0x8100, 6)]),
        b.ether(b.ipv4(S, D, 17, seg[:24], more=True)),
        b.ether(b.ipv4(S, D, 17, seg[24:], offset=3)),
        b.ether(b.ipv4(S, D, 1, b.icmp(8, 0, ident=7, seq=1, payload=b"ping"))),
        b.ether(b.ipv4(D, S, 1, b.icmp(3, 4, payload=b"\0" * 28))),
        b.ether(b.ipv4(D, S, 1, b.icmp(3, 4, payload=b.ipv4(S, D, 6, b.tcp(S, D, 1, 2, payload=b""))))),
        b.ether(b.ipv4(D, S, 1, b.icmp(11, 0, payload=b.ipv4(S, D, 17, b.udp(S, D, 3, 4, b"u" * 9))[:28]))),
        b.ether(b.ipv4(D, S, 1, b.icmp(11, 0, payload=b.ipv4(S, D, 1, b.icmp(8, 0, ident=3))))),
        b.ether(bytes([0x60, 0, 0, 0, 0, 0, 59, 64]) + b"\0" * 32, 0x86DD),
        b.ether(b"\0" * 28, 0x0806),
    ]


def seeds() -> list[bytes]:
    frames = _frames()
    ip = b.ipv4(S, D, 6, b.tcp(S, D, 1, 2, flags=0x02, payload=b""))
    return [
        b.pcap([(i, f) for i, f in enumerate(frames)]),
        b.pcap([(i, f[:40], len(f)) for i, f in enumerate(frames)], nanos=False, big_endian=True, snaplen=40),
        b.pcap([(1, b.sll(ip)), (2, b.sll(ip))], linktype=113),
        b.pcap([(1, ip)], linktype=101),
        b.shb() + b.idb(1) + b.unknown_block() + b.idb(276, tsresol=9) + b.idb(101, tsresol=0x8A, tsoffset=3)
        + b"".join(b.epb(i % 3, i, f if i % 3 == 0 else (b.sll2(f[14:]) if i % 3 == 1 else f[14:]))
                   for i, f in enumerate(frames)) + b.spb(frames[0]),
        b.shb(True) + b.idb(1, big_endian=True) + b"".join(b.epb(0, i, f, big_endian=True) for i, f in enumerate(frames))
        + b.shb() + b.idb(228) + b.epb(0, 99, ip),
    ]
