"""The live frame I/O on a veth pair (csrc/live/): one namespace this test makes, the engine's
router on one end (no address) and the namespace's own kernel, at 192.0.2.2/24, on the other.

The kernel is the judge: it must resolve the engine's address by ARP (RFC 826) and get an
answer; a datagram it sends arrives as a packet record with the frame's receive time and its
partial checksum completed; the same frame rewritten (addresses and ports, RFC 1624) and sent
back is accepted by the kernel's UDP socket, which drops bad checksums; a frame to a neighbour
the engine does not know yet waits for the engine's own ARP request and goes once answered;
and a RESET reaches the kernel as the RST that refuses its connection. On both kinds of
receive ring (TPACKET_V3 blocks, TPACKET_V2 frames).
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.live import Dataplane, Link, namespace
from tests.live_lab import skip_unless_able, tag

pytestmark = pytest.mark.live

ENGINE, HOST, OTHER = "192.0.2.1", "192.0.2.2", "192.0.2.3"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def veth() -> Iterator[str]:
    skip_unless_able()
    ns = f"hpl{tag()}-io"
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    _ip("netns", "add", ns)
    try:
        _ip("-n", ns, "link", "add", "eng0", "type", "veth", "peer", "name", "host0")
        for dev in ("eng0", "host0"):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
                           capture_output=True)
        _ip("-n", ns, "address", "add", f"{HOST}/24", "dev", "host0")
        _ip("-n", ns, "address", "add", f"{OTHER}/24", "dev", "host0")
        for dev in ("eng0", "host0", "lo"):
            _ip("-n", ns, "link", "set", dev, "up")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture(params=["v3", "v2"])
def plane(veth: str, request: pytest.FixtureRequest) -> Dataplane:
    _ip("-n", veth, "neigh", "flush", "dev", "host0")  # the kernel asks for the engine's address afresh
    return Dataplane([Link("eng0", f"{ENGINE}/24")], batch=64, netns=veth, ring=request.param)


def _udp(ns: str, address: str, port: int) -> socket.socket:
    with namespace(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    s.settimeout(3)
    return s


def _receive(plane: Dataplane, want: int = 1, timeout: float = 3.0) -> hp.packets.Batch:
    """Runs receive() (ARP answered on the way) until `want` records come; sends nothing else."""
    buf = hp.packets.empty(plane.batch)
    got: list[hp.packets.Batch] = []
    deadline = time.monotonic() + timeout
    core = plane._core
    while sum(len(g) for g in got) < want and time.monotonic() < deadline:
        n = core.receive(buf, 50)
        got.append(buf[:n].copy())
        if sum(len(g) for g in got) < want:
            core.transmit(buf[:n], np.full(n, hp.Verdict.DROP_INVALID, np.uint8))
    return np.concatenate(got) if got else buf[:0]


def test_arp_answered_datagram_received_rewritten_and_accepted(veth: str, plane: Dataplane) -> None:
    host = _udp(veth, HOST, 5000)
    try:
        before = time.time_ns()
        host.sendto(b"through the ring", (ENGINE, 9))
        got = _receive(plane)
        assert len(got) == 1
        r = got[0]
        assert (hp.ip_str(int(r["src_ip"])), int(r["src_port"]), hp.ip_str(int(r["dst_ip"])), int(r["dst_port"])) == (
            HOST, 5000, ENGINE, 9)
        assert r["proto"] == hp.Proto.UDP and r["length"] == 20 + 8 + 16
        assert before - 1_000_000_000 < int(r["ts"]) < time.time_ns() + 1_000_000_000  # the kernel's receive time
        out = got.copy()
        out["src_ip"], out["src_port"], out["dst_ip"], out["dst_port"] = hp.ip(ENGINE), 7777, hp.ip(HOST), 5000
        plane._core.transmit(out, np.zeros(1, np.uint8))
        data, peer = host.recvfrom(2048)
        assert (data, peer) == (b"through the ring", (ENGINE, 7777))  # its UDP checksum held
        c = plane.counters()
        assert c["arp_replies"] >= 1 and c["rx_to_stage"] == 1 and c["tx_forwarded"] == 1
        assert c["checksums_completed"] == 1  # veth kept the sender's partial checksum
    finally:
        host.close()


def test_an_unknown_neighbour_is_resolved_by_arp_first(veth: str, plane: Dataplane) -> None:
    host, other = _udp(veth, HOST, 5001), _udp(veth, OTHER, 5002)
    try:
        host.sendto(b"x", (ENGINE, 9))
        got = _receive(plane)
        out = got.copy()
        out["src_ip"], out["dst_ip"], out["dst_port"] = hp.ip(ENGINE), hp.ip(OTHER), 5002
        plane._core.transmit(out, np.zeros(1, np.uint8))  # held: 192.0.2.3 not known yet
        assert plane.counters()["arp_requests"] == 1
        _receive(plane, want=1, timeout=0.3)  # reads the kernel's ARP reply, sends the held frame
        assert other.recvfrom(2048) == (b"x", (ENGINE, 5001))
        c = plane.counters()
        assert c["arp_learned"] >= 1 and c["tx_forwarded"] == 1 and c["unresolved"] == 0
    finally:
        host.close(), other.close()


def test_a_reset_refuses_the_kernels_connection(veth: str, plane: Dataplane) -> None:
    with namespace(veth):
        s = socket.socket()
    s.setblocking(False)
    try:
        assert s.connect_ex((ENGINE, 80)) == errno.EINPROGRESS
        got = _receive(plane)
        assert got[0]["tcp_flags"] == 0x02
        rst = got.copy()
        rst["src_ip"], rst["dst_ip"] = got["dst_ip"], got["src_ip"]
        rst["src_port"], rst["dst_port"] = got["dst_port"], got["src_port"]
        plane._core.transmit(rst, np.full(1, hp.Verdict.RESET, np.uint8))
        deadline = time.monotonic() + 3
        while (err := s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert err == errno.ECONNREFUSED
        assert plane.counters()["tx_resets"] == 1
    finally:
        s.close()


def test_bad_links_are_refused_by_name(veth: str) -> None:
    with pytest.raises(ValueError, match="no interface named 'nope0'"):
        Dataplane([Link("nope0", f"{ENGINE}/24")], netns=veth)
    with pytest.raises(ValueError, match="eng0: address"):
        Dataplane([Link("eng0", "192.0.2.300/24")], netns=veth)
    with pytest.raises(ValueError, match="gateway 198.51.100.1 is not on 192.0.2.0/24"):
        Dataplane([Link("eng0", f"{ENGINE}/24", gateway="198.51.100.1")], netns=veth)
    with pytest.raises(ValueError, match="ring must be one of v3, v2"):
        Dataplane([Link("eng0", f"{ENGINE}/24")], netns=veth, ring="v1")
    with pytest.raises(FileNotFoundError):
        Dataplane([Link("eng0", f"{ENGINE}/24")], netns=f"hpl{tag()}-missing")
    assert os.path.exists(f"/var/run/netns/{veth}")
