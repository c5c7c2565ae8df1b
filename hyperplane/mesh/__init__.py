"""Service-mesh routing: request-level load balancing between services placed by the ECS model,
simulated in C++ (``csrc/mesh``), comparing the balancers people use with one that also knows
placement (``docs/mesh.md``).

Split by idea: ``model`` (the mesh: placement, latency, service time, slow tasks, outages,
``simulate``), ``balancers`` (each balancer's rules and parameters), ``result`` (quantiles,
counts, cross-AZ bytes and cost, load), ``compare`` (several balancers, one table, plots),
``pricing`` (AWS's inter-AZ rate and its text), ``distributions`` (parsing "lognormal:...").
"""

from hyperplane.mesh.balancers import (
    BALANCERS,
    Balancer,
    Choice,
    HostLocal,
    LeastRequest,
    LocalityEwma,
    P2cPeakEwma,
    Random,
    RoundRobin,
    ZoneAware,
    balancer,
)
from hyperplane.mesh.compare import Comparison, compare
from hyperplane.mesh.model import Mesh, Task
from hyperplane.mesh.pricing import INTER_AZ_USD_PER_GB_EACH_DIRECTION, cross_az_cost_usd
from hyperplane.mesh.result import MeshResult

__all__ = [
    "BALANCERS",
    "INTER_AZ_USD_PER_GB_EACH_DIRECTION",
    "Balancer",
    "Choice",
    "Comparison",
    "HostLocal",
    "LeastRequest",
    "LocalityEwma",
    "Mesh",
    "MeshResult",
    "P2cPeakEwma",
    "Random",
    "RoundRobin",
    "Task",
    "ZoneAware",
    "balancer",
    "compare",
    "cross_az_cost_usd",
]
