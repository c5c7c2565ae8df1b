"""``hyperplane replay`` end to end, as a user runs it: a capture through the NAT
gateway, the report printed, and a capture written that our reader (and tshark,
where installed) reads back translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import hyperplane as hp
from hyperplane.replay import replay
from tests import pcap_build as b

PUBLIC = "203.0.113.10"


def _trace(path: Path) -> None:
    c, s = "10.0.0.5", "198.51.100.9"
    ip6 = bytes([0x60, 0, 0, 0, 0, 0, 59, 64]) + b"\0" * 32
    path.write_bytes(b.pcap([
        (1_000, b.tcp_frame(c, s, 40000, 443, seq=1, flags=0x02, payload=b"")),      # SYN: translated
        (2_000, b.ether(ip6, 0x86DD)),                                                 # IPv6: carried
        (3_000, b.tcp_frame(c, s, 40001, 443, seq=5, ack=9, flags=0x10)),             # no connection: RST
        (4_000, b.ether(b.ipv4(s, PUBLIC, 17, b.udp(s, PUBLIC, 53, 9999, b"?")))),   # unsolicited: dropped
        (5_000, b"\x02" * 8),                                                          # malformed: skipped
    ]))


def test_replay_command(tmp_path: Path) -> None:
    exe = shutil.which("hyperplane", path=str(Path(sys.executable).parent))
    assert exe, f"the hyperplane command is not installed beside {sys.executable}"
    _trace(tmp_path / "trace.pcap")
    out = tmp_path / "out.pcapng"
    done = subprocess.run([exe, "replay", str(tmp_path / "trace.pcap"), "--nat", PUBLIC, "--private", "10.0.0.0/8",
                           "-o", str(out)], capture_output=True, text=True, check=True, timeout=120)
    text = done.stdout
    assert "4 frames" in text and "IPv6 1" in text and "header_past_frame 1" in text
    assert "forwarded 1" in text and "reset 1" in text and "unsolicited 1" in text
    assert "3 frames (1 rewritten, 1 RSTs); 1 dropped" in text
    frames = hp.pcap.open(out).read()
    assert list(frames.kinds) == [hp.pcap.FrameKind.IPV4, hp.pcap.FrameKind.IPV6, hp.pcap.FrameKind.IPV4]
    p = frames.packets
    assert hp.ip_str(p["src_ip"][0]) == PUBLIC and p["tcp_flags"][2] == hp.TcpFlag.RST
    assert hp.ip_str(p["dst_ip"][2]) == "10.0.0.5" and p["seq"][2] == 9
    if shutil.which("tshark"):
        res = subprocess.run(["tshark", "-r", str(out), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
                              "-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status"],
                             capture_output=True, text=True, check=True, timeout=60)
        assert "0" not in res.stdout.split() and res.stdout.split().count("1") == 4


def test_replay_errors(tmp_path: Path) -> None:
    exe = shutil.which("hyperplane", path=str(Path(sys.executable).parent))
    assert exe
    (tmp_path / "notes.txt").write_text("not a capture")
    done = subprocess.run([exe, "replay", str(tmp_path / "notes.txt"), "--nat", PUBLIC, "-o", str(tmp_path / "o.pcap")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "notes.txt: not a pcap or pcapng capture" in done.stderr


def test_replay_in_batches_is_the_same(tmp_path: Path) -> None:
    frames = [b.tcp_frame(f"10.0.{i}.1", "198.51.100.1", 1000 + i, 80, flags=0x02, payload=b"") for i in range(50)]
    (tmp_path / "t.pcap").write_bytes(b.pcap([(i * 1000, f) for i, f in enumerate(frames)]))
    one = replay(tmp_path / "t.pcap", tmp_path / "a.pcap", [PUBLIC], ["10.0.0.0/8"], batch=1_000, seed=1)
    many = replay(tmp_path / "t.pcap", tmp_path / "b.pcap", [PUBLIC], ["10.0.0.0/8"], batch=7, seed=1)
    assert one.verdicts == many.verdicts and one.outbound == 50
    assert (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()
    assert np.all(hp.pcap.open(tmp_path / "a.pcap").read().packets["src_ip"] == hp.ip(PUBLIC))
