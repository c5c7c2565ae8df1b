"""A bad change caught in the first wave of a staged deployment.

A fleet of 96 nodes hosts 60 tenants (NAT gateways, NLBs, EFS mount targets). A change that
makes a node drop 5% of its packets goes out in waves (one node, one cell, one AZ, the rest),
each baked for 10 minutes of canary traffic and gated on the drop rate of the nodes it reached.
It is caught on the first node and rolled back; the report compares what it reached with what
deploying it everywhere at once would have reached. A good change then goes out wave by wave.

    python examples/staged_deploy.py
"""

from __future__ import annotations

import hyperplane as hp
from hyperplane.fleet import Change

S = 10**9


def main() -> None:
    fleet = hp.fleet.Fleet(azs=["a", "b", "c"], cells_per_az=2, nodes_per_cell=16, shard_size=4, seed=3,
                           capacity_per_slot=1024)
    for k in range(60):
        az = "abc"[k % 3]
        if k % 3 == 0:
            fleet.add_tenant("nat-gateway", az=az, public_ips=[f"203.0.113.{k + 1}"], private_cidrs=[f"10.{k}.0.0/16"])
        elif k % 3 == 1:
            fleet.add_tenant("nlb", az=az, address=f"192.0.2.{k}", listeners=[(443, "tcp")], targets=[f"10.200.0.{k}:443"])
        else:
            fleet.add_tenant("efs", az=az, address=f"198.51.100.{k}")
    for change in (Change("bad-build", drop_fraction=0.05), Change("new-config")):
        report = fleet.deploy(change, waves=["one-node", "one-cell", "one-az", "rest"], bake_s=600,
                              start_ns=0 if change.drop_fraction else 3600 * S)
        print(f"{change.name}: {'rolled back' if report.rolled_back else 'deployed'}")
        for w in report.waves:
            print(f"  wave {w.name:9s} nodes {len(w.nodes):3d} tenants {w.tenants:3d} canary packets {w.canary_packets:5d} "
                  f"drop rate {w.drop_rate:.2%} {'pass' if w.passed else 'FAIL'}")
        print(f"  reached {report.exposed} against all at once {report.all_at_once}")


if __name__ == "__main__":
    main()
