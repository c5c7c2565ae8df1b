"""ECS services: desired and running counts, placement strategies, events in ECS's words,
replacement when an instance goes, load-balancer targets by network mode."""

from __future__ import annotations

from collections import Counter

import pytest

import hyperplane as hp
from hyperplane.ecs import Cluster

from .ecs_fixtures import cluster, defn, network


def test_spread_by_zone_then_instance() -> None:
    """ECS: spread "Place tasks evenly based on the specified value ... Service tasks are spread
    based on the tasks from that service", and the example strategy that "distributes tasks evenly
    across Availability Zones and then distributes tasks evenly across the instances within each
    Availability Zone" (Task placement strategies)."""
    _, _, _, c = cluster("c5.xlarge", 6, zones=3)
    svc = c.create_service("web", defn("bridge", ports=[(80, "tcp")]), desired_count=9, placement="spread:az")
    assert svc.running_count == 9
    assert Counter(t.az for t in svc.tasks) == {"us-east-1a": 3, "us-east-1b": 3, "us-east-1c": 3}
    assert sorted(Counter(t.container_instance.id for t in svc.tasks if t.container_instance).values()) == [1, 1, 1, 2, 2, 2]
    assert svc.events[0] == "service (web) has reached a steady state."
    assert svc.events[1].startswith("service (web) has started 9 tasks: (task ")


@pytest.mark.parametrize("strategy", ["binpack:cpu", "binpack:memory"])
def test_binpack_fills_one_instance_first(strategy: str) -> None:
    """ECS binpack: "Place tasks based on the least available amount of CPU or memory. This
    minimizes the number of instances in use." (Task placement strategies)."""
    _, _, _, c = cluster("c5.large", 3)
    svc = c.create_service("batch", defn("bridge", 512, 512), desired_count=6, placement=strategy)  # type: ignore[arg-type]
    per = sorted(Counter(t.container_instance.id for t in svc.tasks if t.container_instance).values())
    assert per == [2, 4]


def test_short_service_says_why_in_ecs_words() -> None:
    """ECS: "service (service-name) was unable to place a task because no container instance met all
    of its requirements. The closest matching container-instance container-instance-id has
    insufficient CPU units available." and "The closest matching container-instance is already
    using a port required by your task." (Service event messages)."""
    _, _, _, c = cluster("c5.large", 2)
    svc = c.create_service("web", defn("awsvpc", ports=[(80, "tcp")]), desired_count=6)
    assert (svc.running_count, svc.desired_count) == (4, 6)
    assert svc.events[0].startswith("service (web) was unable to place a task because no container instance met all of its "
                                    "requirements. The closest matching container-instance ")
    assert svc.events[0].endswith('encountered error "RESOURCE:ENI".')
    cpu = c.create_service("cpu", defn("bridge", 1792, 128, name="big"), desired_count=3)
    assert cpu.running_count == 2 and cpu.events[0].endswith("has insufficient CPU units available.")
    _, _, _, c2 = cluster("c5.large", 1)
    port = c2.create_service("ports", defn("host", ports=[(80, "tcp")], name="h"), desired_count=3)
    assert port.running_count == 1 and port.events[0].endswith("is already using a port required by your task.")
    empty = Cluster(c.net, "empty").create_service("x", defn(), desired_count=1)
    assert empty.events[0].endswith("Reason: No Container Instances were found in your cluster.")


def test_tasks_are_replaced_when_an_instance_is_removed() -> None:
    """ECS: the service scheduler keeps "the desired number of tasks" running; when a container
    instance is deregistered its tasks stop and the scheduler starts replacements."""
    net, _, _, c = cluster("c5.large", 3)
    svc = c.create_service("web", defn("awsvpc", ports=[(80, "tcp")]), desired_count=4)
    assert svc.running_count == 4
    gone = c.container_instances[0]
    stopped = c.remove_container_instance(gone)
    assert len(stopped) == 1 and all(t.last_status == "STOPPED" for t in stopped)  # 2 zones x 2, a zone over 2 instances
    assert gone.instance not in gone.instance.subnet.instances
    assert all(e.instance is not gone.instance for e in net.interfaces)
    assert svc.running_count == 4 and all(t.container_instance is not gone for t in svc.tasks)
    assert svc.events[0] == "service (web) has reached a steady state."
    c.remove_container_instance(c.container_instances[0])
    assert svc.running_count == 2 and '"RESOURCE:ENI"' in svc.events[0]
    svc.set_desired_count(1)
    assert svc.running_count == 1 and svc.events[0] == "service (web) has reached a steady state."
    assert svc.events[1].startswith("service (web) has stopped 1 running tasks")


def lb_world(mode: str) -> tuple[hp.Network, object, Cluster, object]:
    net, vpc, subnets = network(2)
    pub = [vpc.add_subnet(f"10.0.{200 + k}.0/24", az=s.az) for k, s in enumerate(subnets)]
    lb = vpc.add_network_load_balancer("front", pub, [(80, "tcp")], [])
    c = Cluster(net, "prod")
    open_sg = vpc.add_security_group("hosts", ingress=[("tcp", None, "10.0.0.0/16")])
    for s in subnets:
        c.add_container_instance("c5.large", subnet=s, security_groups=[open_sg])
    return net, lb, c, open_sg


@pytest.mark.parametrize("mode", ["awsvpc", "bridge", "host"])
def test_service_registers_targets_by_mode(mode: str) -> None:
    """ECS: with awsvpc "the task is allocated an Elastic Network Interface" and is registered by
    its own address (an ip target); bridge and host tasks are registered as their instance and host
    port. Deregistration follows the NLB's draining rules."""
    net, lb, c, sg = lb_world(mode)
    d = defn(mode, ports=[(80, "tcp")])
    kw = {"security_groups": [sg]} if mode == "awsvpc" else {}
    svc = c.create_service("web", d, desired_count=2, load_balancer=lb, container_port=80, **kw)  # type: ignore[arg-type]
    assert svc.running_count == 2
    got = sorted((hp.ip_str(e.private_ip), port) for e, port in lb.targets)  # type: ignore[attr-defined]
    want = sorted(t.endpoint(80) for t in svc.tasks)
    assert got == want
    if mode == "awsvpc":
        assert all(e is t.interface for t in svc.tasks for e, _ in [svc.targets[t.id]])
    else:
        assert {e.id for e, _ in lb.targets} == {ci.instance.primary_interface.id for ci in c.container_instances}  # type: ignore[attr-defined]
        assert all(t.private_ip is None for t in svc.tasks)
    assert "registered 2 targets" in svc.events[1]
    c.remove_container_instance(c.container_instances[0])
    # host mode: the other instance already holds port 80, so the replacement fits nowhere
    assert len(lb.targets) == (1 if mode == "host" else 2)  # type: ignore[attr-defined]
    assert len(lb.targets) == svc.running_count  # type: ignore[attr-defined]


def test_load_balancer_needs_one_container_port() -> None:
    net, lb, c, _ = lb_world("bridge")
    d = defn("bridge", ports=[(80, "tcp"), (81, "tcp")])
    with pytest.raises(ValueError, match="container_port"):
        c.create_service("web", d, desired_count=1, load_balancer=lb)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="desired_count"):
        c.create_service("web", d, desired_count=-1)


def test_fargate_service_behind_an_nlb() -> None:
    """ECS: Fargate tasks "always received a dedicated ENI regardless of how many are launched";
    with awsvpc a service registers each task's own address (an ip target)."""
    net, vpc, subnets = network(2)
    front = [vpc.add_subnet(f"10.0.{200 + k}.0/24", az=s.az) for k, s in enumerate(subnets)]
    lb = vpc.add_network_load_balancer("front", front, [(80, "tcp")], [])
    c = Cluster(net, "serverless")
    d = defn("awsvpc", 256, 512, [(80, "tcp")])
    svc = c.create_service("web", d, desired_count=4, launch_type="FARGATE", subnets=subnets, load_balancer=lb)
    assert svc.running_count == 4 and svc.events[0] == "service (web) has reached a steady state."
    assert sorted(hp.ip_str(e.private_ip) for e, _ in lb.targets) == sorted(t.private_ip for t in svc.tasks)
    assert Counter(t.az for t in svc.tasks) == {"us-east-1a": 2, "us-east-1b": 2}
    svc.set_desired_count(1)
    assert len(lb.targets) == 1 and len(net.interfaces) == 1 + 0  # the stand-in hosts went with their tasks
