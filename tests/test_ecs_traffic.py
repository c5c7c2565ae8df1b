"""Task traffic through the network model: awsvpc tasks behind their own interfaces and security
groups, bridge and host tasks behind their instance's, and services behind an NLB whose targets
follow the tasks while packets flow."""

from __future__ import annotations

import numpy as np
import pytest

import hyperplane as hp
from hyperplane import Verdict as V
from hyperplane.ecs import Cluster

from .ecs_fixtures import cluster, defn, network, packets

TCP, SYN = 6, 0x02


def hops(net: hp.Network, rows: list[tuple[object, ...]]) -> list[tuple[V, str]]:
    res = net.process(packets(rows))
    for hop, c in net.counters.items():
        assert c["packets"] == c["forwarded"] + sum(n for k, n in c.items() if k not in ("packets", "forwarded")), hop
    return [(V(int(v)), net.hops[h]) for v, h in zip(res.verdict, res.hop)]


def test_awsvpc_tasks_have_their_own_security_groups() -> None:
    """ECS: "Each Amazon ECS task that uses the awsvpc network mode receives its own elastic network
    interface (ENI)" (ENI trunking); the task's security groups are the ENI's, so two tasks on one
    instance answer the same port differently."""
    net, vpc, subnets = network(1)
    c = Cluster(net, "prod")
    c.add_container_instance("c5.xlarge", subnet=subnets[0])
    client = subnets[0].add_instance("c5.large")
    open80 = vpc.add_security_group("open80", ingress=[("tcp", 80, "10.0.0.0/16")])
    closed = vpc.add_security_group("closed", ingress=[])
    d = defn("awsvpc", ports=[(80, "tcp")])
    a = c.run_task(d, security_groups=[open80]).tasks[0]
    b = c.run_task(d, security_groups=[closed]).tasks[0]
    assert a.container_instance is b.container_instance and a.private_ip != b.private_ip
    assert a.interface is not None and b.interface is not None
    src = hp.ip_str(client.private_ip)
    got = hops(net, [(1, src, 40000, a.private_ip, 80, TCP, SYN), (2, src, 40001, b.private_ip, 80, TCP, SYN)])
    assert got == [(V.FORWARD, f"{a.interface.id}/ena-in"), (V.DROP_SECURITY_GROUP, f"{b.interface.id}/sg-in")]
    # once the task stops, its address answers nothing
    gone = a.private_ip
    assert gone is not None
    c.stop_task(a)
    assert hops(net, [(10, src, 40002, gone, 80, TCP, SYN)])[0][0] == V.DROP_UNREACHABLE


def test_bridge_tasks_share_the_instance_interface_and_its_groups() -> None:
    """ECS: bridge mode uses "the virtualized network stack provided by the bridge mode"; the task is
    reached at the instance's address and its host port, so the instance's security groups decide."""
    net, vpc, subnets = network(1)
    hosts = vpc.add_security_group("hosts", ingress=[("tcp", (32768, 61000), "10.0.0.0/16")])
    c = Cluster(net, "prod")
    ci = c.add_container_instance("c5.large", subnet=subnets[0], security_groups=[hosts])
    client = subnets[0].add_instance("c5.large")
    t = c.run_task(defn("bridge", ports=[(80, "tcp")])).tasks[0]
    s = c.run_task(defn("bridge", ports=[(80, 8080, "tcp")], name="static")).tasks[0]
    assert t.private_ip is None and t.interface is None
    ip, port = t.endpoint(80)
    assert ip == hp.ip_str(ci.instance.private_ip) and 32768 <= port <= 61000
    eni = ci.instance.primary_interface.id
    src = hp.ip_str(client.private_ip)
    got = hops(net, [(1, src, 40000, ip, port, TCP, SYN), (2, src, 40001, *s.endpoint(80), TCP, SYN)])
    assert got == [(V.FORWARD, f"{eni}/ena-in"), (V.DROP_SECURITY_GROUP, f"{eni}/sg-in")]  # 8080 is not in the group


def test_service_targets_follow_tasks_while_traffic_flows() -> None:
    """ECS registers a service's tasks with the target group and deregisters a task before it stops;
    the NLB then drains it: "no new flows, existing ones continue" (the project's NLB stage)."""
    net, vpc, subnets = network(2)
    front = [vpc.add_subnet(f"10.0.{200 + k}.0/24", az=s.az) for k, s in enumerate(subnets)]
    lb = vpc.add_network_load_balancer("front", front, [(80, "tcp")], [], cross_zone=True)
    open_sg = vpc.add_security_group("tasks", ingress=[("tcp", 80, "10.0.0.0/16")])
    c = Cluster(net, "prod")
    for s in subnets:
        c.add_container_instance("c5.large", subnet=s)
    client = front[0].add_instance("c5.large")
    svc = c.create_service("web", defn("awsvpc", ports=[(80, "tcp")]), desired_count=2, load_balancer=lb,
                           security_groups=[open_sg])
    node, src = hp.ip_str(lb.nodes[0]), hp.ip_str(client.private_ip)
    first = net.process(packets([(1, src, 41000 + k, node, 80, TCP, SYN) for k in range(20)]))
    ends = {net.hops[h] for h in first.hop}
    assert ends == {f"{t.interface.id}/ena-in" for t in svc.tasks if t.interface}
    # the instance holding a task goes; its replacement is registered with the running stage
    gone = svc.tasks[0]
    c.remove_container_instance(gone.container_instance, at_ns=10_000_000)  # type: ignore[arg-type]
    assert svc.running_count == 2 and gone not in svc.tasks
    later = net.process(packets([(20_000 + k, src, 42000 + k, node, 80, TCP, SYN) for k in range(20)]))
    ends = {net.hops[h] for h in later.hop}
    assert ends == {f"{t.interface.id}/ena-in" for t in svc.tasks if t.interface}
    assert all(V(int(v)) == V.FORWARD for v in later.verdict)


def bridge_world() -> tuple[hp.Network, Cluster, object, object, object]:
    net, vpc, subnets = network(1)
    hosts = vpc.add_security_group("hosts", ingress=[("tcp", (32768, 61000), "10.0.0.0/16")])
    c = Cluster(net, "prod")
    ci = c.add_container_instance("c5.large", subnet=subnets[0], security_groups=[hosts])
    client = subnets[0].add_instance("c5.large")
    t = c.run_task(defn("bridge", ports=[(80, "tcp")])).tasks[0]
    return net, c, ci, client, t


def test_bridge_traffic_is_translated_through_docker0_and_back() -> None:
    """ECS: containers in bridge mode use "the virtualized network stack provided by the bridge
    mode", behind "dynamic host port mappings" (Task definition parameters): a packet for the mapped
    host port reaches the container's docker0 address and port, and the container's reply leaves as
    the instance's address and host port."""
    net, c, ci, client, t = bridge_world()
    host_ip, port = t.endpoint(80)  # type: ignore[attr-defined]
    assert t.bridge_ip is not None and t.bridge_ip.startswith("172.17.") and t.private_ip is None  # type: ignore[attr-defined]
    src = hp.ip_str(client.private_ip)
    plain = bridge_world()[0].process(packets([(10, src, 40001, host_ip, port, TCP, SYN)]))  # the same, no docker0
    res = c.process(packets([
        (10, src, 40001, host_ip, port, TCP, SYN),          # in: DNAT to the container
        (100, t.bridge_ip, 80, src, 40001, TCP, 0x12),      # its reply: back to the host port
        (200, t.bridge_ip, 5555, src, 40002, TCP, SYN),     # its own connection: MASQUERADE, then the client's groups
        (300, src, 40003, host_ip, 22, TCP, SYN),           # not a mapped port: the network's alone
    ]))
    got = [(V(int(v)), res.hops[h]) for v, h in zip(res.verdict, res.hop)]
    docker0 = f"{ci.id}/docker0"
    eni = ci.instance.primary_interface.id
    assert got == [(V.FORWARD, docker0), (V.FORWARD, f"{client.primary_interface.id}/ena-in"),
                   (V.DROP_SECURITY_GROUP, f"{client.primary_interface.id}/sg-in"), (V.DROP_SECURITY_GROUP, f"{eni}/sg-in")]
    p = res.packets
    assert (hp.ip_str(int(p[0]["dst_ip"])), int(p[0]["dst_port"])) == (t.bridge_ip, 80)
    assert (hp.ip_str(int(p[1]["src_ip"])), int(p[1]["src_port"])) == (host_ip, port)
    assert res.bridged.tolist() == [True, True, True, False]
    assert int(res.delay_ns[0]) == int(plain.delay_ns[0]) + hp.ecs.bridge.BRIDGE_DELAY_NS
    assert c.bridge_counters[docker0] == {"packets": 3, "forwarded": 3}


def test_path_costs_per_mode_on_the_same_traffic() -> None:
    net, vpc, subnets = network(1)
    hosts = vpc.add_security_group("hosts", ingress=[("tcp", None, "10.0.0.0/16")])
    c = Cluster(net, "prod")
    c.add_container_instance("c5.xlarge", subnet=subnets[0], security_groups=[hosts])
    client = subnets[0].add_instance("c5.large", security_groups=[hosts])
    c.run_task(defn("awsvpc", ports=[(80, "tcp")], name="a"), count=2, security_groups=[hosts])
    c.run_task(defn("bridge", ports=[(80, "tcp")], name="b"), count=2)
    c.run_task(defn("host", ports=[(8080, "tcp")], name="h"))
    s = c.summary(client=client, packets=2_000)
    assert set(s.costs) == {"awsvpc", "bridge", "host", "bridge-masquerade"}  # the last through the engine's NAT
    assert all(p.delivered == 1.0 and p.ns_per_packet > 0 for p in s.costs.values())
    added = s.costs["bridge"].latency_us - s.costs["host"].latency_us
    # The docker0 hop, give or take the ENA flow latencies of two different sets of flows (each flow
    # draws its own; their means over 200 flows differ by up to about a microsecond).
    assert added >= 0.5 * hp.ecs.bridge.BRIDGE_DELAY_NS / 1e3
    assert "path bridge:" in str(s)


def test_trunked_tasks_ride_the_trunk_and_share_the_instance() -> None:
    """ECS's awsvpcTrunking: "a c5.large instance with awsvpcTrunking enabled has an increased ENI
    limit of twelve" (ECS Developer Guide, "Elastic network interface trunking"); each task's branch
    interface is carried by the instance's trunk ("Associates a branch network interface with a trunk
    network interface", EC2 API Reference), and the instance's allowances are one ("the inbound
    aggregate bandwidth exceeded the maximum for the instance", ENA counters). Three tasks taking
    250 kpps each (750 kpps) on a c5.large (550 kpps, an estimate) are over it together: every
    packet they get passes the trunk's ENA hop, and each task loses some."""
    net, vpc, subnets, c = cluster("c5.large", 1, trunking=True, zones=1)
    ci = c.container_instances[0]
    hosts = vpc.add_security_group("hosts", ingress=[("udp", None, "10.0.0.0/16")])
    out = c.run_task(defn("awsvpc", ports=[(5000, "udp")]), count=3, security_groups=[hosts])
    assert len(out.tasks) == 3 and all(t.interface.trunk is ci.trunk_interface for t in out.tasks)
    senders = [subnets[0].add_instance("c5.large", security_groups=[hosts]) for _ in range(3)]
    n = 2500  # 10 ms at 250 kpps to each task
    parts = []
    for k, (src, t) in enumerate(zip(senders, out.tasks)):
        p = hp.empty(n)
        p["ts"] = (np.arange(n) * 4000 + k * 1000).astype(np.uint64)
        p["src_ip"], p["dst_ip"], p["dst_port"] = src.private_ip, t.interface.private_ip, 5000
        p["src_port"], p["proto"], p["length"] = 10_000 + np.arange(n) % 64, 17, 64
        parts.append(p)
    b = np.concatenate(parts)
    b = b[np.argsort(b["ts"], kind="stable")]
    res = net.process(b)
    trunk_in = net.hops.index(f"{ci.trunk_interface.id}/ena-in")
    assert (res.hop[res.verdict == V.FORWARD] == trunk_in).all()
    lost = [int(((res.verdict == V.DROP_PPS_ALLOWANCE) & (b["dst_ip"] == t.interface.private_ip)).sum()) for t in out.tasks]
    assert all(x > 0 for x in lost)
    c0 = net.counters[f"{ci.trunk_interface.id}/ena-in"]
    assert c0["packets"] == c0["forwarded"] + c0["pps_allowance"] == 3 * n


def test_a_containers_own_connection_is_masqueraded() -> None:
    """Docker's MASQUERADE: the rule the Docker daemon installs for its default bridge,
    ``-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`` (``iptables-save`` on a Docker
    host; Docker documentation, "Docker with iptables"), so a container's own connection leaves as the
    instance's address and a port the engine's NAT stage picks,
    the reply comes back through the same stage to the container, a packet for the instance that is
    no connection of its containers stays the instance's, and a docker0 address no container holds
    is dropped at docker0."""
    net, vpc, subnets = network(1)
    everyone = vpc.add_security_group("all", ingress=[("tcp", None, "10.0.0.0/16")])
    c = Cluster(net, "prod")
    ci = c.add_container_instance("c5.large", subnet=subnets[0], security_groups=[everyone])
    client = subnets[0].add_instance("c5.large", security_groups=[everyone])
    t = c.run_task(defn("bridge", ports=[(80, "tcp")])).tasks[0]
    host_ip, cl = hp.ip_str(ci.instance.private_ip), hp.ip_str(client.private_ip)
    out = c.process(packets([(10, t.bridge_ip, 5555, cl, 443, TCP, SYN),
                             (20, "172.17.9.9", 5555, cl, 443, TCP, SYN)]))
    hops = [out.hops[h] for h in out.hop]
    assert [V(int(v)) for v in out.verdict] == [V.FORWARD, V.DROP_NOT_ROUTED]
    assert hops == [f"{client.primary_interface.id}/ena-in", "docker0"]
    p = out.packets[0]
    assert hp.ip_str(int(p["src_ip"])) == host_ip and out.bridged[0]
    port = int(p["src_port"])
    back = c.process(packets([(500, cl, 443, host_ip, port, TCP, 0x12),      # the reply: to the container
                              (600, cl, 40000, host_ip, 22, TCP, SYN)]))     # the instance's own sshd
    assert [V(int(v)) for v in back.verdict] == [V.FORWARD, V.FORWARD]
    assert [back.hops[h] for h in back.hop] == [f"{ci.id}/docker0", f"{ci.instance.primary_interface.id}/ena-in"]
    assert (hp.ip_str(int(back.packets[0]["dst_ip"])), int(back.packets[0]["dst_port"])) == (t.bridge_ip, 5555)
    assert (hp.ip_str(int(back.packets[1]["dst_ip"])), int(back.packets[1]["dst_port"])) == (host_ip, 22)
    assert back.bridged.tolist() == [True, False]
    assert c.bridge_counters[f"{ci.id}/docker0"] == {"packets": 2, "forwarded": 2}
    assert c.bridge_counters["docker0"] == {"packets": 1, "forwarded": 0, "DROP_NOT_ROUTED": 1}
    assert c.masquerades[ci.id].counters["forwarded"] >= 2


@pytest.mark.parametrize(("memory_gib", "entries"), [(1 / 1024, 256), (0.5, 65_536), (4, 65_536), (8, 262_144), (144, 262_144)])
def test_masquerade_table_size_is_linuxs_default(memory_gib: float, entries: int) -> None:
    """The MASQUERADE stage holds Linux's default ``nf_conntrack_max`` (before 5.15): four entries a
    bucket, buckets "calculated by dividing total memory by 16384 ... limited to 16384 buckets. For
    systems with more than 4GB of memory it will be 65536 buckets" (kernel documentation,
    nf_conntrack-sysctl)."""
    assert hp.ecs.bridge.conntrack_max(memory_gib) == entries
