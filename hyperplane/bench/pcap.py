"""The ``pcap.*`` stages of ``hyperplane bench``: our reader and writer beside dpkt, in the same run.

The capture is the benchmark's synthetic trace as ``tcpdump -s 54`` would have
recorded it (``hyperplane.pcap_synth``), written once to a temporary directory
and read from the page cache. dpkt reads (and rewrites) the first
``DPKT_FRAMES`` frames of the same capture: at its rate a whole trace would
take minutes per round. The writer is timed twice: into a file (the page
cache; the kernel's copy is part of the cost) and into /dev/null (the writer's
own work: decoding each frame again, rewriting, checksums, records). The file is
synced after each timed write, untimed, so that its writeback does not slow the next stage
(a 280 MB write left dirty made the reader 4x slower on this VM).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperplane import pcap, pcap_synth
from hyperplane.bench.stage import Round, Skip, Stage
from hyperplane.bench.workloads import Workload
from hyperplane.packets import ip

DPKT_FRAMES = 50_000
PUBLIC = ip("203.0.113.10")


def _files(w: Workload) -> dict[str, Any]:
    """The capture of the trace, its first DPKT_FRAMES frames, and rewritten records (made once)."""
    if "pcap" not in w.extra:
        tmp = Path(tempfile.mkdtemp(prefix="hyperplane-bench-"))
        weakref.finalize(w, shutil.rmtree, tmp, True)
        data = pcap_synth.capture_bytes(w.batch)
        (tmp / "trace.pcap").write_bytes(data)
        small = 24 + (16 + pcap_synth.SNAPLEN) * min(DPKT_FRAMES, len(w.batch))
        (tmp / "dpkt.pcap").write_bytes(data[:small])
        frames = pcap.open(tmp / "trace.pcap").read()
        out = frames.packets.copy()
        out["src_ip"], out["src_port"] = PUBLIC, out["src_port"] ^ 1  # what a NAT does to every packet
        w.extra["pcap"] = {"dir": tmp, "frames": frames, "out": out}
    return w.extra["pcap"]  # type: ignore[no-any-return]


def _read(w: Workload) -> Round:
    cap = pcap.open(_files(w)["dir"] / "trace.pcap")

    def run() -> float:
        start = time.perf_counter()
        for _ in cap.batches(1 << 20):
            pass
        return time.perf_counter() - start

    return Round(run, len(w.batch))


def _write(to_file: bool) -> Callable[[Workload], Round]:
    def prepare(w: Workload) -> Round:
        f = _files(w)
        path = str(f["dir"] / "out.pcap") if to_file else os.devnull

        def run() -> float:
            start = time.perf_counter()
            with pcap.Writer(path, "pcap") as writer:
                writer.write(f["frames"], f["out"])
            seconds = time.perf_counter() - start
            if to_file:  # untimed: its writeback would otherwise slow the next stage down
                fd = os.open(path, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
            return seconds

        return Round(run, len(f["frames"]))

    return prepare


def _dpkt() -> Any:
    try:
        import dpkt  # type: ignore[import-untyped]
    except ImportError:
        raise Skip("dpkt is not installed (pip install dpkt)") from None
    return dpkt


def _dpkt_read(w: Workload) -> Round:
    dpkt = _dpkt()
    path = _files(w)["dir"] / "dpkt.pcap"

    def run() -> float:
        start = time.perf_counter()
        with path.open("rb") as fh:
            for ts, buf in dpkt.pcap.Reader(fh):
                ip_ = dpkt.ethernet.Ethernet(buf).data
                t = ip_.data
                (ts, ip_.src, ip_.dst, ip_.p, ip_.len, getattr(t, "sport", 0), getattr(t, "dport", 0))
        return time.perf_counter() - start

    return Round(run, min(DPKT_FRAMES, len(w.batch)))


def _dpkt_write(w: Workload) -> Round:
    dpkt = _dpkt()
    f = _files(w)
    src, dst = f["dir"] / "dpkt.pcap", f["dir"] / "dpkt-out.pcap"
    public = PUBLIC.to_bytes(4, "big")

    def run() -> float:
        start = time.perf_counter()
        with src.open("rb") as fh, dst.open("wb") as out:
            writer = dpkt.pcap.Writer(out, nano=True)
            for ts, buf in dpkt.pcap.Reader(fh):
                eth = dpkt.ethernet.Ethernet(buf)
                ip_ = eth.data
                ip_.src, ip_.sum = public, 0  # dpkt recomputes a checksum left at zero
                if hasattr(ip_.data, "sport"):
                    ip_.data.sport ^= 1
                    ip_.data.sum = 0
                writer.writepkt(bytes(eth), ts)
        return time.perf_counter() - start

    return Round(run, min(DPKT_FRAMES, len(w.batch)))


def pcap_stages() -> list[Stage]:
    return [
        Stage("pcap.read[dpkt]", f"dpkt: pcap.Reader + Ethernet/IP/TCP decode, first {DPKT_FRAMES:,} frames", _dpkt_read),
        Stage("pcap.read", "the trace's capture (54-byte snaplen) into batches of 2^20, page cache", _read,
              ("pcap.read[dpkt]",)),
        Stage("pcap.write[dpkt]", "dpkt: decode, rewrite source, recompute checksums, write", _dpkt_write),
        Stage("pcap.write", "rewritten source address and port, checksums updated, into a file", _write(True),
              ("pcap.write[dpkt]",)),
        Stage("pcap.rewrite", "the same into /dev/null: the writer's own work", _write(False), ("pcap.write",)),
    ]
