"""Packet bytes: pcap and pcapng captures in, and out with the stages' rewrites.

``open(path)`` maps a capture into memory and :meth:`Capture.batches` reads it
in batches of :class:`Frames`: the packet records a stage takes
(``frames.packets``, :data:`~hyperplane.packets.PACKET_DTYPE`) beside where each
frame's bytes are in the file (``frames.bytes`` is the mapped file itself,
read-only; ``frames.offsets`` and ``frames.lengths`` place each frame in it), so
that a :class:`Writer` can write the original frames again with the addresses
and ports a stage rewrote and their checksums corrected. All parsing and
writing is C++ (``csrc/pcap/``) over whole batches; see ``docs/pcap.md`` for the
formats, link types and what is counted.

Frames the engine does not translate (IPv6, ARP, link types it does not
decode) are in the batches too, with a zeroed record but for ``ts`` and
``length``: ``frames.kinds`` tells them apart, and ``frames.ipv4`` selects the
frames to hand a stage.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.packets import Batch
from hyperplane.verdict import CodeEnum, Verdict

Format = Literal["pcap", "pcapng"]


class LinkType(CodeEnum):
    """The link types decoded (tcpdump.org's LINKTYPE_ values)."""

    ETHERNET = 1
    RAW = 101
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


class FrameKind(CodeEnum):
    """What a frame is, as the reader decoded it (``FrameKind.names(frames.kinds)`` reads a batch's)."""

    IPV4 = 0
    """An IPv4 frame: its record is filled in and a writer applies rewrites to it."""
    IPV6 = 1
    """An IPv6 frame: counted and carried through untouched."""
    OTHER = 2
    """Not IP (ARP, LLDP, ...), a link type not decoded, or headers cut off by the snaplen."""


@dataclass(frozen=True)
class Frames:
    """One batch of frames: records for the stages, and where each frame's bytes are."""

    packets: Batch
    bytes: npt.NDArray[np.uint8]
    """The bytes the offsets point into (for a capture read from a file: the whole mapped file)."""
    offsets: npt.NDArray[np.uint64]
    lengths: npt.NDArray[np.uint32]
    """Captured bytes of each frame."""
    wire_lengths: npt.NDArray[np.uint32]
    """Bytes each frame had on the wire (more than captured when the snaplen cut it)."""
    linktypes: npt.NDArray[np.uint16]
    kinds: npt.NDArray[np.uint8]
    """A :class:`FrameKind` per frame."""

    def __len__(self) -> int:
        return len(self.packets)

    @property
    def ipv4(self) -> npt.NDArray[np.bool_]:
        """Which frames are IPv4 (the ones a stage can take)."""
        mask: npt.NDArray[np.bool_] = self.kinds == FrameKind.IPV4
        return mask

    def frame(self, i: int) -> builtins.bytes:
        """The captured bytes of frame ``i``."""
        start = int(self.offsets[i])
        return self.bytes[start : start + int(self.lengths[i])].tobytes()

    def select(self, which: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Frames:
        """The frames a boolean mask or an index array picks (the bytes are shared)."""
        return Frames(self.packets[which], self.bytes, self.offsets[which], self.lengths[which],
                      self.wire_lengths[which], self.linktypes[which], self.kinds[which])


@dataclass(frozen=True)
class CaptureStats:
    """What a pass over a capture read, and what it skipped and why."""

    frames: int
    """Frames put in batches."""
    bytes: int
    ipv4: int
    ipv6: int
    other: int
    fragments: int
    vlan: int
    """Frames with 802.1Q/802.1ad tags."""
    snapped: int
    """Frames captured shorter than they were on the wire."""
    snapped_headers: int
    """... so short that a header was cut off (the frame is carried, not rewritten past the cut)."""
    blocks_skipped: int
    """pcapng blocks of other types (name resolution, statistics, custom, ...)."""
    sections: int
    interfaces: int
    malformed: dict[str, int]
    """Frames or blocks skipped, by reason (see ``docs/pcap.md``)."""
    linktypes: dict[int, int]
    """Frames by link type."""

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


class Capture:
    """A pcap or pcapng capture, mapped read-only and read in batches."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._reader = _core.CaptureReader(self.path)
        self._bytes = self._reader.bytes

    @property
    def format(self) -> Format:
        return "pcap" if self._reader.format == "pcap" else "pcapng"

    def batches(self, n: int = 1_000_000) -> Iterator[Frames]:
        """The capture from its start, ``n`` frames at a time (the last batch may hold fewer)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, not {n}")
        self._reader.rewind()
        while True:
            frames = self._next(n)
            if len(frames) == 0:
                return
            yield frames

    def read(self) -> Frames:
        """The whole capture as one batch."""
        self._reader.rewind()
        parts = [self._next(1 << 20)]
        while len(parts[-1]):
            parts.append(self._next(1 << 20))
        if len(parts) <= 2:
            return parts[0]
        return Frames(np.concatenate([p.packets for p in parts]), self._bytes,
                      np.concatenate([p.offsets for p in parts]), np.concatenate([p.lengths for p in parts]),
                      np.concatenate([p.wire_lengths for p in parts]), np.concatenate([p.linktypes for p in parts]),
                      np.concatenate([p.kinds for p in parts]))

    def _next(self, n: int) -> Frames:
        packets, offsets, lengths, wire, links, kinds = self._reader.next(n)
        return Frames(packets, self._bytes, offsets, lengths, wire, links, kinds)

    @property
    def stats(self) -> CaptureStats:
        """Counts of the frames read so far in the current pass."""
        s = self._reader.stats()
        return CaptureStats(**s)  # type: ignore[arg-type]


    def __repr__(self) -> str:
        return f"Capture({self.path!r}, format={self.format!r}, bytes={len(self._bytes):_})"


def open(path: str | os.PathLike[str]) -> Capture:  # noqa: A001 - the entry point is hp.pcap.open
    """Opens a pcap or pcapng capture (``ValueError`` when the file is neither)."""
    return Capture(path)


def _format_of(path: str, format: Format | None) -> Format:
    if format is not None:
        if format not in ("pcap", "pcapng"):
            raise ValueError(f"format must be 'pcap' or 'pcapng', not {format!r}")
        return format
    return "pcapng" if path.endswith(".pcapng") else "pcap"


class Writer:
    """Writes frames to ``path``, as pcap or pcapng (by default from the file name's suffix).

    :meth:`write` takes a batch of :class:`Frames` and the records as they left
    a stage: where a record's addresses or ports differ from the frame's, the
    frame is rewritten with its checksums updated; ``verdict=`` turns RESET
    frames into the RST the stage sends back, and by default keeps only
    FORWARD and RESET frames; ``keep=`` chooses the frames to write.
    """

    def __init__(self, path: str | os.PathLike[str], format: Format | None = None) -> None:
        self.path = os.fspath(path)
        self._writer = _core.CaptureWriter(self.path, _format_of(self.path, format))

    @property
    def format(self) -> Format:
        return "pcap" if self._writer.format == "pcap" else "pcapng"

    def write(self, frames: Frames, packets: Batch | None = None, *,
              keep: npt.ArrayLike | None = None, verdict: npt.ArrayLike | None = None) -> None:
        out = frames.packets if packets is None else packets
        v = None if verdict is None else np.ascontiguousarray(verdict, dtype=np.uint8)
        if keep is None and v is not None:
            keep = (v == Verdict.FORWARD) | (v == Verdict.RESET)
        k = None if keep is None else np.ascontiguousarray(keep, dtype=np.bool_)
        self._writer.write(frames.bytes, frames.offsets, frames.lengths, frames.wire_lengths, frames.linktypes,
                           out, keep=k, verdict=v)

    @property
    def stats(self) -> dict[str, int]:
        """Frames written, rewritten, turned into resets, dropped (not kept), and resets not buildable."""
        return self._writer.stats()

    def close(self) -> None:
        self._writer.close()

    def __repr__(self) -> str:
        return f"Writer({self.path!r}, format={self.format!r}, written={self.stats.get('written', 0):_})"

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
