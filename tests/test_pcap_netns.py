"""Real captures recorded by the suite itself: tcpdump inside a network namespace this test
creates (two namespaces joined by a veth pair, 192.0.2.0/24, removed afterwards) records a curl
against a local HTTP server, a ping and a DNS query. Our reader and dpkt read the same fields;
the NAT gateway's rewrite of it passes tshark's checksum validation, and the recording as the
gateway would see it comes through translated both ways.

Needs root and ip, tcpdump, curl, ping and ethtool (transmit checksum offload is turned off on
the veth pair, so that the recorded checksums are the real ones rather than the partial sums a
NIC would finish). CI installs them (.ci/run); elsewhere the test skips saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import hyperplane as hp
from tests.test_pcap_judges import CHECKS, TSHARK, _dpkt_fields, _our_fields, _tshark, bad_checksums

TOOLS = ("ip", "tcpdump", "curl", "ping", "ethtool")
CLIENT, SERVER, PUBLIC = "192.0.2.1", "192.0.2.2", "203.0.113.10"

SERVE = r"""
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the namespace\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
    while True:
        q, peer = s.recvfrom(512)
        # The question echoed with one A record for 198.51.100.80 (RFC 1035 section 4.1).
        answer = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00" + q[12:]
        answer += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([198, 51, 100, 80])
        s.sendto(answer, peer)
threading.Thread(target=dns, daemon=True).start()
HTTPServer((sys.argv[1], 8080), Hello).serve_forever()
"""

QUERY = r"""
import socket, sys
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(q, (sys.argv[1], 53)); print(len(s.recvfrom(512)[0]))
"""


# The tools and servers run without the sanitizer runtime CI preloads into the test process,
# with root's sbin directories on PATH (ip and ethtool live there on Debian).
ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
ENV["PATH"] = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [t for t in TOOLS if shutil.which(t, path=ENV["PATH"]) is None]
    return f"missing {', '.join(missing)} (apt-get install iproute2 tcpdump curl iputils-ping ethtool)" if missing else None


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30, env=ENV).stdout


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The capture, recorded once for the module's tests, the namespaces removed right after."""
    why = _why_not()
    if why and not os.environ.get("CI"):
        pytest.skip(why)
    tag = f"{os.getpid() % 100000}"
    a, b, va, vb = f"hpcap-a{tag}", f"hpcap-b{tag}", f"hpva{tag}", f"hpvb{tag}"
    _run("ip", "netns", "add", a)
    try:
        _run("ip", "netns", "add", b)
        _run("ip", "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b)
        for ns, dev, addr in ((a, va, CLIENT), (b, vb, SERVER)):
            _run("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _run("ip", "-n", ns, "link", "set", dev, "up")
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off")
        path = _record(tmp_path_factory.mktemp("netns"), a, b, va)
    finally:
        subprocess.run(["ip", "netns", "del", b], capture_output=True, env=ENV)
        subprocess.run(["ip", "netns", "del", a], capture_output=True, env=ENV)
    yield path


def _record(tmp_path: Path, a: str, b: str, dev: str) -> Path:
    out = tmp_path / "real.pcap"
    server = subprocess.Popen(["ip", "netns", "exec", b, sys.executable, "-c", SERVE, SERVER], env=ENV)
    # --immediate-mode: libpcap hands each packet over at once; otherwise the ring's last block, not yet
    # retired by its timeout when the SIGINT comes, is lost with every packet in it (seen under load).
    dump = subprocess.Popen(["ip", "netns", "exec", a, "tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-s", "0",
                             "-w", str(out)],
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert dump.stderr is not None
        assert "listening on" in dump.stderr.readline()
        deadline = time.monotonic() + 30  # until the server listens (its interpreter starts slowly on a busy machine)
        while subprocess.run(["ip", "netns", "exec", a, "curl", "-sf", f"http://{SERVER}:8080/"],
                             capture_output=True, timeout=10, env=ENV).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError("the HTTP server in the namespace never answered")
            time.sleep(0.1)
        _run("ip", "netns", "exec", a, "ping", "-c", "3", "-i", "0.2", SERVER)
        assert _run("ip", "netns", "exec", a, sys.executable, "-c", QUERY, SERVER).strip() != "0"
        time.sleep(0.5)
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
        if dump.stderr:
            dump.stderr.close()
        server.kill()
        server.wait(timeout=10)
    return out


def test_tcpdump_capture_read_judged_and_translated(tmp_path: Path, recording: Path) -> None:
    cap = hp.pcap.open(recording)
    frames = cap.read()
    stats = cap.stats
    assert stats.malformed_total == 0 and stats.linktypes.get(1, 0) == stats.frames
    p = frames.packets[frames.ipv4]
    assert np.count_nonzero(p["proto"] == hp.Proto.TCP) >= 6  # handshake, request, answer, close
    echo = p[(p["proto"] == hp.Proto.ICMP)]
    assert len(echo) >= 6 and len(set(echo["src_port"].tolist())) == 1  # one ping, one identifier
    dns = p[(p["proto"] == hp.Proto.UDP) & ((p["dst_port"] == 53) | (p["src_port"] == 53))]
    assert len(dns) == 2
    ipv4_only = tmp_path / "ipv4.pcap"
    with hp.pcap.Writer(ipv4_only) as w:
        w.write(frames, keep=frames.ipv4)
    assert _our_fields(ipv4_only) == _dpkt_fields(ipv4_only)

    nat = hp.NatGateway([PUBLIC], [f"{CLIENT}/32"], seed=1)
    packets = frames.packets.copy()
    out, verdict = nat.process(packets[frames.ipv4])
    packets[frames.ipv4] = out
    translated = tmp_path / "translated.pcap"
    with hp.pcap.Writer(translated) as w:
        w.write(frames, packets, keep=frames.ipv4)
    assert w.stats["rewritten"] == np.count_nonzero(out["src_ip"] == hp.ip(PUBLIC))
    # The answers go to the client's own address, not the gateway's, so the gateway sees only
    # what leaves: the SYNs (a connection's later segments are invalid without its SYN-ACK), the
    # echo requests and the DNS query.
    forwarded = verdict == hp.Verdict.FORWARD
    assert w.stats["rewritten"] == np.count_nonzero(forwarded) >= 1 + 3 + 1
    if TSHARK is None and not os.environ.get("CI"):
        pytest.skip("tshark is not installed (apt-get install tshark)")
    rows = _tshark(translated, *CHECKS)
    assert rows and not bad_checksums(rows)
    assert sum(r.count("1") for r in rows) >= len(rows)


def test_real_connections_translated_both_ways(tmp_path: Path, recording: Path) -> None:
    """The recording as a gateway in front of the client would see it: what the client sends
    as it is, what the server answers addressed to the gateway's public address and port (a
    first pass through a gateway with the same seed gives them; our writer puts them in). Through
    the gateway, every frame is forwarded, every answer comes out byte for byte as the client
    received it, and tshark reads each connection translated consistently both ways."""
    frames = hp.pcap.open(recording).read()
    p = frames.packets
    client, ipv4 = hp.ip(CLIENT), frames.ipv4
    outbound, inbound = ipv4 & (p["src_ip"] == client), ipv4 & (p["dst_ip"] == client)

    def key(proto: int, port: int, remote: int, remote_port: int) -> tuple[int, int, int, int]:
        return proto, port, remote, 0 if proto == hp.Proto.ICMP else remote_port

    first, verdict = hp.NatGateway([PUBLIC], [f"{CLIENT}/32"], seed=1).process(p[outbound])
    public = {key(int(r["proto"]), int(r["src_port"]), int(r["dst_ip"]), int(r["dst_port"])): int(o["src_port"])
              for r, o, v in zip(p[outbound], first, verdict) if v == hp.Verdict.FORWARD}
    seen = p.copy()
    for i in np.flatnonzero(inbound):
        icmp = p["proto"][i] == hp.Proto.ICMP
        mine = int(p["src_port"][i] if icmp else p["dst_port"][i])
        k = key(int(p["proto"][i]), mine, int(p["src_ip"][i]), int(p["src_port"][i]))
        seen["dst_ip"][i] = hp.ip(PUBLIC)
        seen["src_port" if icmp else "dst_port"][i] = public[k]
    outside = tmp_path / "outside.pcap"
    with hp.pcap.Writer(outside) as w:
        w.write(frames, seen, keep=ipv4)

    at_gateway = hp.pcap.open(outside).read()
    out, verdict = hp.NatGateway([PUBLIC], [f"{CLIENT}/32"], seed=1).process(at_gateway.packets)
    assert (verdict == hp.Verdict.FORWARD).all()
    translated = tmp_path / "translated.pcap"
    with hp.pcap.Writer(translated) as w:
        w.write(at_gateway, out, verdict=verdict)
    back = hp.pcap.open(translated).read()
    answers = np.flatnonzero(inbound[ipv4])
    assert len(answers) >= 8
    for j, i in zip(answers, np.flatnonzero(inbound)):
        assert back.frame(int(j)) == frames.frame(int(i)), "an answer translated back is what the client received"
    if TSHARK is None and not os.environ.get("CI"):
        pytest.skip("tshark is not installed (apt-get install tshark)")
    assert not bad_checksums(_tshark(translated, *CHECKS))
    fields = ("ip.src", "tcp.srcport", "udp.srcport", "ip.dst", "tcp.dstport", "udp.dstport")
    before, after = _tshark(outside, *fields), _tshark(translated, *fields)
    assert len(before) == len(after) == len(at_gateway)
    public_of: dict[tuple[str, str], tuple[str, str]] = {}
    private_of: dict[tuple[str, str], tuple[str, str]] = {}
    for (s0, ts0, us0, d0, td0, ud0), (s1, ts1, us1, d1, td1, ud1) in zip(before, after):
        if s0 == CLIENT and (ts0 or us0):  # leaving: the source becomes the public address and port
            assert (d1, td1 + ud1) == (d0, td0 + ud0) and s1 == PUBLIC
            assert public_of.setdefault((s0, ts0 + us0), (s1, ts1 + us1)) == (s1, ts1 + us1)
        elif d0 == PUBLIC and (td0 or ud0):  # answers: back to the client's own address and port
            assert (s1, ts1 + us1) == (s0, ts0 + us0) and d1 == CLIENT
            assert private_of.setdefault((d0, td0 + ud0), (d1, td1 + ud1)) == (d1, td1 + ud1)
    assert len(public_of) >= 3  # two curl connections and the DNS query
    assert {pub: priv for priv, pub in public_of.items()} == private_of, "each connection the same both ways"
