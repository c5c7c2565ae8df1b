"""``Network.from_aws`` against documents that boto3 prints when it talks to moto (an in-process
AWS mock): the shapes are AWS's own, not a guess at them.

The VPC follows AWS's advice for NAT gateways — "create a NAT gateway in each Availability Zone,
and configure your routing to ensure that resources use the NAT gateway in the same Availability
Zone" (VPC User Guide, "NAT gateway basics") — with public and private subnets in two zones and an
internet-facing Network Load Balancer over the two instances.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import hyperplane as hp

moto = pytest.importorskip("moto", reason="moto (a test extra) is not installed")
boto3 = pytest.importorskip("boto3", reason="boto3 (installed with moto) is not installed")


def _docs() -> dict[str, Any]:
    with moto.mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        elb = boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        sub = {}
        for name, cidr, az in (
            ("pub-a", "10.0.0.0/24", "us-east-1a"),
            ("pub-b", "10.0.1.0/24", "us-east-1b"),
            ("app-a", "10.0.10.0/24", "us-east-1a"),
            ("app-b", "10.0.11.0/24", "us-east-1b"),
        ):
            sub[name] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        for z in "ab":
            ec2.associate_route_table(RouteTableId=public, SubnetId=sub[f"pub-{z}"])
            eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
            nat = ec2.create_nat_gateway(SubnetId=sub[f"pub-{z}"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
            private = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.create_route(RouteTableId=private, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
            ec2.associate_route_table(RouteTableId=private, SubnetId=sub[f"app-{z}"])
        web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=web,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]},
            ],
        )
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ids = []
        for z in "ab":
            r = ec2.run_instances(
                ImageId=image, InstanceType="c5.large", MinCount=1, MaxCount=1, SubnetId=sub[f"app-{z}"], SecurityGroupIds=[web]
            )
            ids.append(r["Instances"][0]["InstanceId"])
        lb = elb.create_load_balancer(
            Name="front", Type="network", Scheme="internet-facing", Subnets=[sub["pub-a"], sub["pub-b"]]
        )["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name="app", Protocol="TCP", Port=443, VpcId=vpc, TargetType="instance")
        arn = tg["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": i} for i in ids])
        elb.create_listener(
            LoadBalancerArn=lb, Protocol="TCP", Port=443, DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}]
        )
        f = [{"Name": "vpc-id", "Values": [vpc]}]
        docs = {
            "Vpcs": ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"],
            "Subnets": ec2.describe_subnets(Filters=f)["Subnets"],
            "InternetGateways": ec2.describe_internet_gateways()["InternetGateways"],
            "NatGateways": ec2.describe_nat_gateways()["NatGateways"],
            "SecurityGroups": ec2.describe_security_groups(Filters=f)["SecurityGroups"],
            "NetworkAcls": ec2.describe_network_acls(Filters=f)["NetworkAcls"],
            "RouteTables": ec2.describe_route_tables(Filters=f)["RouteTables"],
            "Reservations": ec2.describe_instances()["Reservations"],
            "NetworkInterfaces": ec2.describe_network_interfaces(Filters=f)["NetworkInterfaces"],
            "LoadBalancers": elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"],
            "Listeners": elb.describe_listeners(LoadBalancerArn=lb)["Listeners"],
            "TargetGroups": elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"],
            "TargetHealthDescriptions": elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"],
        }
        # What `aws ... describe-*` prints is JSON: dates become strings.
        return dict(json.loads(json.dumps(docs, default=str)))


@pytest.fixture(scope="module")
def docs() -> dict[str, Any]:
    return _docs()


def test_from_aws_builds_the_vpc(docs: dict[str, Any]) -> None:
    net = hp.Network.from_aws(docs, seed=1)
    (vpc,) = net.vpcs
    assert vpc.id == docs["Vpcs"][0]["VpcId"] and str(vpc.cidr) == "10.0.0.0/16"
    assert sorted(s.az for s in vpc.subnets) == ["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1b"]
    assert len(net.nat_gateways) == 2 and vpc.internet_gateway is not None
    assert net.advice() == []  # a NAT gateway per zone, each zone routed to its own
    assert len(net.interfaces) == 2
    (lb,) = vpc.load_balancers
    assert (
        lb.id == "front" and lb.listeners == [(443, "tcp")] and sorted(s.az for s in lb.subnets) == ["us-east-1a", "us-east-1b"]
    )
    assert {e.id for e, _ in lb.targets} == {e.id for e in net.interfaces} and lb.public_ips == []  # moto gives no addresses
    web = next(g for g in vpc.security_groups if g.name == "web")
    assert {(r.proto, r.lo, r.hi, r.group is web) for r in web.ingress} == {(6, 443, 443, False), (6, 8080, 8080, True)}


def test_from_aws_moves_packets(docs: dict[str, Any]) -> None:
    net = hp.Network.from_aws(docs, seed=1)
    by_az = {e.subnet.az: e for e in net.interfaces}
    nat_b = next(g for g in net.nat_gateways if g.subnet.az == "us-east-1b")
    b = hp.empty(2)
    b["ts"] = [1000, 2000]
    b["src_ip"] = [by_az["us-east-1b"].private_ip, by_az["us-east-1a"].private_ip]
    b["dst_ip"], b["dst_port"], b["src_port"] = hp.ip("198.51.100.7"), 443, 40000
    b["proto"], b["tcp_flags"], b["length"] = 6, 0x02, 60
    res = net.process(b)
    assert (res.verdict == hp.Verdict.FORWARD).all()
    assert res.packets["src_ip"][0] == nat_b.public_ips[0]  # zone b leaves through zone b's gateway
    assert net.cross_az == {}
    (lb,) = net.vpcs[0].load_balancers
    node_a = lb.nodes[[s.az for s in lb.subnets].index("us-east-1a")]
    c = hp.empty(1)
    c["ts"], c["src_ip"], c["dst_ip"], c["src_port"], c["dst_port"] = 5000, by_az["us-east-1b"].private_ip, node_a, 40001, 443
    c["proto"], c["tcp_flags"], c["length"] = 6, 0x02, 60
    res = net.process(c)  # from inside the VPC to the balancer's node in zone a: a target in zone a
    assert res.verdict[0] == hp.Verdict.FORWARD and res.packets["dst_ip"][0] == by_az["us-east-1a"].private_ip
    assert net.cross_az == {("us-east-1b", "us-east-1a"): {"packets": 1, "bytes": 60}}
    e = net.explain(hp.ip_str(by_az["us-east-1a"].private_ip), hp.ip_str(by_az["us-east-1b"].private_ip), 8080, "tcp")
    assert e.reachable, str(e)
    e = net.explain(hp.ip_str(by_az["us-east-1a"].private_ip), hp.ip_str(by_az["us-east-1b"].private_ip), 22, "tcp")
    assert not e.reachable and "sg-in" in (e.blocked_by or "")


def test_from_aws_names_a_missing_field(docs: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(docs))
    sid = broken["Subnets"][1]["SubnetId"]
    del broken["Subnets"][1]["CidrBlock"]
    with pytest.raises(ValueError, match=rf"Subnet #2 \({sid}\): missing required field CidrBlock"):
        hp.Network.from_aws(broken)
    with pytest.raises(ValueError, match="unknown top-level keys Vpc"):
        hp.Network.from_aws({"Vpc": []})


def test_toml_form() -> None:
    text = """
region = "eu-west-1"
[[Vpcs]]
VpcId = "vpc-1"
CidrBlock = "10.5.0.0/16"
[[Subnets]]
SubnetId = "subnet-a"
VpcId = "vpc-1"
CidrBlock = "10.5.0.0/24"
AvailabilityZone = "eu-west-1a"
[[InternetGateways]]
InternetGatewayId = "igw-1"
Attachments = [{ VpcId = "vpc-1" }]
[[RouteTables]]
RouteTableId = "rtb-main"
VpcId = "vpc-1"
Associations = [{ Main = true }]
Routes = [{ DestinationCidrBlock = "0.0.0.0/0", GatewayId = "igw-1" }]
[[Instances]]
InstanceId = "i-1"
InstanceType = "c5.large"
SubnetId = "subnet-a"
PrivateIpAddress = "10.5.0.10"
PublicIpAddress = "198.51.100.50"
"""
    net = hp.Network.from_toml(text)
    assert net.region == "eu-west-1"
    b = hp.empty(1)
    b["src_ip"], b["dst_ip"], b["dst_port"], b["proto"], b["length"] = hp.ip("10.5.0.10"), hp.ip("192.0.2.1"), 53, 17, 80
    res = net.process(b)
    assert res.verdict[0] == hp.Verdict.FORWARD and res.packets["src_ip"][0] == hp.ip("198.51.100.50")
    assert np.asarray(net.hops)[res.hop[0]] == "internet"
