"""The Hyperplane fleet (``hp.fleet``): cells, shuffle sharding, flow-state replication, failures,
staged deployments, canaries and availability, over the real engine stages (docs/fleet.md)."""

from hyperplane.fleet.deploy import Change, Deployment
from hyperplane.fleet.fleet import Failover, Fleet, FleetResult
from hyperplane.fleet.layout import Node
from hyperplane.fleet.sharding import hypergeometric_share
from hyperplane.fleet.tenants import KINDS, Tenant

__all__ = ["KINDS", "Change", "Deployment", "Failover", "Fleet", "FleetResult", "Node", "Tenant", "hypergeometric_share"]
