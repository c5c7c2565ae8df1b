"""Captures made from packet records, for benchmarks and demonstrations.

Each record of a batch becomes one Ethernet/IPv4 frame of headers only, cut at
54 bytes as ``tcpdump -s 54`` records (Ethernet 14 + IPv4 20 + TCP 20 or UDP 8
with zeros after it), with the record's length on the wire. Built with numpy
over the whole batch as one structured array, so a capture of millions of
frames takes a second. The IPv4 header checksum is correct; transport
checksums are zero (the payload they would cover is not in the capture).
"""

from __future__ import annotations

import numpy as np

from hyperplane.packets import Batch

SNAPLEN = 54

_ROW = np.dtype([
    ("sec", "<u4"), ("nsec", "<u4"), ("caplen", "<u4"), ("wire", "<u4"),
    ("dst_mac", ">u2", 3), ("src_mac", ">u2", 3), ("ethertype", ">u2"),
    ("vihl", "u1"), ("tos", "u1"), ("total", ">u2"), ("ident", ">u2"), ("frag", ">u2"), ("ttl", "u1"),
    ("proto", "u1"), ("check", ">u2"), ("src", ">u4"), ("dst", ">u4"),
    ("sport", ">u2"), ("dport", ">u2"), ("seq", ">u4"), ("ack", ">u4"), ("doff", "u1"), ("tcp_flags", "u1"),
    ("window", ">u2"), ("l4check", ">u2"), ("urgent", ">u2"),
])
assert _ROW.itemsize == 16 + SNAPLEN


def capture_bytes(batch: Batch) -> bytes:
    """A nanosecond pcap file holding one frame per record of ``batch``."""
    n = len(batch)
    rows = np.zeros(n, _ROW)
    ts = batch["ts"]
    rows["sec"], rows["nsec"] = ts // 1_000_000_000, ts % 1_000_000_000
    rows["caplen"] = SNAPLEN
    rows["wire"] = np.maximum(batch["length"].astype(np.uint32) + 14, SNAPLEN)
    rows["dst_mac"], rows["src_mac"] = (0x0200, 0, 1), (0x0200, 0, 2)
    rows["ethertype"] = 0x0800
    rows["vihl"], rows["ttl"] = 0x45, 64
    rows["total"], rows["proto"] = batch["length"], batch["proto"]
    rows["ident"] = np.arange(n, dtype=np.uint32) & 0xFFFF
    rows["src"], rows["dst"] = batch["src_ip"], batch["dst_ip"]
    rows["sport"], rows["dport"] = batch["src_port"], batch["dst_port"]
    tcp = batch["proto"] == 6
    rows["seq"] = np.where(tcp, batch["seq"], (batch["length"].astype(np.uint32) - 20) << 16)  # UDP: its length
    rows["doff"] = np.where(tcp, 0x50, 0)
    rows["tcp_flags"] = np.where(tcp, batch["tcp_flags"], 0)
    rows["window"] = np.where(tcp, 65535, 0)
    raw = rows.view(np.uint8).reshape(n, -1)
    words = raw[:, 30:50].reshape(n, 10, 2).astype(np.uint32)
    s = (words[:, :, 0] << 8 | words[:, :, 1]).sum(axis=1)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    rows["check"] = ~s & 0xFFFF
    header = np.array([(0xA1B23C4D, 2, 4, 0, 0, 262144, 1)],
                      dtype=[("m", "<u4"), ("a", "<u2"), ("b", "<u2"), ("z", "<i4"), ("s", "<u4"), ("l", "<u4"),
                             ("t", "<u4")])
    return header.tobytes() + rows.tobytes()
