"""Shared builders for the ECS tests: a VPC with a subnet per zone, packets, a chunked RunTask."""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperplane as hp
from hyperplane.ecs import Cluster, Container, TaskDefinition

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def network(zones: int = 2) -> tuple[hp.Network, Any, list[Any]]:
    """A network with one VPC (10.0.0.0/16) and a /20 subnet per zone."""
    net = hp.Network(region="us-east-1", seed=7)
    vpc = net.add_vpc("10.0.0.0/16")
    subnets = [vpc.add_subnet(f"10.0.{16 * k}.0/20", az=ZONES[k]) for k in range(zones)]
    return net, vpc, subnets


def cluster(
    instance_type: str, n: int = 1, *, trunking: bool = False, zones: int = 2
) -> tuple[hp.Network, Any, list[Any], Cluster]:
    net, vpc, subnets = network(zones)
    c = Cluster(net, "prod")
    for k in range(n):
        c.add_container_instance(instance_type, subnet=subnets[k % len(subnets)], trunking=trunking)
    return net, vpc, subnets, c


def defn(
    mode: str = "bridge", cpu: int = 128, memory: int = 128, ports: list[Any] | None = None, name: str = "web"
) -> TaskDefinition:
    return TaskDefinition(name, network_mode=mode, cpu=cpu, memory=memory,  # type: ignore[arg-type]
                          containers=[Container("app", port_mappings=[] if ports is None else ports)])


def run_all(c: Cluster, d: TaskDefinition, n: int, **kw: Any) -> tuple[int, set[str]]:
    """RunTask in calls of at most 10 until ``n`` tasks are asked; (placed, failure reasons)."""
    placed, reasons = 0, set()
    while n > 0:
        out = c.run_task(d, count=min(n, 10), **kw)
        placed += len(out.tasks)
        reasons |= {f.reason for f in out.failures}
        n -= min(n, 10)
        if out.failures:
            break
    return placed, reasons


def packets(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Rows of (ts µs, src, sport, dst, dport, proto, tcp_flags) -> a batch of 60-byte packets."""
    b = hp.empty(len(rows))
    for k, (ts, src, sport, dst, dport, proto, flags) in enumerate(rows):
        p = b[k : k + 1]
        p["ts"], p["src_ip"], p["dst_ip"], p["src_port"], p["dst_port"] = ts * 1000, hp.ip(src), hp.ip(dst), sport, dport
        p["length"], p["proto"], p["tcp_flags"] = 60, proto, flags
    return b
