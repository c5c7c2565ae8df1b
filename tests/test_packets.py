"""The batch dtype, its helpers, and the checks every array meets at the boundary."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.packets import PACKET_DTYPE, PacketFlag, Proto, TcpFlag, empty, ip, ip_str, network, summary


def test_dtype_layout() -> None:
    assert PACKET_DTYPE.itemsize == 32
    expected = {
        "ts": (np.uint64, 0), "src_ip": (np.uint32, 8), "dst_ip": (np.uint32, 12),
        "src_port": (np.uint16, 16), "dst_port": (np.uint16, 18), "length": (np.uint16, 20),
        "proto": (np.uint8, 22), "tcp_flags": (np.uint8, 23), "flags": (np.uint8, 24),
        "reserved": (np.uint8, 25), "mark": (np.uint16, 26), "seq": (np.uint32, 28),
    }
    assert list(PACKET_DTYPE.names or ()) == list(expected)
    for name, (dtype, offset) in expected.items():
        field_dtype, field_offset = PACKET_DTYPE.fields[name][:2]  # type: ignore[index]
        assert field_dtype == np.dtype(dtype) and field_offset == offset, name


def test_dtype_equal_to_users_aligned_spelling() -> None:
    spelled = np.dtype(
        [("ts", "u8"), ("src_ip", "u4"), ("dst_ip", "u4"), ("src_port", "u2"), ("dst_port", "u2"),
         ("length", "u2"), ("proto", "u1"), ("tcp_flags", "u1"), ("flags", "u1"), ("reserved", "u1"),
         ("mark", "u2"), ("seq", "u4")],
        align=True,
    )
    batch = np.zeros(3, dtype=spelled)
    batch["src_ip"] = ip("198.18.0.1")
    assert hp.Rss().hash(batch).shape == (3,)


def test_empty_and_addresses() -> None:
    batch = empty(5)
    assert batch.dtype == PACKET_DTYPE and len(batch) == 5 and not batch.tobytes().strip(b"\0")
    assert ip("198.18.0.1") == 0xC6120001
    assert ip_str(0xC6120001) == "198.18.0.1"
    assert ip_str(np.uint32(ip("10.0.0.255"))) == "10.0.0.255"
    assert network("198.18.0.0/15") == (ip("198.18.0.0"), 131072)
    with pytest.raises(ValueError):
        ip("300.1.1.1")
    with pytest.raises(ValueError, match="n"):
        empty(-1)


def test_enums_are_wire_values() -> None:
    assert (Proto.TCP, Proto.UDP, Proto.ICMP) == (6, 17, 1)
    assert TcpFlag.SYN | TcpFlag.ACK == 0x12
    assert PacketFlag.FRAGMENT == 1


def test_summary() -> None:
    batch = empty(4)
    batch["ts"] = [0, 10, 20, 1_000_000_000]
    batch["proto"] = [6, 6, 17, 50]
    batch["length"] = [40, 1500, 100, 60]
    batch["flags"] = [0, 0, 1, 0]
    s = summary(batch)
    assert (s.packets, s.bytes, s.fragments) == (4, 1700, 1)
    assert s.protocols == {"TCP": 2, "UDP": 1, "proto 50": 1}
    assert s.duration_s == 1.0
    text = str(s)
    assert "4 packets" in text and "TCP 50.0%" in text and "proto 50 25.0%" in text
    assert str(summary(empty(0))) == "0 packets"


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: [1, 2, 3], TypeError, "batch must be a numpy array"),
        (lambda: np.zeros(4, dtype=np.uint64), TypeError, "batch must have dtype"),
        (lambda: np.zeros((2, 2), dtype=PACKET_DTYPE), ValueError, "batch must be 1-D"),
        (lambda: np.zeros(8, dtype=PACKET_DTYPE)[::2], ValueError, "batch must be C-contiguous"),
        (lambda: np.frombuffer(bytes(32 * 4 + 4), dtype=np.uint8)[4:].view(PACKET_DTYPE), ValueError,
         "batch is not 8-byte aligned"),
    ],
)
def test_bad_batches_raise(make, error: type[Exception], match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        hp.Rss().hash(make())
    with pytest.raises(error, match=match):
        hp.Rss().queue(make())


def test_read_only_batch_may_be_read() -> None:
    batch = empty(4)
    batch.flags.writeable = False
    assert len(hp.Rss().hash(batch)) == 4
