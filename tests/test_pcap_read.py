"""The pcap/pcapng reader on captures built by hand (tests/pcap_build.py): each
format and byte order, each link type, snaplen cuts, IPv4 options and
fragments, ICMP as the stages hold it, and malformed input counted by reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.pcap import FrameKind, LinkType
from tests import pcap_build as b

SRC, DST = "10.0.0.1", "198.51.100.7"


def _write(tmp_path: Path, data: bytes, name: str = "t.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(tmp_path: Path, data: bytes, name: str = "t.pcap") -> tuple[hp.pcap.Frames, hp.pcap.CaptureStats]:
    cap = hp.pcap.open(_write(tmp_path, data, name))
    frames = cap.read()
    return frames, cap.stats


@pytest.mark.parametrize("nanos", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcap_magic_and_byte_order(tmp_path: Path, nanos: bool, big_endian: bool) -> None:
    ts = 1_700_000_000_123_456_789
    data = b.pcap([(ts, b.tcp_frame(seq=77, flags=0x18))], nanos=nanos, big_endian=big_endian)
    frames, stats = _read(tmp_path, data)
    p = frames.packets[0]
    assert int(p["ts"]) == (ts if nanos else ts // 1000 * 1000)
    assert (hp.ip_str(p["src_ip"]), hp.ip_str(p["dst_ip"])) == (SRC, DST)
    assert (p["src_port"], p["dst_port"], p["proto"], p["tcp_flags"], p["seq"]) == (40000, 443, 6, 0x18, 77)
    assert p["length"] == 20 + 20 + 5
    assert stats.frames == stats.ipv4 == 1 and stats.linktypes == {1: 1} and stats.malformed_total == 0
    assert frames.frame(0) == b.tcp_frame(seq=77, flags=0x18)


def test_snaplen_cuts(tmp_path: Path) -> None:
    whole = b.tcp_frame(payload=b"x" * 100)
    data = b.pcap([
        (1, whole[:60], len(whole)),  # headers whole, payload cut
        (2, whole[:40], len(whole)),  # TCP header cut: addresses known, ports not
        (3, whole[:20], len(whole)),  # IP header cut
    ], snaplen=60)
    frames, stats = _read(tmp_path, data)
    assert list(frames.kinds) == [FrameKind.IPV4, FrameKind.IPV4, FrameKind.OTHER]
    assert list(frames.packets["src_port"]) == [40000, 0, 0]
    assert list(frames.packets["length"][:2]) == [len(whole) - 14] * 2
    assert hp.ip_str(frames.packets["dst_ip"][1]) == DST
    assert list(frames.wire_lengths) == [len(whole)] * 3 and list(frames.lengths) == [60, 40, 20]
    assert (stats.snapped, stats.snapped_headers, stats.malformed_total) == (3, 2, 0)


def _ip_frame(payload: bytes, link: int) -> bytes:
    wrap = {LinkType.ETHERNET: b.ether, LinkType.LINUX_SLL: b.sll, LinkType.LINUX_SLL2: b.sll2}
    return wrap[LinkType(link)](payload) if link in wrap else payload


@pytest.mark.parametrize("link", [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW,
                                  LinkType.IPV4])
def test_link_types(tmp_path: Path, link: int) -> None:
    ip = b.ipv4(SRC, DST, 17, b.udp(SRC, DST, 5353, 53, b"query"))
    frames, stats = _read(tmp_path, b.pcap([(5, _ip_frame(ip, link))], linktype=link))
    p = frames.packets[0]
    assert (p["src_port"], p["dst_port"], p["proto"], p["length"]) == (5353, 53, 17, len(ip))
    assert stats.linktypes == {int(link): 1}


def test_vlan_tags(tmp_path: Path) -> None:
    ip = b.ipv4(SRC, DST, 17, b.udp(SRC, DST, 1, 2))
    frames, stats = _read(tmp_path, b.pcap([
        (1, b.ether(ip, vlans=[(0x8100, 10)])),
        (2, b.ether(ip, vlans=[(0x88A8, 100), (0x8100, 10)])),  # 802.1ad outer, 802.1Q inner
    ]))
    assert list(frames.packets["dst_port"]) == [2, 2] and stats.vlan == 2


def test_raw_ipv6_and_other_frames_are_carried(tmp_path: Path) -> None:
    ip6 = bytes([0x60, 0, 0, 0]) + (8).to_bytes(2, "big") + bytes([17, 64]) + b"\0" * 32 + b"\0" * 8
    arp = b.ether(b"\0" * 28, ethertype=0x0806)
    frames, stats = _read(tmp_path, b.pcap([(1, b.ether(ip6, 0x86DD)), (2, arp), (3, ip6)]))
    assert list(frames.kinds) == [FrameKind.IPV6, FrameKind.OTHER, FrameKind.OTHER]  # raw v6 in an Ethernet file
    raw, raw_stats = _read(tmp_path, b.pcap([(3, ip6)], linktype=LinkType.RAW), "raw.pcap")
    assert list(raw.kinds) == [FrameKind.IPV6] and raw.packets["length"][0] == 48 and raw.packets["proto"][0] == 0
    assert (stats.ipv6, stats.other, raw_stats.ipv6) == (1, 2, 1)


def test_unknown_link_type_is_carried(tmp_path: Path) -> None:
    frames, stats = _read(tmp_path, b.pcap([(1, b"\x01\x02\x03")], linktype=105))
    assert list(frames.kinds) == [FrameKind.OTHER] and stats.linktypes == {105: 1}


def test_ipv4_options_and_fragments(tmp_path: Path) -> None:
    seg = b.udp(SRC, DST, 4000, 53, b"y" * 40)
    frames, stats = _read(tmp_path, b.pcap([
        (1, b.ether(b.ipv4(SRC, DST, 17, seg, options=b"\x94\x04\0\0"))),  # router alert
        (2, b.ether(b.ipv4(SRC, DST, 17, seg[:24], more=True, ident=9))),  # first fragment
        (3, b.ether(b.ipv4(SRC, DST, 17, seg[24:], offset=3, ident=9))),  # later fragment
    ]))
    p = frames.packets
    assert list(p["src_port"]) == [4000, 4000, 0] and list(p["length"]) == [24 + 48, 44, 20 + 24]
    assert list(p["flags"]) == [0, hp.PacketFlag.FRAGMENT, hp.PacketFlag.FRAGMENT]
    assert stats.fragments == 2 and stats.malformed_total == 0


def test_icmp_as_the_stages_hold_it(tmp_path: Path) -> None:
    """Echo: the identifier in src_port; every ICMP: type and code in dst_port's bytes."""
    frames, _ = _read(tmp_path, b.pcap([
        (1, b.ether(b.ipv4(SRC, DST, 1, b.icmp(8, 0, ident=0x1234, seq=1)))),
        (2, b.ether(b.ipv4(DST, SRC, 1, b.icmp(0, 0, ident=0x1234, seq=1)))),
        (3, b.ether(b.ipv4(DST, SRC, 1, b.icmp(3, 4, payload=b"\0" * 28)))),
    ]))
    assert list(frames.packets["src_port"]) == [0x1234, 0x1234, 0]
    assert list(frames.packets["dst_port"]) == [0x0800, 0x0000, 0x0304]


@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_interfaces_resolutions_and_blocks(tmp_path: Path, big_endian: bool) -> None:
    e = big_endian
    ip = b.ipv4(SRC, DST, 6, b.tcp(SRC, DST, 1, 2))
    data = (b.shb(e) + b.idb(1, big_endian=e) + b.unknown_block(big_endian=e)
            + b.idb(101, tsresol=9, big_endian=e) + b.idb(113, tsresol=0x80 | 10, tsoffset=5, big_endian=e)
            + b.epb(0, 1_500_000, b.ether(ip), big_endian=e)            # microseconds (default)
            + b.epb(1, 2_000_000_123, ip, big_endian=e)                 # nanoseconds
            + b.epb(2, 3 * 1024 + 512, b.sll(ip), big_endian=e)          # 2^-10 s, +5 s offset
            + b.spb(b.ether(ip), big_endian=e))                           # first interface, no time
    frames, stats = _read(tmp_path, data, "t.pcapng")
    assert list(frames.packets["ts"]) == [1_500_000_000, 2_000_000_123, 8_500_000_000, 8_500_000_000]
    assert list(frames.linktypes) == [1, 101, 113, 1] and list(frames.packets["dst_port"]) == [2] * 4
    assert stats.linktypes == {1: 2, 101: 1, 113: 1}
    assert (stats.interfaces, stats.sections, stats.blocks_skipped) == (3, 1, 1)


def test_pcapng_sections_of_both_byte_orders(tmp_path: Path) -> None:
    ip = b.ipv4(SRC, DST, 17, b.udp(SRC, DST, 7, 8))
    data = (b.shb(False) + b.idb(101, tsresol=9) + b.epb(0, 10, ip)
            + b.shb(True) + b.idb(1, tsresol=9, big_endian=True) + b.epb(0, 20, b.ether(ip), big_endian=True))
    frames, stats = _read(tmp_path, data, "t.pcapng")
    assert list(frames.packets["ts"]) == [10, 20] and list(frames.linktypes) == [101, 1]
    assert stats.sections == 2 and stats.linktypes == {101: 1, 1: 1}


def test_batches_stream_and_restart(tmp_path: Path) -> None:
    frames_in = [(i, b.tcp_frame(sport=1000 + i)) for i in range(10)]
    cap = hp.pcap.open(_write(tmp_path, b.pcap(frames_in)))
    sizes = [len(f) for f in cap.batches(4)]
    assert sizes == [4, 4, 2] and cap.stats.frames == 10
    ports = np.concatenate([f.packets["src_port"] for f in cap.batches(3)])
    assert list(ports) == list(range(1000, 1010)) and cap.stats.frames == 10
    with pytest.raises(ValueError, match="n must be"):
        next(cap.batches(0))
    assert not cap.read().bytes.flags.writeable


def _malformed(tmp_path: Path, frames: list[b.Frame]) -> dict[str, int]:
    _, stats = _read(tmp_path, b.pcap(frames + [(9, b.tcp_frame())]))
    assert stats.frames == 1, "the sound frame after the malformed ones is read"
    return {k: v for k, v in stats.malformed.items() if v}


def test_malformed_frames_counted_by_reason(tmp_path: Path) -> None:
    good_ip = b.ipv4(SRC, DST, 6, b.tcp(SRC, DST, 1, 2))
    bad_ihl = bytes([0x43]) + good_ip[1:]
    long_total = good_ip[:2] + (500).to_bytes(2, "big") + good_ip[4:]
    bad_doff = good_ip[:20 + 12] + bytes([0x20]) + good_ip[33:]
    short_udp = b.ipv4(SRC, DST, 17, b"\0" * 6)
    assert _malformed(tmp_path, [
        (1, b.ether(bad_ihl)), (2, b.ether(long_total)), (3, b.ether(bad_doff)), (4, b.ether(short_udp)),
        (5, b"\x02" * 10), (6, b.ether(good_ip[:30])),
    ]) == {"bad_ip_header": 1, "ip_length_past_frame": 2, "bad_transport_header": 2, "header_past_frame": 1}


def test_truncated_and_bad_pcap_records(tmp_path: Path) -> None:
    whole = b.pcap([(1, b.tcp_frame()), (2, b.tcp_frame())])
    _, stats = _read(tmp_path, whole[:-5])
    assert stats.frames == 1 and stats.malformed["truncated_file"] == 1
    bad = bytearray(whole)
    bad[24 + 8: 24 + 12] = (1 << 30).to_bytes(4, "little")
    _, stats = _read(tmp_path, bytes(bad))
    assert stats.frames == 0 and stats.malformed["bad_record_length"] == 1


def test_pcapng_malformed_blocks(tmp_path: Path) -> None:
    frame = b.tcp_frame()
    good = b.shb() + b.idb(1) + b.epb(0, 1, frame)
    _, stats = _read(tmp_path, good + b.epb(3, 1, frame) + b.epb(0, 2, frame), "a.pcapng")
    assert stats.frames == 2 and stats.malformed["unknown_interface"] == 1
    _, stats = _read(tmp_path, good + b.epb(0, 2, frame)[:-8], "b.pcapng")
    assert stats.frames == 1 and stats.malformed["truncated_file"] == 1
    broken = bytearray(b.epb(0, 2, frame))
    broken[-4:] = (12).to_bytes(4, "little")  # trailer disagrees
    _, stats = _read(tmp_path, good + bytes(broken) + b.epb(0, 3, frame), "c.pcapng")
    assert stats.frames == 1 and stats.malformed["bad_block_length"] == 1
    lying = bytearray(b.epb(0, 2, frame))
    lying[20:24] = (4000).to_bytes(4, "little")  # captured length past its block
    _, stats = _read(tmp_path, good + bytes(lying) + b.epb(0, 3, frame), "d.pcapng")
    assert stats.frames == 2 and stats.malformed["bad_block_length"] == 1


def test_not_a_capture(tmp_path: Path) -> None:
    for name, data in [("text.pcap", b"hello, this is not a capture"), ("empty.pcap", b""),
                       ("short.pcap", b.pcap([])[:10]), ("ng.pcapng", b.shb()[:8] + b"\0" * 8)]:
        with pytest.raises(ValueError, match=rf"{name}: .*(not a pcap|truncated pcap)"):
            hp.pcap.open(_write(tmp_path, data, name))
    with pytest.raises(FileNotFoundError):
        hp.pcap.open(tmp_path / "missing.pcap")
    with pytest.raises(IsADirectoryError):
        hp.pcap.open(tmp_path)
