"""What happens to this traffic in my VPC? Two zones, a private subnet in each and a public one in
zone a with the only NAT gateway (which AWS advises against), web servers behind a security group
that lets 443 in from the VPC. Prints, per hop, packets in = forwarded + drops by reason, the traffic that crossed
zones, the advice, and one tuple explained as Reachability Analyzer would.

    python examples/vpc_paths.py
"""

from __future__ import annotations

import numpy as np

import hyperplane as hp


def main() -> None:
    net = hp.Network(region="us-east-1", seed=7)
    vpc = net.add_vpc("10.0.0.0/16")
    igw = vpc.add_internet_gateway()
    pub_a = vpc.add_subnet("10.0.0.0/24", az="us-east-1a")
    pub_a.route_table.add_route("0.0.0.0/0", igw)
    nat = pub_a.add_nat_gateway(public_ips=["203.0.113.10"])
    web = vpc.add_security_group("web", ingress=[("tcp", 443, "10.0.0.0/16")])
    servers = []
    for z, cidr in (("a", "10.0.10.0/24"), ("b", "10.0.11.0/24")):
        app = vpc.add_subnet(cidr, az=f"us-east-1{z}")
        app.route_table.add_route("0.0.0.0/0", nat)
        servers.append(app.add_instance("c5.large", security_groups=[web]))
    a, b = (s.private_ip for s in servers)

    rng = np.random.default_rng(1)
    n = 20_000
    batch = hp.empty(n)
    batch["ts"] = np.arange(n, dtype=np.uint64) * 50_000  # 20 kpps
    batch["src_ip"] = rng.choice([a, b], n)
    batch["dst_ip"] = np.where(rng.random(n) < 0.5, hp.ip("198.51.100.7"), np.where(batch["src_ip"] == a, b, a))
    batch["src_port"] = rng.integers(1024, 65535, n)
    batch["dst_port"] = rng.choice([443, 22], n, p=[0.9, 0.1])
    batch["proto"], batch["tcp_flags"], batch["length"] = 6, 0x02, 60
    res = net.process(batch)

    print(f"{'hop':24} {'packets':>8} {'forwarded':>9}  drops")
    for hop, c in net.counters.items():
        if c["packets"]:
            drops = {k: v for k, v in c.items() if k not in ("packets", "forwarded") and v}
            print(f"{hop:24} {c['packets']:8} {c['forwarded']:9}  {drops or ''}")
    verdicts = {hp.Verdict(int(v)).name: int(k) for v, k in zip(*np.unique(res.verdict, return_counts=True))}
    print("verdicts:", verdicts)
    print("cross-AZ:", net.cross_az)
    print("advice:", *net.advice(), sep="\n  ")
    print(net.explain(hp.ip_str(a), hp.ip_str(b), 22, "tcp"))


if __name__ == "__main__":
    main()
