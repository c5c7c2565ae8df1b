"""The pcap/pcapng writer: round trips, rewrites with checksums checked against
a full recomputation (RFC 1071, tests/pcap_build.py), RESET as the RST, keep
masks, snaplen cuts, and bad arguments."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane.pcap import Frames
from tests import pcap_build as b

SRC, DST, PUBLIC = "10.0.0.1", "198.51.100.7", "203.0.113.10"


def _frames(tmp_path: Path, data: bytes, name: str = "in.pcap") -> Frames:
    path = tmp_path / name
    path.write_bytes(data)
    return hp.pcap.open(path).read()


def _write(tmp_path: Path, frames: Frames, packets: np.ndarray | None = None, name: str = "out.pcap",
           **kw: object) -> tuple[Frames, dict[str, int]]:
    with hp.pcap.Writer(tmp_path / name) as w:
        w.write(frames, packets, **kw)  # type: ignore[arg-type]
    return hp.pcap.open(tmp_path / name).read(), w.stats


def transport_ok(frame: bytes, l3: int = 14) -> bool:
    """Every checksum of an Ethernet IPv4 frame, recomputed in full (a UDP checksum of 0 means none)."""
    ip = frame[l3:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if b.checksum(ip[:ihl]) != 0:
        return False
    proto, seg = ip[9], ip[ihl:total]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(seg))
    if proto == 17 and seg[6:8] == b"\0\0":
        return True
    if proto in (6, 17):
        return b.checksum(pseudo + seg) == 0
    return b.checksum(seg) == 0


@pytest.mark.parametrize("name", ["rt.pcap", "rt.pcapng"])
def test_round_trip_keeps_every_byte(tmp_path: Path, name: str) -> None:
    whole = b.tcp_frame(payload=b"z" * 50)
    data = b.pcap([(1_000_000_007, whole), (2, whole[:40], len(whole)),
                   (3, b.ether(b"\0" * 28, 0x0806))])
    frames = _frames(tmp_path, data)
    again, stats = _write(tmp_path, frames, name=name)
    assert [again.frame(i) for i in range(3)] == [frames.frame(i) for i in range(3)]
    assert list(again.wire_lengths) == list(frames.wire_lengths)
    assert list(again.packets["ts"]) == [1_000_000_007, 2, 3]
    assert stats == {"written": 3, "rewritten": 0, "resets": 0, "dropped": 0, "no_reset": 0}


def test_pcapng_holds_several_link_types_pcap_one(tmp_path: Path) -> None:
    ip = b.ipv4(SRC, DST, 17, b.udp(SRC, DST, 1, 2))
    frames = _frames(tmp_path, b.shb() + b.idb(1) + b.idb(101) + b.epb(0, 1, b.ether(ip)) + b.epb(1, 2, ip),
                     "in.pcapng")
    again, _ = _write(tmp_path, frames, name="out.pcapng")
    assert list(again.linktypes) == [1, 101] and again.frame(1) == ip
    with pytest.raises(ValueError, match="frame 1 has link type 101 but this pcap file holds 1; pcapng"):
        _write(tmp_path, frames, name="out.pcap")
    only_raw, _ = _write(tmp_path, frames, name="raw.pcap", keep=np.array([False, True]))
    assert list(only_raw.linktypes) == [101]


def _rewritten(tmp_path: Path, frame: bytes, **fields: int) -> tuple[bytes, Frames]:
    frames = _frames(tmp_path, b.pcap([(1, frame)]))
    out = frames.packets.copy()
    for k, v in fields.items():
        out[k] = v
    again, stats = _write(tmp_path, frames, out)
    assert stats["rewritten"] == 1
    return again.frame(0), again


def test_tcp_rewrite(tmp_path: Path) -> None:
    data, again = _rewritten(tmp_path, b.tcp_frame(payload=b"abc"), src_ip=hp.ip(PUBLIC), src_port=1024)
    assert transport_ok(data) and hp.ip_str(again.packets["src_ip"][0]) == PUBLIC
    assert again.packets["src_port"][0] == 1024 and again.packets["seq"][0] == 1000


def test_udp_rewrite_and_zero_checksum(tmp_path: Path) -> None:
    frame = b.ether(b.ipv4(DST, PUBLIC, 17, b.udp(DST, PUBLIC, 53, 1024, b"answer")))
    data, _ = _rewritten(tmp_path, frame, dst_ip=hp.ip(SRC), dst_port=33333)
    assert transport_ok(data) and data[14 + 20 + 6:14 + 20 + 8] != b"\0\0"
    none = b.ether(b.ipv4(DST, PUBLIC, 17, b.udp(DST, PUBLIC, 53, 1024, b"answer", zero_checksum=True)))
    data, _ = _rewritten(tmp_path, none, dst_ip=hp.ip(SRC), dst_port=33333)
    assert data[14 + 20 + 6:14 + 20 + 8] == b"\0\0" and b.checksum(data[14:34]) == 0


def test_icmp_echo_identifier_rewrite(tmp_path: Path) -> None:
    frame = b.ether(b.ipv4(SRC, DST, 1, b.icmp(8, 0, ident=77, seq=3, payload=b"ping")))
    data, again = _rewritten(tmp_path, frame, src_ip=hp.ip(PUBLIC), src_port=4321)
    assert transport_ok(data) and again.packets["src_port"][0] == 4321 and again.packets["dst_port"][0] == 0x0800


def test_snapped_frame_rewrites_what_it_holds(tmp_path: Path) -> None:
    whole = b.tcp_frame(payload=b"q" * 200)
    frames = _frames(tmp_path, b.pcap([(1, whole[:24 + 14], len(whole)), (2, whole[:64], len(whole))]))
    out = frames.packets.copy()
    out["src_ip"] = hp.ip(PUBLIC)
    out["src_port"][1] = 2000
    again, stats = _write(tmp_path, frames, out)
    assert stats["rewritten"] == 2
    for i in range(2):
        assert b.checksum(again.frame(i)[14:34]) == 0 and hp.ip_str(again.packets["src_ip"][i]) == PUBLIC
    # The second one's TCP checksum, updated without its payload, verifies against the whole segment.
    full = again.frame(1) + whole[64:]
    assert transport_ok(full) and again.packets["src_port"][1] == 2000


def test_later_fragment_rewrites_the_ip_header_only(tmp_path: Path) -> None:
    seg = b.udp(SRC, DST, 4000, 53, b"y" * 40)
    frames = _frames(tmp_path, b.pcap([(1, b.ether(b.ipv4(SRC, DST, 17, seg[:24], more=True))),
                                      (2, b.ether(b.ipv4(SRC, DST, 17, seg[24:], offset=3)))]))
    out = frames.packets.copy()
    out["src_ip"], out["src_port"] = hp.ip(PUBLIC), [1500, 0]
    again, _ = _write(tmp_path, frames, out)
    first, later = again.frame(0), again.frame(1)
    assert later[34:] == seg[24:] and b.checksum(later[14:34]) == 0
    datagram = first[34:] + later[34:]
    pseudo = b.addr(PUBLIC) + b.addr(DST) + struct.pack("!BBH", 0, 17, len(datagram))
    assert b.checksum(pseudo + datagram) == 0 and again.packets["src_port"][0] == 1500


@given(
    src=st.integers(0, 2**32 - 1), dst=st.integers(0, 2**32 - 1), sport=st.integers(0, 65535),
    dport=st.integers(0, 65535), payload=st.binary(max_size=64), proto=st.sampled_from([1, 6, 17]),
    new_src=st.integers(0, 2**32 - 1), new_dst=st.integers(0, 2**32 - 1), new_sport=st.integers(0, 65535),
    new_dport=st.integers(0, 65535), change=st.integers(1, 15), options=st.sampled_from([b"", b"\x01" * 4]),
)
def test_incremental_checksums_equal_full_recomputation(
    tmp_path_factory: pytest.TempPathFactory, src: int, dst: int, sport: int, dport: int, payload: bytes,
    proto: int, new_src: int, new_dst: int, new_sport: int, new_dport: int, change: int, options: bytes,
) -> None:
    """RFC 1624's update gives the checksum a full RFC 1071 computation gives (exactly, not just
    up to one's-complement zero), for every header field a stage rewrites."""
    tmp = tmp_path_factory.mktemp("h")
    s, d = hp.ip_str(src), hp.ip_str(dst)
    seg = {6: lambda: b.tcp(s, d, sport, dport, payload=payload), 17: lambda: b.udp(s, d, sport, dport, payload),
           1: lambda: b.icmp(8, 0, ident=sport, seq=1, payload=payload)}[proto]()
    frames = _frames(tmp, b.pcap([(1, b.ether(b.ipv4(s, d, proto, seg, options=options)))]))
    out = frames.packets.copy()
    if change & 1:
        out["src_ip"] = new_src
    if change & 2:
        out["dst_ip"] = new_dst
    if change & 4:
        out["src_port"] = new_sport
    if change & 8 and proto != 1:
        out["dst_port"] = new_dport
    again, _ = _write(tmp, frames, out)
    got = again.frame(0)
    p = again.packets[0]
    s2, d2 = hp.ip_str(int(p["src_ip"])), hp.ip_str(int(p["dst_ip"]))
    want_seg = {6: lambda: b.tcp(s2, d2, int(p["src_port"]), int(p["dst_port"]), payload=payload),
                17: lambda: b.udp(s2, d2, int(p["src_port"]), int(p["dst_port"]), payload),
                1: lambda: b.icmp(8, 0, ident=int(p["src_port"]), seq=1, payload=payload)}[proto]()
    assert got == b.ether(b.ipv4(s2, d2, proto, want_seg, options=options))
    assert (int(p["src_ip"]), int(p["dst_ip"]), int(p["src_port"])) == (int(out["src_ip"][0]), int(out["dst_ip"][0]),
                                                                        int(out["src_port"][0]))


def test_reset_writes_the_rst_rfc793_builds(tmp_path: Path) -> None:
    """RFC 793: "If the incoming segment has an ACK field, the reset takes its sequence number
    from the ACK field of the segment, otherwise the reset has sequence number zero and the ACK
    field is set to the sum of the sequence number and segment length of the incoming segment."
    The NAT gateway answers a TCP packet from inside on no live connection with one (AWS: "a
    packet from inside on a timed-out TCP connection gets an RST back")."""
    frames = _frames(tmp_path, b.pcap([
        (1, b.tcp_frame(seq=5000, ack=9000, flags=0x18, payload=b"data!")),  # ACK set: RST seq = 9000
    ]))
    nat = hp.NatGateway([PUBLIC], seed=1)
    out, verdict = nat.process(frames.packets)
    assert list(verdict) == [hp.Verdict.RESET]
    again, stats = _write(tmp_path, frames, out, verdict=verdict)
    assert stats["resets"] == 1
    rst = again.frame(0)
    assert rst[:6] == b.MAC_B and rst[6:12] == b.MAC_A and len(rst) == 54 and transport_ok(rst)
    p = again.packets[0]
    assert (hp.ip_str(p["src_ip"]), hp.ip_str(p["dst_ip"]), p["src_port"], p["dst_port"]) == (DST, SRC, 443, 40000)
    assert p["tcp_flags"] == hp.TcpFlag.RST and p["seq"] == 9000


def test_reset_of_a_segment_without_ack(tmp_path: Path) -> None:
    frames = _frames(tmp_path, b.pcap([(1, b.tcp_frame(seq=700, flags=0x02, payload=b""))]))
    out = frames.packets.copy()
    out["src_ip"], out["dst_ip"] = frames.packets["dst_ip"], frames.packets["src_ip"]
    out["src_port"], out["dst_port"] = frames.packets["dst_port"], frames.packets["src_port"]
    out["tcp_flags"] = hp.TcpFlag.RST | hp.TcpFlag.ACK
    again, _ = _write(tmp_path, frames, out, verdict=np.array([hp.Verdict.RESET], np.uint8))
    rst = again.frame(0)
    assert transport_ok(rst) and again.packets["seq"][0] == 0
    assert struct.unpack("!I", rst[14 + 20 + 8:14 + 20 + 12])[0] == 701  # the SYN counts one


def test_keep_and_verdict_choose_frames(tmp_path: Path) -> None:
    frames = _frames(tmp_path, b.pcap([(i, b.tcp_frame(sport=100 + i)) for i in range(4)]))
    verdict = np.array([hp.Verdict.FORWARD, hp.Verdict.DROP_NO_PORT, hp.Verdict.FORWARD, hp.Verdict.RESET], np.uint8)
    again, stats = _write(tmp_path, frames, keep=verdict == hp.Verdict.FORWARD)
    assert list(again.packets["src_port"]) == [100, 102] and stats["dropped"] == 2
    again, stats = _write(tmp_path, frames, verdict=verdict)
    # The RST is addressed as its record says (a stage hands the reply; these are the originals).
    assert list(again.packets["src_port"]) == [100, 102, 103] and again.packets["tcp_flags"][2] & hp.TcpFlag.RST
    assert stats["resets"] == 1


def test_reset_without_a_tcp_header_writes_nothing(tmp_path: Path) -> None:
    frames = _frames(tmp_path, b.pcap([(1, b.ether(b.ipv4(SRC, DST, 17, b.udp(SRC, DST, 1, 2))))]))
    again, stats = _write(tmp_path, frames, verdict=np.array([hp.Verdict.RESET], np.uint8))
    assert len(again) == 0 and stats["no_reset"] == 1


def test_bad_arguments(tmp_path: Path) -> None:
    frames = _frames(tmp_path, b.pcap([(1, b.tcp_frame())]))
    w = hp.pcap.Writer(tmp_path / "o.pcap")
    with pytest.raises(ValueError, match="keep must be 1-D with 1 elements"):
        w.write(frames, keep=np.array([True, False]))
    with pytest.raises(ValueError, match="packets must hold 1 packets"):
        w.write(frames, hp.empty(2))
    outside = Frames(frames.packets, frames.bytes, frames.offsets + np.uint64(10_000), frames.lengths,
                     frames.wire_lengths, frames.linktypes, frames.kinds)
    with pytest.raises(ValueError, match="frame 0 lies outside its bytes"):
        w.write(outside)
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.write(frames)
    with pytest.raises(ValueError, match="format must be"):
        hp.pcap.Writer(tmp_path / "x", format="erf")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        hp.pcap.Writer(tmp_path / "no" / "such.pcap")


def test_empty_capture_is_still_a_capture(tmp_path: Path) -> None:
    hp.pcap.Writer(tmp_path / "e.pcapng").close()
    cap = hp.pcap.open(tmp_path / "e.pcapng")
    assert cap.format == "pcapng" and len(cap.read()) == 0
