"""Where ECS puts tasks and why it does not: the four network modes, CPU and memory, host ports,
task ENIs with and without trunking (ECS's table row by row), and RunTask's answer."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import hyperplane as hp
from hyperplane import ena
from hyperplane.ecs import EPHEMERAL_PORTS, RESERVED_PORTS, Cluster, Container, TaskDefinition, registered_memory

from .ecs_fixtures import cluster, defn, network, run_all
from .test_ena_catalog import TRUNKING

# (instance type, instances, mode, trunking, cpu, memory, ports, tasks asked) -> (placed, reasons)
PLACEMENT: list[tuple[str, int, str, bool, int, int, list[Any], int, int, set[str]]] = [
    # awsvpc: one ENI per task, the primary counts: "you can typically only run two such tasks"
    ("c5.large", 1, "awsvpc", False, 128, 128, [(80, "tcp")], 5, 2, {"RESOURCE:ENI"}),
    ("c5.large", 2, "awsvpc", False, 128, 128, [(80, "tcp")], 5, 4, {"RESOURCE:ENI"}),
    ("c5.large", 1, "awsvpc", True, 128, 128, [(80, "tcp")], 12, 10, {"RESOURCE:ENI"}),
    ("m5.large", 1, "awsvpc", False, 128, 128, [], 3, 2, {"RESOURCE:ENI"}),
    ("t3.micro", 1, "awsvpc", False, 128, 128, [], 3, 1, {"RESOURCE:ENI"}),
    ("m4.large", 1, "awsvpc", False, 128, 128, [], 3, 1, {"RESOURCE:ENI"}),
    ("c5.xlarge", 1, "awsvpc", True, 128, 128, [], 25, 20, {"RESOURCE:ENI"}),
    # host: one task per host port per instance
    ("c5.large", 1, "host", False, 128, 128, [(80, "tcp")], 2, 1, {"RESOURCE:PORTS"}),
    ("c5.large", 3, "host", False, 128, 128, [(80, "tcp")], 4, 3, {"RESOURCE:PORTS"}),
    ("c5.large", 1, "host", False, 128, 128, [(22, "tcp")], 1, 0, {"RESOURCE:PORTS"}),
    ("c5.large", 1, "host", False, 128, 128, [], 16, 16, set()),
    # bridge: static host ports conflict, dynamic ones do not; CPU and memory bind
    ("c5.large", 1, "bridge", False, 128, 128, [(80, 8080, "tcp")], 2, 1, {"RESOURCE:PORTS"}),
    ("c5.large", 1, "bridge", False, 256, 128, [(80, "tcp")], 9, 8, {"RESOURCE:CPU"}),
    ("c5.large", 1, "bridge", False, 128, 1024, [(80, "tcp")], 4, 3, {"RESOURCE:MEMORY"}),
    ("r5.large", 1, "bridge", False, 128, 1024, [(80, "tcp")], 16, 15, {"RESOURCE:MEMORY"}),
    ("t2.micro", 1, "bridge", False, 1024, 256, [(80, "tcp")], 2, 1, {"RESOURCE:CPU"}),
    # none: no ports, no ENI; only CPU and memory
    ("c5.large", 1, "none", False, 512, 128, [], 5, 4, {"RESOURCE:CPU"}),
]


@pytest.mark.parametrize(("itype", "n", "mode", "trunk", "cpu", "mem", "ports", "asked", "placed", "reasons"), PLACEMENT)
def test_placement_table(
    itype: str, n: int, mode: str, trunk: bool, cpu: int, mem: int, ports: list[Any], asked: int, placed: int, reasons: set[str]
) -> None:
    """ECS: "RESOURCE:* (container instance ID) The resource or resources requested by the task are
    unavailable on the given container instance. If the resource is CPU, memory, ports, or elastic
    network interfaces, you may need to add container instances to your cluster." (API failures
    messages); "the primary network interface counts as one ... you can typically only run two such
    tasks on this instance type" (ENI trunking)."""
    _, _, _, c = cluster(itype, n, trunking=trunk)
    got = run_all(c, defn(mode, cpu, mem, ports), asked)
    assert got == (placed, reasons)
    s = c.summary()
    assert sum(i.tasks[mode] for i in s.instances) == placed
    assert sum(s.failures.values()) == (n if reasons else 0)


@pytest.mark.parametrize(("name", "without", "with_trunking"), TRUNKING)
def test_trunking_table_row_by_row(name: str, without: int, with_trunking: int) -> None:
    """ECS: "how many tasks using the awsvpc network mode can be launched on each instance type
    before and after opting in to the awsvpcTrunking account setting" (Supported Amazon EC2 instance
    types), and "a c5.large instance with awsvpcTrunking enabled has an increased ENI limit of
    twelve ... this configuration allows you to launch ten tasks on the container instance instead
    of the current two tasks"."""
    d = defn("awsvpc", 16, 16)
    for trunk, limit in ((False, without), (True, with_trunking)):
        net, _, _, c = cluster(name, 1, trunking=trunk)
        svc = c.create_service("web", d, desired_count=limit + 1)
        assert svc.running_count == limit, (name, trunk)
        assert '"RESOURCE:ENI"' in svc.events[0]
        ci = c.container_instances[0]
        assert (ci.enis_used, ci.eni_limit) == (limit, limit)
        # every task ENI is an interface of the network model on the instance
        assert len(ci.instance.network_interfaces) == limit + 1 + trunk
        assert len(net.interfaces) == limit + 1 + trunk
        if trunk:
            assert ci.trunk_interface is not None and ci.instance.instance_type.enis == with_trunking + 2


def test_trunking_is_refused_on_types_ecs_does_not_list() -> None:
    """ECS: "The c5n, ... instance families are not supported" (Supported Amazon EC2 instance types)."""
    net, _, subnets = network()
    c = Cluster(net, "prod")
    for t in ("c5n.large", "m4.large", "t3.large", "r5.8xlarge"):
        with pytest.raises(ValueError, match="trunking"):
            c.add_container_instance(t, subnet=subnets[0], trunking=True)


def test_cpu_units_and_registered_memory() -> None:
    """ECS: "A container instance has 1,024 CPU units for every CPU core" (Service event messages);
    "an m4.large instance has 8 GiB of installed memory ... 7985 MiB are available for task
    execution" (Container instance memory management); ECS_RESERVED_MEMORY "remove[s] a specified
    number of MiB of memory from the pool that is allocated to your tasks"."""
    net, _, subnets = network()
    c = Cluster(net, "prod")
    m4 = c.add_container_instance("m4.large", subnet=subnets[0])
    assert (m4.cpu, m4.memory) == (2048, 7985)
    kept = c.add_container_instance("m4.large", subnet=subnets[0], reserved_memory=256)
    assert kept.memory == 7985 - 256
    c5 = c.add_container_instance("c5.4xlarge", subnet=subnets[1])
    assert (c5.cpu, c5.memory) == (16 * 1024, registered_memory(ena.instance_type("c5.4xlarge"), 0))
    with pytest.raises(ValueError, match="reserved_memory"):
        c.add_container_instance("t2.nano", subnet=subnets[0], reserved_memory=600)


def test_dynamic_host_ports_in_range_distinct_and_never_reserved() -> None:
    """ECS: "your container automatically receives a port ... in the ephemeral port range ...
    (which is 32768–61000 on the latest Amazon ECS-optimized AMI)"; "The default reserved ports are
    22 for SSH, the Docker ports 2375 and 2376, and the Amazon ECS container agent port 51678. Any
    host port that was previously user-specified for a running task is also reserved while the task
    is running" (Task definition parameters, hostPort)."""
    _, _, _, c = cluster("c5.4xlarge", 2)
    static = defn("bridge", 16, 16, [(9000, 32770, "tcp")], name="static")
    assert len(c.run_task(static).tasks) == 1
    d = defn("bridge", 16, 16, [(80, "tcp"), (443, "tcp"), (53, "udp")])
    placed, reasons = run_all(c, d, 200)
    assert (placed, reasons) == (200, set())
    lo, hi = EPHEMERAL_PORTS
    for ci in c.container_instances:
        for proto in ("tcp", "udp"):
            ports = [b.host_port for t in ci.tasks for b in t.bindings if b.dynamic and b.protocol == proto]
            assert len(ports) == len(set(ports)), "distinct per instance"
            assert all(lo <= p <= hi for p in ports)
            assert not set(ports) & set(RESERVED_PORTS)
        tcp = [b.host_port for t in ci.tasks for b in t.bindings if b.protocol == "tcp"]
        assert len(tcp) == len(set(tcp)), "dynamic ports skip the static one"
    # both instances hand out the same ports: distinct per instance, not per cluster
    assert [min(b.host_port for t in ci.tasks for b in t.bindings if b.dynamic) for ci in c.container_instances] == [lo, lo]
    # a stopped task gives its ports back
    t = c.container_instances[0].tasks[-1]
    freed = {(b.host_port, b.protocol) for b in t.bindings}
    c.stop_task(t)
    assert not any((p, proto) in freed for proto, ps in c.container_instances[0].ports.items() for p in ps)


def test_dynamic_ports_run_out() -> None:
    """28,233 ephemeral ports per protocol on an instance (32768–61000): the next task that needs
    one gets RESOURCE:PORTS."""
    _, _, _, c = cluster("c5.24xlarge", 1)
    many = defn("bridge", 1, 4, [(p, "tcp") for p in range(1, 1001)], name="many")
    placed, reasons = run_all(c, many, 30)
    assert (placed, reasons) == (28, {"RESOURCE:PORTS"})


def test_host_mode_ports_by_protocol_and_between_definitions() -> None:
    """ECS: "If the network mode is host, you can't run multiple instantiations of the same task on
    a single container instance when port mappings are used" (Task definition parameters)."""
    _, _, _, c = cluster("c5.large", 1)
    assert len(c.run_task(defn("host", ports=[(80, "tcp")], name="a")).tasks) == 1
    assert len(c.run_task(defn("host", ports=[(80, "udp")], name="b")).tasks) == 1
    assert len(c.run_task(defn("host", ports=[(81, "tcp")], name="c")).tasks) == 1
    out = c.run_task(defn("host", ports=[(81, "tcp"), (82, "tcp")], name="d"))
    assert [f.reason for f in out.failures] == ["RESOURCE:PORTS"]
    t = c.run_task(defn("host", ports=[(8080, "tcp")], name="e")).tasks[0]
    assert t.endpoint(8080) == (hp.ip_str(c.container_instances[0].instance.private_ip), 8080)
    assert t.private_ip is None


def test_run_task_answers_in_ecs_shape() -> None:
    """ECS RunTask: "You can specify up to 10 tasks for each call"; a failure names the container
    instance (its ARN) and the reason."""
    _, _, _, c = cluster("c5.large", 2)
    out = c.run_task(defn("awsvpc", ports=[(80, "tcp")]), count=5)
    assert len(out.tasks) == 4 and len(out.failures) == 2
    assert out.failures[0].reason == "RESOURCE:ENI"
    assert {f.arn for f in out.failures} == {ci.arn for ci in c.container_instances}
    assert all(":container-instance/prod/" in f.arn for f in out.failures)
    assert all(t.arn.startswith("arn:aws:ecs:us-east-1:123456789012:task/prod/") and len(t.id) == 32 for t in out.tasks)
    assert {t.az for t in out.tasks} == {"us-east-1a", "us-east-1b"}
    with pytest.raises(ValueError, match="count"):
        c.run_task(defn(), count=11)


def test_empty_cluster_and_subnets_without_instances() -> None:
    """ECS: "A common cause of this error is if your service is using tasks that use the awsvpc
    network mode and the EC2 launch type and the cluster you specified does not have a container
    instance registered to it in the same subnet that was specified in the awsvpcConfiguration"
    (Service event messages: container instance missing required attribute)."""
    net, vpc, subnets = network(3)
    c = Cluster(net, "empty")
    out = c.run_task(defn())
    assert [f.reason for f in out.failures] == ["MISSING"] and out.failures[0].arn == c.arn
    c.add_container_instance("c5.large", subnet=subnets[0])
    out = c.run_task(defn("awsvpc"), subnets=[subnets[2]])
    assert [f.reason for f in out.failures] == ["ATTRIBUTE"]
    assert len(c.run_task(defn("awsvpc"), subnets=[subnets[0]]).tasks) == 1


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: TaskDefinition("x", network_mode="overlay", containers=[Container("a")]), "network_mode"),  # type: ignore[arg-type]
        (lambda: TaskDefinition("x", network_mode="none", containers=[Container("a", port_mappings=[(80, "tcp")])]),
         "port_mappings"),
        (lambda: TaskDefinition("x", network_mode="host", containers=[Container("a", port_mappings=[(80, 81, "tcp")])]),
         "host_port"),
        (lambda: TaskDefinition("x", network_mode="awsvpc", containers=[Container("a", port_mappings=[(80, 81, "tcp")])]),
         "host_port"),
        (lambda: TaskDefinition("x", cpu=0, containers=[Container("a")]), "cpu"),
        (lambda: TaskDefinition("x", memory=2, containers=[Container("a")]), "memory"),
        (lambda: TaskDefinition("x", containers=[]), "containers"),
        (lambda: TaskDefinition("x", containers=[Container("a"), Container("a")]), "containers"),
        (lambda: Container("a", port_mappings=[(70000, "tcp")]), "container_port"),
        (lambda: Container("a", port_mappings=[(80, "sctp")]), "protocol"),
        (lambda: Container("a", port_mappings=["80/tcp"]), "port_mappings"),  # type: ignore[list-item]
        (lambda: TaskDefinition("x", containers=[Container("a", port_mappings=[(80, 8080, "tcp"), (81, 8080, "tcp")])]),
         "port_mappings"),
        (lambda: TaskDefinition("x", network_mode="awsvpc", containers=[
            Container("a", port_mappings=[(80, "tcp")]), Container("b", port_mappings=[(80, "tcp")])]), "port_mappings"),
    ],
)
def test_bad_definitions_name_the_field(build: Any, field: str) -> None:
    """ECS: "The valid values are none, bridge, awsvpc, and host"; "If the network mode is set to
    none, you can't specify port mappings"; "If the network mode of a task definition is set to
    host, then host ports must either be undefined or they must match the container port"; for
    awsvpc "The hostPort can be left blank or it must be the same value as the containerPort"."""
    with pytest.raises(ValueError, match=field):
        build()


def test_cpu_or_memory_above_every_instance_is_refused() -> None:
    _, _, _, c = cluster("c5.large", 2)
    with pytest.raises(ValueError, match=r"^cpu: 4096 CPU units is above every container instance"):
        c.run_task(defn(cpu=4096))
    with pytest.raises(ValueError, match=r"^memory: 8192 MiB"):
        c.run_task(defn(memory=8192))
    with pytest.raises(ValueError, match="subnets"):
        c.run_task(defn("bridge"), subnets=[c.container_instances[0].instance.subnet])
    with pytest.raises(ValueError, match="placement"):
        c.run_task(defn(), placement="random")  # type: ignore[arg-type]


def test_fargate_tasks_get_an_eni_each_and_no_instance_limits() -> None:
    """ECS: "Tasks using the Fargate launch type always received a dedicated ENI regardless of how
    many are launched" (ENI trunking considerations); "If using the Fargate launch type, the awsvpc
    network mode is required" (Task definition parameters)."""
    net, vpc, subnets = network(2)
    c = Cluster(net, "serverless")
    d = defn("awsvpc", 256, 512, [(80, "tcp")])
    sg = vpc.add_security_group("task", ingress=[("tcp", 80, "0.0.0.0/0")])
    tasks = []
    for _ in range(3):
        out = c.run_task(d, count=10, launch_type="FARGATE", subnets=subnets, security_groups=[sg])
        assert out.failures == []
        tasks += out.tasks
    assert len({t.private_ip for t in tasks}) == 30 and len(net.interfaces) == 30
    assert {t.az: 0 for t in tasks} and sum(t.az == "us-east-1a" for t in tasks) == 15
    assert all(t.interface is not None and t.interface.security_groups == [sg] for t in tasks)
    assert c.summary().tasks_by_mode["awsvpc"] == 30 and c.summary().fargate_tasks == 30
    c.stop_task(tasks[0])
    assert len(net.interfaces) == 29
    with pytest.raises(ValueError, match="network_mode"):
        c.run_task(defn("bridge", 256, 512), launch_type="FARGATE", subnets=subnets)
    with pytest.raises(ValueError, match="memory"):
        c.run_task(defn("awsvpc", 256, 4096), launch_type="FARGATE", subnets=subnets)
    with pytest.raises(ValueError, match="cpu"):
        c.run_task(defn("awsvpc", 300, 1024), launch_type="FARGATE", subnets=subnets)
    with pytest.raises(ValueError, match="subnets"):
        c.run_task(d, launch_type="FARGATE")


def test_summary_counts_modes_enis_ports_and_failures() -> None:
    _, _, _, c = cluster("c5.large", 2)
    c.run_task(defn("awsvpc", name="a"), count=5)
    c.run_task(defn("bridge", ports=[(80, "tcp"), (53, "udp")], name="b"), count=4)
    c.run_task(defn("host", ports=[(8080, "tcp")], name="h"), count=3)
    s = c.summary()
    assert s.tasks_by_mode == {"bridge": 4, "host": 2, "awsvpc": 4, "none": 0}
    assert s.failures == {"RESOURCE:ENI": 2, "RESOURCE:PORTS": 2}
    assert [i.enis for i in s.instances] == [(2, 2), (2, 2)]
    assert [i.ports for i in s.instances] == [5, 5]
    text = str(s)
    assert "failures by reason: RESOURCE:ENI 2, RESOURCE:PORTS 2" in text and "c5.large" in text


def test_configuration_pickles() -> None:
    d = defn("bridge", ports=[(80, "tcp")])
    assert pickle.loads(pickle.dumps(d)) == d
    net, _, _, c = cluster("c5.large", 2)
    c.create_service("web", d, desired_count=3)
    back = pickle.loads(pickle.dumps(c))
    assert back.services["web"].running_count == 3
    assert len(back.net.interfaces) == len(net.interfaces)
