"""The engine between real interfaces: frames in, one stage's ``process()``, frames out.

The C++ router (``csrc/live/``) reads each link's TPACKET_V3 ring, answers ARP and decodes
IPv4 frames into one batch of packet records; the stage decides and rewrites the batch as it
does any other (its counters, metrics and verdicts are its own); the router then sends each
FORWARD frame on, rewritten with correct checksums, toward its next hop's MAC address, and
each RESET as the TCP RST back to the sender. Python runs once per batch, never per frame.

The interfaces carry no addresses (the engine's are answered by the router itself), so the
kernel of the engine's namespace neither answers nor forwards these packets.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.counters import LIVE_COUNTERS
from hyperplane.live.netns import namespace
from hyperplane.packets import Batch, empty

Step = Callable[[Batch, npt.NDArray[np.uint32]], tuple[Batch, npt.NDArray[np.uint8]]]
"""What the dataplane runs on each batch: packets in and the link each came in on (its index
in the dataplane's links), (packets out, verdicts)."""

RINGS = {"v3": 3, "v2": 2}
"""The receive rings: TPACKET_V3 hands over blocks of frames (a quiet link's frames wait for
the block's 1 ms retire timer), TPACKET_V2 each frame as it lands."""

POLL_MS = 50
"""How long one wait for frames lasts: the latency of a stop request when nothing arrives."""


@dataclass(frozen=True)
class Link:
    """One of the engine's interfaces: its name, the engine's ``address/prefix`` on it (the
    on-link network, and the source of the engine's ARP requests), further addresses the
    engine answers ARP for there, and the gateway for destinations on no link."""

    interface: str
    address: str
    owned: tuple[str, ...] = ()
    gateway: str | None = None

    def core(self) -> tuple[str, int, int, list[int], int]:
        iface = ipaddress.IPv4Interface(_parse(self.address, f"{self.interface}: address", interface=True))
        owned = [int(ipaddress.IPv4Address(_parse(a, f"{self.interface}: owned"))) for a in self.owned]
        gateway = int(ipaddress.IPv4Address(_parse(self.gateway, f"{self.interface}: gateway"))) if self.gateway else 0
        if gateway and ipaddress.IPv4Address(gateway) not in iface.network:
            raise ValueError(f"{self.interface}: gateway {self.gateway} is not on {iface.network}")
        return (self.interface, int(iface.ip), iface.network.prefixlen, owned, gateway)


def _parse(text: str, what: str, *, interface: bool = False) -> str:
    try:
        (ipaddress.IPv4Interface if interface else ipaddress.IPv4Address)(text)
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    return text


@dataclass(frozen=True)
class RunStats:
    """What one run of the dataplane did: batches, packets to the stage, its wall-clock
    seconds and why it stopped, and the frame I/O's own counters (``LIVE_COUNTERS``)."""

    batches: int
    packets: int
    seconds: float
    stopped_by: str
    io: dict[str, int]


class Dataplane:
    """The frame I/O of a set of links (opened in ``netns``, or the current namespace), on
    receive rings of kind ``ring`` (:data:`RINGS`)."""

    def __init__(self, links: Sequence[Link], *, local: Sequence[str] = (), batch: int = 256,
                 netns: str | None = None, ring: str = "v3") -> None:
        if not links:
            raise ValueError("links must name at least one interface")
        if not 1 <= batch <= 65536:
            raise ValueError(f"batch must be 1 to 65536 frames, not {batch}")
        if ring not in RINGS:
            raise ValueError(f"ring must be one of {', '.join(RINGS)}, not {ring!r}")
        cores = [link.core() for link in links]
        ips = [int(ipaddress.IPv4Address(_parse(a, "local"))) for a in local]
        with namespace(netns):
            self._core = _core.LiveRouter(cores, ips, batch, RINGS[ring])
        self.batch = batch
        self._lock = threading.Lock()

    @property
    def links(self) -> list[tuple[str, str]]:
        """Each link's interface and MAC address."""
        return list(self._core.links)

    def counters(self) -> dict[str, int]:
        """The frame I/O's counters (``IO_COUNTERS``); during a :meth:`run` in another thread this
        waits for it to end (the run's own result carries them too)."""
        with self._lock:
            return dict(self._core.counters())

    def run(self, step: Step, *, duration: float | None = None, packets: int | None = None,
            stop: threading.Event | None = None, tick: Callable[[], None] | None = None) -> RunStats:
        """Runs batches through ``step`` until ``duration`` seconds have passed, ``packets``
        records have gone to the stage, ``stop`` is set, or SIGINT/SIGTERM arrives (in the main
        thread); returns what was done. A stop never cuts a batch: what was received is sent.
        ``tick`` runs between batches (at least every ``POLL_MS``): changes of configuration."""
        stop = stop or threading.Event()
        buf = empty(self.batch)
        none = np.zeros(0, np.uint8)
        batches = seen = 0
        start = time.monotonic()
        why = "stop"
        with self._lock, _signals_set(stop):
            while True:
                if stop.is_set():
                    why = "signal or stop"
                    break
                if duration is not None and time.monotonic() - start >= duration:
                    why = "duration"
                    break
                if packets is not None and seen >= packets:
                    why = "packets"
                    break
                if tick:
                    tick()
                n = self._core.receive(buf, POLL_MS)
                if n == 0:
                    self._core.transmit(buf[:0], none)
                    continue
                out, verdict = step(buf[:n], self._core.ingress())
                self._core.transmit(out, verdict)
                batches += 1
                seen += n
        return RunStats(batches, seen, time.monotonic() - start, why, dict(self._core.counters()))


@contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` while the body runs (main thread only; elsewhere nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


IO_COUNTERS: list[str] = LIVE_COUNTERS.names
"""The frame I/O's counters, in the order of :meth:`Dataplane.counters`."""
