"""What does one Hyperplane node's failure do to a NAT gateway's live connections?

A fleet of 96 nodes (3 AZs, 2 cells of 16 each) hosts 30 NAT gateways on shuffle shards of 4.
Every gateway carries 500 established TCP connections. One node of the first gateway fails:
with replication its connections continue on their secondaries with the same public port;
without it they are lost, and the next segment of each gets the RST a NAT gateway sends for a
connection it does not hold. The same node fails in both runs.

    python examples/fleet_node_failure.py
"""

from __future__ import annotations

import numpy as np

import hyperplane as hp

S = 10**9
TENANTS, PER_TENANT = 30, 500


def flows(t: int, flags: int) -> np.ndarray:
    n = TENANTS * PER_TENANT
    b = hp.empty(n)
    k = np.arange(n)
    b["ts"] = t + k
    b["src_ip"] = hp.ip("10.0.0.0") + (k // PER_TENANT << 8) + 1 + k % 200
    b["src_port"] = 30_000 + k % PER_TENANT
    b["dst_ip"], b["dst_port"], b["proto"], b["tcp_flags"], b["length"] = hp.ip("198.51.100.7"), 443, 6, flags, 60
    return b


def replies(sent: np.ndarray, t: int) -> np.ndarray:
    r = sent.copy()
    r["src_ip"], r["dst_ip"], r["src_port"], r["dst_port"] = sent["dst_ip"], sent["src_ip"], sent["dst_port"], sent["src_port"]
    r["tcp_flags"], r["ts"] = int(hp.TcpFlag.SYN | hp.TcpFlag.ACK), sent["ts"] + t
    return r


def run(replication: bool) -> None:
    fleet = hp.fleet.Fleet(azs=["a", "b", "c"], cells_per_az=2, nodes_per_cell=16, shard_size=4,
                           replication=replication, seed=1, capacity_per_slot=1024)
    for g in range(TENANTS):
        fleet.add_tenant("nat-gateway", az="abc"[g % 3], public_ips=[f"203.0.113.{10 + g}"],
                         private_cidrs=[f"10.0.{g}.0/24"])
    opened = fleet.process(flows(0, int(hp.TcpFlag.SYN)))
    fleet.process(replies(opened.packets, S // 100))
    victim = fleet.tenants[0].nodes[0]
    failover = fleet.fail_node(victim, at_ns=S)
    after = fleet.process(flows(2 * S, int(hp.TcpFlag.PSH | hp.TcpFlag.ACK)))
    same_port = after.packets["src_port"] == opened.packets["src_port"]
    summary = hp.Verdict.summary(after.verdict)
    print(f"replication={replication}: node {victim} failed holding {failover.moved + failover.lost} connections "
          f"of {len(failover.tenants)} tenants; moved {failover.moved}, lost {failover.lost}")
    print(f"  next segment of every connection: {summary}; "
          f"{int((same_port & (after.verdict == hp.Verdict.FORWARD)).sum())} forwarded with their public port unchanged")


if __name__ == "__main__":
    run(replication=True)
    run(replication=False)
