"""ICMP errors that quote a translated connection are translated with their quoted header.

AWS documents of its NAT gateway only that "A NAT gateway supports the following protocols:
TCP, UDP, and ICMP." (Amazon VPC User Guide, NAT gateway basics). How an error's quote is
translated is RFC 5508's (REQ-4: a NAT "MUST translate" the ICMP error and "the embedded IP
packet" with the mapping of the connection it belongs to) and what Linux's conntrack does for
RELATED traffic: so that path MTU discovery (destination unreachable, fragmentation needed)
and traceroute (time exceeded) work through the gateway. The checks: the quote, translated
back, is byte for byte the packet the host sent; every checksum holds (full recomputation,
and tshark where installed); the connection itself is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import hyperplane as hp
from hyperplane.pcap import Frames
from tests import pcap_build as b
from tests.test_pcap_judges import _tshark, needs_tshark
from tests.test_pcap_write import transport_ok

HOST, SERVER, ROUTER, PUBLIC = "10.0.0.5", "198.51.100.9", "192.0.2.254", "203.0.113.10"


def _through(tmp_path: Path, frames: list[bytes], name: str) -> tuple[Frames, Frames, np.ndarray, hp.NatGateway]:
    """The frames through one gateway (seed 5), and what the writer made of them."""
    (tmp_path / f"{name}.pcap").write_bytes(b.pcap([(1_000_000 * i, f) for i, f in enumerate(frames)]))
    src = hp.pcap.open(tmp_path / f"{name}.pcap").read()
    nat = hp.NatGateway([PUBLIC], ["10.0.0.0/8"], seed=5)
    out, verdict = nat.process(src.packets)
    with hp.pcap.Writer(tmp_path / f"{name}.out.pcap") as w:
        w.write(src, out, keep=np.ones(len(src), bool))
    return src, hp.pcap.open(tmp_path / f"{name}.out.pcap").read(), verdict, nat


def _public_ports(tmp_path: Path, *first: bytes) -> list[int]:
    """The public ports (echo identifiers) a first pass through the same gateway gives the frames."""
    _, out, _, _ = _through(tmp_path, list(first), "first")
    return [int(p) for p in out.packets["src_port"]]


def _error(type_: int, code: int, quote: bytes, *, src: str = ROUTER, dst: str = PUBLIC, mtu: int = 0) -> bytes:
    body = b.icmp(type_, code, ident=0, seq=mtu, payload=quote)  # frag needed: next-hop MTU in the low word
    return b.ether(b.ipv4(src, dst, 1, body))


def _ok(frame: bytes) -> bool:
    """The error's IPv4 and ICMP checksums, and the quoted IPv4 header's."""
    ihl = (frame[14] & 15) * 4
    quote = frame[14 + ihl + 8:]
    return transport_ok(frame) and b.checksum(quote[:(quote[0] & 15) * 4]) == 0


def test_fragmentation_needed_for_a_tcp_connection(tmp_path: Path) -> None:
    syn = b.ipv4(HOST, SERVER, 6, b.tcp(HOST, SERVER, 40000, 443, seq=7, flags=0x02, payload=b""), ident=77)
    (port,) = _public_ports(tmp_path, b.ether(syn))
    sent = b.ipv4(PUBLIC, SERVER, 6, b.tcp(PUBLIC, SERVER, port, 443, seq=7, flags=0x02, payload=b""), ident=77)
    src, out, verdict, nat = _through(tmp_path, [b.ether(syn), _error(3, 4, sent, mtu=1400)], "pmtu")
    assert src.packets["flags"][1] == hp.PacketFlag.ICMP_ERROR
    assert (hp.ip_str(src.packets["src_ip"][1]), int(src.packets["dst_port"][1])) == (SERVER, port)
    assert list(verdict) == [hp.Verdict.FORWARD, hp.Verdict.FORWARD]
    err = out.frame(1)
    assert err[14 + 12:14 + 20] == b.addr(ROUTER) + b.addr(HOST)  # to the host, still from the router
    assert err[14 + 28:] == syn, "the quote is the host's own SYN again, checksums included"
    assert _ok(err)
    conn = nat.connections()
    assert conn["packets_in"][0] == 0 and conn["last_ts"][0] == 0, "the error changed nothing of the connection"


def test_time_exceeded_for_udp_and_for_a_ping(tmp_path: Path) -> None:
    """traceroute's probes: UDP (the quote's first 8 bytes hold its checksum) and ICMP echo."""
    probe = b.ipv4(HOST, SERVER, 17, b.udp(HOST, SERVER, 33434, 33435, b"x" * 24), ttl=1)
    ping = b.ipv4(HOST, SERVER, 1, b.icmp(8, 0, ident=4242, seq=1, payload=b"p" * 16), ttl=1)
    udp_port, echo_id = _public_ports(tmp_path, b.ether(probe), b.ether(ping))
    sent_probe = b.ipv4(PUBLIC, SERVER, 17, b.udp(PUBLIC, SERVER, udp_port, 33435, b"x" * 24), ttl=1)
    sent_ping = b.ipv4(PUBLIC, SERVER, 1, b.icmp(8, 0, ident=echo_id, seq=1, payload=b"p" * 16), ttl=1)
    _, out, verdict, _ = _through(tmp_path, [b.ether(probe), b.ether(ping), _error(11, 0, sent_probe[:28]),
                                             _error(11, 0, sent_ping[:28])], "traceroute")
    assert (verdict == hp.Verdict.FORWARD).all()
    assert out.frame(2)[14 + 28:] == probe[:28] and _ok(out.frame(2))
    assert out.frame(3)[14 + 28:] == ping[:28] and _ok(out.frame(3))


def test_port_unreachable_from_inside(tmp_path: Path) -> None:
    """The host answers a translated reply with an error: it leaves from the public address,
    quoting the reply as it came from the far side."""
    query = b.ipv4(HOST, SERVER, 17, b.udp(HOST, SERVER, 5353, 53, b"q"))
    (port,) = _public_ports(tmp_path, b.ether(query))
    reply = b.ipv4(SERVER, PUBLIC, 17, b.udp(SERVER, PUBLIC, 53, port, b"answer"))
    reply_in = b.ipv4(SERVER, HOST, 17, b.udp(SERVER, HOST, 53, 5353, b"answer"))
    err = _error(3, 3, reply_in[:28], src=HOST, dst=SERVER)
    _, out, verdict, _ = _through(tmp_path, [b.ether(query), b.ether(reply), err], "unreachable")
    assert list(verdict) == [hp.Verdict.FORWARD] * 3
    got = out.frame(2)
    assert got[14 + 12:14 + 20] == b.addr(PUBLIC) + b.addr(SERVER)
    assert got[14 + 28:] == reply[:28] and _ok(got)


def test_an_error_from_a_router_inside_leaves_from_the_public_address(tmp_path: Path) -> None:
    """Linux translates the error's own header "to look like the reply to an incoming packet":
    the far side gets it from the gateway's address, never from a private one."""
    query = b.ipv4(HOST, SERVER, 17, b.udp(HOST, SERVER, 5353, 53, b"q"))
    (port,) = _public_ports(tmp_path, b.ether(query))
    reply = b.ipv4(SERVER, PUBLIC, 17, b.udp(SERVER, PUBLIC, 53, port, b"answer"), ttl=1)
    reply_in = b.ipv4(SERVER, HOST, 17, b.udp(SERVER, HOST, 53, 5353, b"answer"), ttl=1)
    err = _error(11, 0, reply_in[:28], src="10.0.0.254", dst=SERVER)
    _, out, verdict, _ = _through(tmp_path, [b.ether(query), b.ether(reply), err], "router")
    assert list(verdict) == [hp.Verdict.FORWARD] * 3
    got = out.frame(2)
    assert got[14 + 12:14 + 20] == b.addr(PUBLIC) + b.addr(SERVER)
    assert got[14 + 28:] == reply[:28] and _ok(got)


def test_errors_about_no_connection_are_dropped(tmp_path: Path) -> None:
    stray = b.ipv4(PUBLIC, SERVER, 6, b.tcp(PUBLIC, SERVER, 5555, 443, flags=0x02, payload=b""))
    inside = b.ipv4(SERVER, HOST, 17, b.udp(SERVER, HOST, 53, 5353, b"?"))
    _, _, verdict, nat = _through(tmp_path, [_error(3, 4, stray), _error(3, 3, inside[:28], src=HOST, dst=SERVER)],
                                  "stray")
    assert list(verdict) == [hp.Verdict.DROP_UNSOLICITED, hp.Verdict.DROP_INVALID]
    assert len(nat) == 0, "an error opens no connection"


@needs_tshark
def test_tshark_finds_every_checksum_good(tmp_path: Path) -> None:
    syn = b.ipv4(HOST, SERVER, 6, b.tcp(HOST, SERVER, 40000, 443, seq=7, flags=0x02, payload=b""))
    (port,) = _public_ports(tmp_path, b.ether(syn))
    sent = b.ipv4(PUBLIC, SERVER, 6, b.tcp(PUBLIC, SERVER, port, 443, seq=7, flags=0x02, payload=b""))
    _through(tmp_path, [b.ether(syn), _error(3, 4, sent, mtu=1400)], "judged")
    rows = _tshark(tmp_path / "judged.out.pcap", "ip.checksum.status", "icmp.checksum.status", "tcp.checksum.status")
    values = [v for r in rows for field in r for v in field.split(",") if v]
    assert values and "0" not in values and values.count("1") >= 4  # two IPv4 headers in the error
