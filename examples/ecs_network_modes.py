"""The same service in each ECS network mode on c5.large instances: how many tasks fit (density),
why the rest do not (ECS's service events), and what each mode's path costs on the same traffic
(engine time per packet, latency added per packet).

Two c5.large container instances, one per zone; a web service asking for 16 tasks of 256 CPU units
and 512 MiB with container port 80. awsvpc runs out of ENIs (2 tasks per c5.large, the primary
counts); with ENI trunking (10 each) memory binds first (3,992 MiB registered: 7 tasks each), as it
does for bridge, which gives each task a dynamic host port; host mode runs one task per host port
per instance. The engine time per packet grows with the interfaces the traffic spreads over (each
ENI is its own hops); bridge adds the docker0 hop's latency.

    python examples/ecs_network_modes.py
"""

from __future__ import annotations

import hyperplane as hp


def one(mode: str, trunking: bool = False) -> tuple[str, hp.ecs.Service, dict[str, hp.ecs.costs.PathCost]]:
    net = hp.Network(region="us-east-1", seed=3)
    vpc = net.add_vpc("10.0.0.0/16")
    subnets = [vpc.add_subnet(f"10.0.{k}.0/24", az=f"us-east-1{z}") for k, z in enumerate("ab")]
    hosts = vpc.add_security_group("hosts", ingress=[("tcp", None, "10.0.0.0/16")])
    tasks_sg = vpc.add_security_group("tasks", ingress=[("tcp", 80, "10.0.0.0/16")])
    cluster = hp.ecs.Cluster(net, "prod")
    for s in subnets:
        cluster.add_container_instance("c5.large", subnet=s, trunking=trunking, security_groups=[hosts])
    client = subnets[0].add_instance("c5.large", security_groups=[hosts])
    ports = [] if mode == "none" else [(80, "tcp")]
    web = hp.ecs.TaskDefinition("web", network_mode=mode, cpu=256, memory=512,  # type: ignore[arg-type]
                                containers=[hp.ecs.Container("nginx", port_mappings=ports)])
    kw = {"security_groups": [tasks_sg]} if mode == "awsvpc" else {}
    svc = cluster.create_service("web", web, desired_count=16, **kw)  # type: ignore[arg-type]
    costs = cluster.summary(client=client, packets=20_000).costs
    return mode + (" + trunking" if trunking else ""), svc, costs


def main() -> None:
    print(f"{'mode':<18} {'running':>8} {'ns/packet':>10} {'latency us':>11}  why short")
    for mode, trunk in (("awsvpc", False), ("awsvpc", True), ("bridge", False), ("host", False), ("none", False)):
        name, svc, costs = one(mode, trunk)
        c = costs.get(mode)
        ns = f"{c.ns_per_packet:.0f}" if c else "-"
        lat = f"{c.latency_us:.1f}" if c else "-"
        why = "" if svc.running_count == svc.desired_count else svc.events[0].split("requirements. ")[-1]
        print(f"{name:<18} {svc.running_count:>3}/{svc.desired_count:<4} {ns:>10} {lat:>11}  {why}")
        own = costs.get("bridge-masquerade")
        if own is not None:  # the containers' own connections, through their instances' MASQUERADE
            print(f"{'  own connections':<18} {'':>8} {own.ns_per_packet:>10.0f} {own.latency_us:>11.1f}  "
                  f"{own.delivered:.0%} delivered through MASQUERADE (the engine's NAT stage)")


if __name__ == "__main__":
    main()
