"""Linux doing the engine's job in the same labs: the baselines the engine is compared with.

In a lab's gateway namespace, :func:`enable` gives the kernel the engine's addresses and turns
forwarding on, then has nftables do the work: ``masquerade`` for the NAT lab (source NAT to
the outside address, conntrack translating replies back), and for the NLB lab ``dnat`` to a
target chosen by ``jhash`` of the client's address and port (conntrack keeps each connection
on its target and translates replies). IPVS, the kernel's own load balancer, is used nowhere
here: the kernels these labs were built on do not have it (``ipvsadm``: "Protocol not
available"), so nftables stands in. :func:`disable` takes it all away again, so the engine
can run in the same lab; the engine and the kernel must never both own the addresses.
"""

from __future__ import annotations

import shutil
import subprocess

from hyperplane.live.lab import SYSTEM_PATH, LabError, hosts

NAT_RULES = """table ip hyperplane_lab {
    chain post { type nat hook postrouting priority 100; oifname "out0" masquerade; }
}
"""

NLB_RULES = """table ip hyperplane_lab {
    chain pre {
        type nat hook prerouting priority -100;
        ip daddr 192.0.2.80 tcp dport 80 dnat to jhash ip saddr . tcp sport mod 3 map {
            0 : 10.20.0.2, 1 : 10.20.0.3, 2 : 10.20.0.4
        }
    }
}
"""

ADDRESSES = {
    "nat": (("in0", "10.10.0.1/24"), ("out0", "192.0.2.1/24")),
    "nlb": (("in0", "192.0.2.1/24"), ("in0", "192.0.2.80/24"), ("out0", "10.20.0.1/24")),
}
RULES = {"nat": NAT_RULES, "nlb": NLB_RULES}


def _run(ns: str, *cmd: str, stdin: str | None = None, check: bool = True) -> None:
    ip = shutil.which("ip", path=SYSTEM_PATH) or "ip"
    r = subprocess.run([ip, "netns", "exec", ns, *cmd], input=stdin, capture_output=True, text=True, timeout=30)
    if check and r.returncode:
        raise LabError(f"{' '.join(cmd)} in {ns}: {r.stderr.strip()}")


def available() -> str | None:
    """Why the baselines cannot run here (None: they can)."""
    return None if shutil.which("nft", path=SYSTEM_PATH) else "nft is not installed (apt-get install nftables)"


def enable(name: str, *, tag: str = "") -> None:
    """Linux does the lab ``name``'s job in its gateway namespace."""
    if name not in RULES:
        raise ValueError(f"linux: no baseline for lab {name!r}")
    why = available()
    if why:
        raise LabError(why)
    gw = hosts(name, tag=tag)["gw"]
    for dev, address in ADDRESSES[name]:
        _run(gw, "ip", "address", "add", address, "dev", dev)
    _run(gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    _run(gw, "nft", "-f", "-", stdin=RULES[name])


def disable(name: str, *, tag: str = "") -> None:
    """Takes the kernel's part away again (addresses, forwarding, rules, tracked connections)."""
    gw = hosts(name, tag=tag)["gw"]
    _run(gw, "nft", "delete", "table", "ip", "hyperplane_lab", check=False)
    _run(gw, "sysctl", "-qw", "net.ipv4.ip_forward=0")
    for dev, address in ADDRESSES[name]:
        _run(gw, "ip", "address", "del", address, "dev", dev, check=False)
    _run(gw, "ip", "neigh", "flush", "all", check=False)
