"""Judges we did not write: dpkt parses our captures and our rewritten captures
to the same fields as our reader; tshark (Wireshark's dissectors, checksum
validation on) finds no bad checksum in what the writer wrote after the NAT
gateway, and reads the translation the same both ways.

tshark is Debian's package (CI installs it, .ci/run); these tests skip with the
reason when it is missing on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hyperplane as hp
from tests import pcap_build as b

dpkt = pytest.importorskip("dpkt", reason="dpkt is a test dependency (pip install -e '.[test]')")

TSHARK = shutil.which("tshark")
# CI installs tshark (.ci/run): there a missing one fails the tests instead of skipping them.
needs_tshark = pytest.mark.skipif(TSHARK is None and not os.environ.get("CI"),
                                  reason="tshark is not installed (apt-get install tshark)")
PUBLIC = "203.0.113.10"


def _mixed_frames(rng: np.random.Generator, n: int) -> list[bytes]:
    """TCP, UDP (some without checksums), ICMP echo, fragments and VLAN tags, from 10/8 outward."""
    out = []
    for i in range(n):
        src = f"10.{rng.integers(256)}.{rng.integers(256)}.{rng.integers(1, 255)}"
        dst = f"198.51.100.{rng.integers(1, 255)}"
        sport, dport = int(rng.integers(1024, 65536)), int(rng.choice([53, 80, 443]))
        payload = rng.bytes(int(rng.integers(0, 80)))
        kind = i % 5
        if kind == 0:
            ip = b.ipv4(src, dst, 6, b.tcp(src, dst, sport, dport, seq=int(rng.integers(2**32)), flags=0x02,
                                           payload=b""))
        elif kind == 1:
            ip = b.ipv4(src, dst, 17, b.udp(src, dst, sport, dport, payload, zero_checksum=i % 10 == 1))
        elif kind == 2:
            ip = b.ipv4(src, dst, 1, b.icmp(8, 0, ident=sport, seq=i, payload=payload))
        elif kind == 3:
            seg = b.udp(src, dst, sport, dport, payload + b"x" * 16)
            ip = b.ipv4(src, dst, 17, seg[:16], more=True, ident=i, options=b"\x94\x04\0\0")
        else:
            ip = b.ipv4(src, dst, 6, b.tcp(src, dst, sport, dport, flags=0x02, options=b"\x02\x04\x05\xb4"))
        out.append(b.ether(ip, vlans=[(0x8100, 7)] if i % 7 == 0 else []))
    return out


def _capture(tmp_path: Path, frames: list[bytes], name: str) -> Path:
    path = tmp_path / name
    if name.endswith(".pcapng"):
        path.write_bytes(b.shb() + b.idb(1, tsresol=9) + b"".join(b.epb(0, 1000 * i, f) for i, f in enumerate(frames)))
    else:
        path.write_bytes(b.pcap([(1000 * i, f) for i, f in enumerate(frames)]))
    return path


def _dpkt_fields(path: Path) -> list[tuple[int, int, int, int, int, int, int]]:
    rows = []
    with path.open("rb") as f:
        reader = dpkt.pcapng.Reader(f) if path.suffix == ".pcapng" else dpkt.pcap.Reader(f)
        for _, buf in reader:
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            sport = dport = 0
            later = ip.offset != 0
            if not later and isinstance(ip.data, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                sport, dport = ip.data.sport, ip.data.dport
            elif not later and isinstance(ip.data, dpkt.icmp.ICMP):
                dport = ip.data.type << 8 | ip.data.code
                if ip.data.type in (0, 8):
                    sport = ip.data.data.id
            elif not later and ip.p == 17:  # a first fragment dpkt leaves undecoded
                sport, dport = int.from_bytes(ip.data[:2], "big"), int.from_bytes(ip.data[2:4], "big")
            frag = int(bool(ip.mf or ip.offset))
            rows.append((int.from_bytes(ip.src, "big"), int.from_bytes(ip.dst, "big"), sport, dport, ip.p, ip.len, frag))
    return rows


def _our_fields(path: Path) -> list[tuple[int, int, int, int, int, int, int]]:
    p = hp.pcap.open(path).read().packets
    return [tuple(int(x) for x in r) for r in zip(p["src_ip"], p["dst_ip"], p["src_port"], p["dst_port"], p["proto"],
                                                  p["length"], p["flags"])]  # type: ignore[misc]


def _nat_out(tmp_path: Path, src: Path, name: str) -> tuple[Path, hp.pcap.Frames, np.ndarray, np.ndarray]:
    frames = hp.pcap.open(src).read()
    nat = hp.NatGateway([PUBLIC], seed=3)
    out, verdict = nat.process(frames.packets)
    with hp.pcap.Writer(tmp_path / name) as w:
        w.write(frames, out, verdict=verdict)
    return tmp_path / name, frames, out, verdict


@pytest.mark.parametrize("name", ["mixed.pcap", "mixed.pcapng"])
def test_dpkt_reads_the_same_fields(tmp_path: Path, name: str) -> None:
    path = _capture(tmp_path, _mixed_frames(np.random.default_rng(1), 300), name)
    assert _our_fields(path) == _dpkt_fields(path)
    out, _, _, verdict = _nat_out(tmp_path, path, "out-" + name)
    assert np.count_nonzero(verdict == hp.Verdict.FORWARD) > 200
    assert _our_fields(out) == _dpkt_fields(out)


def _tshark(path: Path, *fields: str) -> list[list[str]]:
    assert TSHARK
    cmd = [TSHARK, "-r", str(path), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=;"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    return [line.split(";") for line in res.stdout.splitlines()]


CHECKS = ("ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status")


def bad_checksums(rows: list[list[str]]) -> list[list[str]]:
    """Rows with a bad checksum (status 0) in any field, each of which may hold several values
    (an ICMP error's quoted IPv4 header has its own status)."""
    return [r for r in rows if "0" in [v for field in r for v in field.split(",")]]


@needs_tshark
@pytest.mark.parametrize("name", ["mixed.pcap", "mixed.pcapng"])
def test_tshark_finds_no_bad_checksum_after_the_nat(tmp_path: Path, name: str) -> None:
    """Wireshark's status 0 is a bad checksum, 1 a good one, 2 one not verified."""
    path = _capture(tmp_path, _mixed_frames(np.random.default_rng(2), 400), name)
    out, frames, packets, verdict = _nat_out(tmp_path, path, "out-" + name)
    rows = _tshark(out, *CHECKS)
    assert len(rows) == np.count_nonzero((verdict == hp.Verdict.FORWARD) | (verdict == hp.Verdict.RESET))
    assert not bad_checksums(rows)
    good = sum(r.count("1") for r in rows)
    assert good >= len(rows) + np.count_nonzero(verdict == hp.Verdict.FORWARD) // 2
    src = _tshark(out, "ip.src")
    assert {s[0] for s in src} == {PUBLIC}


def _conversation(tmp_path: Path) -> Path:
    """Connections from inside and the server's answers to the public address, interleaved in time:
    a first pass through a gateway (seed 3) gives the public ports the answers are sent to."""
    rng = np.random.default_rng(4)
    clients = [(f"10.1.{i}.{i + 1}", 30000 + i, f"198.51.100.{1 + i % 3}") for i in range(12)]
    syns = [b.ether(b.ipv4(c, s, 6, b.tcp(c, s, p, 80, seq=100, flags=0x02, payload=b""))) for c, p, s in clients]
    first = hp.pcap.open(_capture(tmp_path, syns, "syn.pcap")).read()
    sent, _ = hp.NatGateway([PUBLIC], seed=3).process(first.packets)
    frames = []
    for (c, p, s), pub_port in zip(clients, sent["src_port"]):
        pp = int(pub_port)
        frames += [
            b.ether(b.ipv4(c, s, 6, b.tcp(c, s, p, 80, seq=100, flags=0x02, payload=b""))),
            b.ether(b.ipv4(s, PUBLIC, 6, b.tcp(s, PUBLIC, 80, pp, seq=900, ack=101, flags=0x12, payload=b""))),
            b.ether(b.ipv4(c, s, 6, b.tcp(c, s, p, 80, seq=101, ack=901, flags=0x18, payload=rng.bytes(20)))),
            b.ether(b.ipv4(s, PUBLIC, 6, b.tcp(s, PUBLIC, 80, pp, seq=901, ack=121, flags=0x18, payload=rng.bytes(30)))),
        ]
    return _capture(tmp_path, frames, "conversation.pcap")


@needs_tshark
def test_tshark_reads_each_connection_translated_consistently_both_ways(tmp_path: Path) -> None:
    path = _conversation(tmp_path)
    out, _, _, verdict = _nat_out(tmp_path, path, "translated.pcap")
    assert (verdict == hp.Verdict.FORWARD).all()
    fields = ("tcp.stream", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport")
    before, after = _tshark(path, *fields), _tshark(out, *fields)
    assert not bad_checksums(_tshark(out, *CHECKS))
    public_of: dict[tuple[str, str, str], tuple[str, str]] = {}
    private_of: dict[tuple[str, str, str], tuple[str, str]] = {}
    for (_, s0, sp0, d0, dp0), (_, s1, sp1, d1, dp1) in zip(before, after):
        if s0.startswith("10."):  # outbound: the source becomes the public address and port
            assert (d1, dp1) == (d0, dp0) and s1 == PUBLIC
            assert public_of.setdefault((s0, sp0, d0), (s1, sp1)) == (s1, sp1)
        else:  # the answer: back to the private address and port
            assert (s1, sp1) == (s0, sp0) and d0 == PUBLIC
            assert private_of.setdefault((d0, dp0, s0), (d1, dp1)) == (d1, dp1)
    assert len(public_of) == len(private_of) == 12
    assert {(pub[0], pub[1], srv): priv for (priv_ip, priv_port, srv), pub in public_of.items()
            for priv in [(priv_ip, priv_port)]} == private_of
    streams = {r[0] for r in after}
    assert len(streams) == 24, "each leg of each connection is one stream to tshark"
