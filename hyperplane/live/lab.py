"""``hyperplane lab up/down``: labs of network namespaces for the live engine.

A lab is a few namespaces joined by veth pairs, with documentation-range addresses and routes
on the hosts' ends and none on the engine's (the engine answers for its addresses itself):

- ``nat``: client (10.10.0.2/24, default via the engine's 10.10.0.1) ↔ engine ↔ server
  (192.0.2.2/24; the gateway's public address is 192.0.2.1/24);
- ``nlb``: client (192.0.2.10/24; the listener is 192.0.2.80) ↔ engine ↔ targets (10.20.0.2,
  .3 and .4/24 on one namespace's interface, default via the engine's 10.20.0.1).

Every interface the lab makes carries the alias ``hyperplane lab NAME``; ``down`` removes a
namespace only when each of its interfaces carries it, so it never touches what it did not
make, and ``up`` refuses to start over namespaces that already exist. Segmentation and
receive offloads are off on the hosts' ends (the engine forwards frames, not 64 KB
super-frames); transmit checksum offload stays on (the engine completes partial checksums).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

SYSTEM_PATH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])


class LabError(RuntimeError):
    """A lab could not be made or removed; the message says what and why."""


@dataclass(frozen=True)
class Host:
    """One end of a veth pair: its namespace role, interface, addresses and default route."""

    role: str
    interface: str
    addresses: tuple[str, ...] = ()
    gateway: str | None = None


@dataclass(frozen=True)
class Lab:
    name: str
    roles: tuple[str, ...]
    pairs: tuple[tuple[Host, Host], ...]
    engine: tuple[str, ...] = field(default=())
    """The command that runs the engine in it (after ``hyperplane``)."""

    def namespace(self, role: str, tag: str = "") -> str:
        return f"hpl{tag}-{self.name}-{role}"


LABS: dict[str, Lab] = {
    "nat": Lab(
        "nat", ("client", "gw", "server"),
        ((Host("client", "c0", ("10.10.0.2/24",), "10.10.0.1"), Host("gw", "in0")),
         (Host("gw", "out0"), Host("server", "s0", ("192.0.2.2/24",)))),
        ("live", "nat", "--inside", "in0", "--inside-address", "10.10.0.1/24", "--outside", "out0",
         "--public-ip", "192.0.2.1/24", "--private", "10.10.0.0/24"),
    ),
    "nlb": Lab(
        "nlb", ("client", "gw", "targets"),
        ((Host("client", "c0", ("192.0.2.10/24",)), Host("gw", "in0")),
         (Host("gw", "out0"), Host("targets", "t0", ("10.20.0.2/24", "10.20.0.3/24", "10.20.0.4/24"), "10.20.0.1"))),
        ("live", "nlb", "--front", "in0", "--front-address", "192.0.2.1/24", "--listen", "192.0.2.80:80/tcp",
         "--back", "out0", "--back-address", "10.20.0.1/24", "--targets", "10.20.0.2:80,10.20.0.3:80,10.20.0.4:80"),
    ),
}


def lab(name: str) -> Lab:
    if name not in LABS:
        raise ValueError(f"lab: no lab named {name!r} (labs: {', '.join(LABS)})")
    return LABS[name]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    ip = shutil.which("ip", path=SYSTEM_PATH)
    if ip is None:
        raise LabError("ip (iproute2) is not installed")
    r = subprocess.run([ip, *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode:
        raise LabError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def _ethtool(ns: str, dev: str, *features: str) -> None:
    ethtool = shutil.which("ethtool", path=SYSTEM_PATH)
    if ethtool is None:
        raise LabError("ethtool is not installed (the lab turns offloads off with it)")
    args = [a for f in features for a in (f, "off")]
    subprocess.run([shutil.which("ip", path=SYSTEM_PATH) or "ip", "netns", "exec", ns, ethtool, "-K", dev, *args],
                   capture_output=True, text=True, timeout=30)


def existing_namespaces() -> set[str]:
    out = _ip("-j", "netns", "list").stdout.strip()
    return {n["name"] for n in json.loads(out)} if out else set()


def marker(name: str) -> str:
    return f"hyperplane lab {name}"


def up(name: str, *, tag: str = "") -> list[str]:
    """Makes the lab ``name``; returns its namespaces. Refuses (LabError) if any exists already;
    on a failure half-way, removes what it made and raises."""
    spec = lab(name)
    names = [spec.namespace(r, tag) for r in spec.roles]
    clash = sorted(set(names) & existing_namespaces())
    if clash:
        raise LabError(f"lab {name}: namespace {', '.join(clash)} exists already "
                       f"(`hyperplane lab down {name}` removes a lab it made)")
    made: list[str] = []
    try:
        for ns in names:
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for a, b in spec.pairs:
            na, nb = spec.namespace(a.role, tag), spec.namespace(b.role, tag)
            # Made inside the lab's namespaces, never in the caller's.
            _ip("link", "add", a.interface, "netns", na, "type", "veth", "peer", "name", b.interface, "netns", nb)
            for host, ns in ((a, na), (b, nb)):
                _ip("-n", ns, "link", "set", host.interface, "alias", marker(name))
        for a, b in spec.pairs:
            for host in (a, b):
                ns = spec.namespace(host.role, tag)
                # No IPv6 in the lab (its neighbour discovery would only be noise to the engine).
                subprocess.run([shutil.which("ip", path=SYSTEM_PATH) or "ip", "netns", "exec", ns, "sysctl", "-q",
                                "-w", f"net.ipv6.conf.{host.interface}.disable_ipv6=1"],
                               capture_output=True, timeout=30)
                # The engine's ends get no address: its namespace's kernel stays out of the way.
                _ethtool(ns, host.interface, *(("gro",) if host.role == "gw" else ("tso", "gso", "gro")))
                for address in host.addresses:
                    _ip("-n", ns, "address", "add", address, "dev", host.interface)
                _ip("-n", ns, "link", "set", host.interface, "up")
                if host.gateway:
                    _ip("-n", ns, "route", "add", "default", "via", host.gateway)
    except BaseException:
        for ns in made:
            _ip("netns", "del", ns, check=False)
        raise
    return names


def down(name: str, *, tag: str = "") -> list[str]:
    """Removes the lab ``name``'s namespaces that exist; returns them. Refuses (LabError,
    removing nothing) if one holds an interface the lab did not make."""
    spec = lab(name)
    present = existing_namespaces()
    names = [spec.namespace(r, tag) for r in spec.roles if spec.namespace(r, tag) in present]
    for ns in names:
        links = json.loads(_ip("-n", ns, "-j", "link", "show").stdout or "[]")
        foreign = [lk["ifname"] for lk in links if lk["ifname"] != "lo" and lk.get("ifalias") != marker(name)]
        if foreign:
            raise LabError(f"lab {name}: {ns} holds {', '.join(foreign)}, which the lab did not make; nothing removed")
        if all(lk["ifname"] == "lo" for lk in links):
            raise LabError(f"lab {name}: {ns} holds no interface of the lab, so the lab did not make it; nothing removed")
    for ns in names:
        _ip("netns", "del", ns)
    return names


def engine_command(name: str, *, tag: str = "") -> list[str]:
    """The command that runs the engine in the lab's gateway namespace."""
    spec = lab(name)
    return ["ip", "netns", "exec", spec.namespace("gw", tag), "hyperplane", *spec.engine]


def hosts(name: str, *, tag: str = "") -> dict[str, str]:
    """Role -> namespace."""
    spec = lab(name)
    return {r: spec.namespace(r, tag) for r in spec.roles}


__all__: Sequence[str] = ["LABS", "Lab", "LabError", "down", "engine_command", "hosts", "lab", "up"]
