"""A scenario's traffic: ``[[traffic]]`` sources, generated one window of packet time at a time.

Each source is one of :mod:`hyperplane.traffic`'s generators with a total (``connections``,
``flows``, ``packets``) spread evenly over its active span, or a rate (``rate``) kept up over
it. Window ``i`` holds the share of each source that falls in ``[i * window, (i + 1) * window)``,
generated from a seed derived from the scenario's seed, the source and ``i``: so the traffic is a
function of the scenario alone, memory stays bounded by one window whatever the duration, and
a run processed window by window sees the same packets as one processed in a single batch.
A generator keeps its packets inside the span it is given, so windows concatenate in time order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hyperplane import packets as hp_packets
from hyperplane import traffic, units
from hyperplane.packets import Batch, Proto
from hyperplane.scenario.schema import (
    Field,
    Reader,
    ScenarioError,
    Section,
    address,
    cidr,
    fraction,
    one_of,
    port,
    positive_count,
    positive_number,
)
from hyperplane.scenario.seeds import derive

Resolve = Callable[[str], list[str]]
"""Names a destination the stages know (``"nlb"``: the balancer's DNS answer now) as addresses."""


def _destination(value: object) -> str | list[str]:
    if isinstance(value, list):
        return [address(v) for v in value]
    if value == "nlb":
        return "nlb"
    return address(value)


_COMMON = (
    Field("generator", one_of("many_to_one", "synthetic", "syn_flood", "elephant"),
          "which generator of hyperplane.traffic makes the packets", required=True),
    Field("start", units.seconds, "packet time the source starts", 0.0),
    Field("stop", units.seconds, "packet time the source stops (default: the scenario's end)"),
    Field("length", units.size_bytes, "every packet's IP total length, overriding the generator's (46 B: a 64-byte frame)"),
)

GENERATORS: dict[str, Section] = {
    "many_to_one": Section("many_to_one", "connections from many clients to one destination", (
        Field("connections", units.count, "connections opened over the source's span", required=True),
        Field("clients", positive_count, "client addresses they come from", 1000),
        Field("client_cidr", cidr, "where the client addresses are drawn from", "10.0.0.0/16"),
        Field("dst", _destination, "destination address, a list of them, or \"nlb\" (the balancer's DNS answer)",
              "198.51.100.1"),
        Field("dst_port", port, "destination port", 443),
        Field("proto", one_of("tcp", "udp"), "protocol", "tcp"),
        Field("packets_per_connection", positive_count, "packets each connection sends (1: a bare SYN)", 1),
    )),
    "synthetic": Section("synthetic", "TCP and UDP flows of Zipf-distributed sizes between two networks", (
        Field("flows", positive_count, "flows over the source's span", required=True),
        Field("packets", positive_count, "packets over the source's span", required=True),
        Field("tcp_share", fraction, "fraction of the flows that are TCP", 0.8),
        Field("zipf", lambda v: 0.0 if v == 0 else positive_number(v), "exponent of the flow sizes (0: even)", 1.2),
        Field("clients", cidr, "the clients' network", "198.18.0.0/16"),
        Field("servers", cidr, "the servers' network", "198.19.0.0/16"),
        Field("server_count", positive_count, "server addresses drawn from it", 1000),
    )),
    "syn_flood": Section("syn_flood", "spoofed SYNs at one target", (
        Field("rate", units.pps, "SYNs per second, e.g. \"550kpps\"", required=True),
        Field("target", address, "the address flooded", "198.51.100.1"),
        Field("dst_port", port, "the port flooded", 80),
        Field("sources", cidr, "where the spoofed sources are drawn from", "0.0.0.0/0"),
    )),
    "elephant": Section("elephant", "one bulk TCP flow at a fixed bit rate, a new one each window", (
        Field("rate", units.bps, "the flow's bit rate in IP bytes, e.g. \"10Gbps\"", required=True),
        Field("src", address, "client address", "198.18.0.1"),
        Field("dst", address, "server address", "198.51.100.1"),
        Field("dst_port", port, "server port", 5201),
        Field("size", units.size_bytes, "data segments' IP length", 1500),
    )),
}


@dataclass(frozen=True)
class Source:
    """One ``[[traffic]]`` table, read."""

    index: int
    generator: str
    start_ns: int
    stop_ns: int
    length: int | None
    args: Mapping[str, Any]

    def share(self, total: int, lo: int, hi: int) -> int:
        """Of ``total`` spread evenly over the span, how many fall in ``[lo, hi)``."""
        span = self.stop_ns - self.start_ns
        return total * (hi - self.start_ns) // span - total * (lo - self.start_ns) // span

    def window(self, lo: int, hi: int, seed: int, resolve: Resolve) -> Batch | None:
        """This source's packets in ``[lo, hi)`` (already clipped to its span), or None."""
        a, dur = self.args, (hi - lo) / 1e9
        if self.generator == "many_to_one":
            n = self.share(a["connections"], lo, hi)
            if n == 0:
                return None
            dst = resolve("nlb") if a["dst"] == "nlb" else a["dst"]
            batch = traffic.many_to_one(
                n, seed=seed, clients=a["clients"], client_cidr=a["client_cidr"], dst=dst, dst_port=a["dst_port"],
                proto=Proto.TCP if a["proto"] == "tcp" else Proto.UDP,
                packets_per_connection=a["packets_per_connection"], duration_s=dur, start_ns=lo)
        elif self.generator == "synthetic":
            n = self.share(a["packets"], lo, hi)
            flows = min(self.share(a["flows"], lo, hi), n)
            if n == 0 or flows == 0:
                return None
            batch = traffic.synthetic(
                flows, n, seed=seed, tcp_share=a["tcp_share"], zipf=a["zipf"], clients=a["clients"],
                servers=a["servers"], server_count=a["server_count"], duration_s=dur, start_ns=lo)
        elif self.generator == "syn_flood":
            rate = a["rate"]
            n = int(rate * (hi - self.start_ns) // 1e9) - int(rate * (lo - self.start_ns) // 1e9)
            if n == 0:
                return None
            batch = traffic.syn_flood(n, seed=seed, target=a["target"], dst_port=a["dst_port"], sources=a["sources"],
                                      rate_pps=rate, start_ns=lo)
        else:
            bits = a["rate"] * dur
            n = int(bits // (a["size"] * 8))
            if n < 7:
                return None
            batch = traffic.elephant(n, seed=seed, src=a["src"], dst=a["dst"], dst_port=a["dst_port"],
                                     gbps=a["rate"] / 1e9, length=a["size"], start_ns=lo)
        if self.length is not None:
            batch["length"] = self.length
        return batch


def read_sources(reader: Reader, tables: object, duration_ns: int) -> list[Source]:
    """The ``[[traffic]]`` array of a scenario, checked."""
    if not isinstance(tables, list) or not tables:
        raise reader.error(("traffic",), "needs at least one [[traffic]] table")
    sources = []
    for i, table in enumerate(tables):
        path = ("traffic", i)
        if not isinstance(table, Mapping):
            raise reader.error(path, "must be a table")
        generator = table.get("generator")
        if generator not in GENERATORS:
            raise reader.error((*path, "generator"), f"must be one of {', '.join(map(repr, GENERATORS))}, not {generator!r}")
        section = GENERATORS[str(generator)]
        values = reader.read(table, path, section, _COMMON)
        start = round(values.pop("start") * 1e9)
        stop_s = values.pop("stop")
        stop = duration_ns if stop_s is None else min(round(stop_s * 1e9), duration_ns)
        if not 0 <= start < stop:
            raise reader.error(path, "start must come before stop, inside the scenario's duration")
        length = values.pop("length")
        if length is not None and not 20 <= length <= 65535:
            raise reader.error((*path, "length"), f"must be an IP length of 20..65535 bytes, not {length}")
        values.pop("generator")
        sources.append(Source(i, str(generator), start, stop, length, values))
    return sources


def windows(
    sources: Sequence[Source], duration_ns: int, window_ns: int, seed: int, resolve: Resolve
) -> Iterator[tuple[int, int, Batch]]:
    """``(start_ns, end_ns, packets)`` of each window in turn, the sources merged in time order."""
    for w, lo in enumerate(range(0, duration_ns, window_ns)):
        hi = min(lo + window_ns, duration_ns)
        parts = []
        for s in sources:
            a, b = max(lo, s.start_ns), min(hi, s.stop_ns)
            if a < b:
                try:
                    part = s.window(a, b, derive(seed, "traffic", s.index, w), resolve)
                except ValueError as e:
                    raise ScenarioError(f"traffic[{s.index}] ({s.generator}) in window {w}: {e}") from None
                if part is not None:
                    parts.append(part)
        yield lo, hi, traffic.merge(*parts) if len(parts) > 1 else parts[0] if parts else hp_packets.empty(0)
