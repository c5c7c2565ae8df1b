"""The network the stages live in: a region's VPCs, subnets, route tables, gateways, security
groups, network ACLs, instances and their interfaces, and the path a packet takes through them.

>>> import hyperplane as hp
>>> net = hp.Network(region="us-east-1")
>>> vpc = net.add_vpc("10.0.0.0/16")
>>> app = vpc.add_subnet("10.0.1.0/24", az="us-east-1a")
>>> hp.ip_str(app.add_instance("c5.large").private_ip)
'10.0.1.4'

See ``docs/network.md`` for the model, the hop order, and what is and is not modelled.
"""

from hyperplane.topology.network import Network
from hyperplane.topology.path import NetworkResult
from hyperplane.topology.resources import (
    Instance,
    InternetGateway,
    LoadBalancerResource,
    NatGatewayResource,
    NetworkAcl,
    NetworkInterface,
    PlacementGroup,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)

__all__ = [
    "Instance",
    "InternetGateway",
    "LoadBalancerResource",
    "NatGatewayResource",
    "Network",
    "NetworkAcl",
    "NetworkInterface",
    "NetworkResult",
    "PlacementGroup",
    "Route",
    "RouteTable",
    "SecurityGroup",
    "Subnet",
    "Vpc",
]
