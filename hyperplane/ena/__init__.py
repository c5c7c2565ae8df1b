"""ENA: the EC2 instance types, and the interface itself (``Interface``, see docs/ena.md).

>>> from hyperplane import ena
>>> ena.instance_type("c5.large").queues
2
>>> [t.name for t in ena.instance_types("C3")]
['c3.large', 'c3.xlarge', 'c3.2xlarge', 'c3.4xlarge', 'c3.8xlarge']

See ``docs/instance-types.md`` for the catalog and where each figure comes from.
"""

from hyperplane.ena.catalog import (
    ENHANCED_NETWORKING,
    FIGURES,
    HYPERVISORS,
    Catalog,
    CatalogError,
    EnhancedNetworking,
    Hypervisor,
    InstanceType,
    default_catalog,
    families,
    instance_type,
    instance_types,
    load_catalog,
)
from hyperplane.ena.interface import COUNTERS, Allowances, Interface, ProcessResult, vpc_resolver

__all__ = [
    "COUNTERS",
    "ENHANCED_NETWORKING",
    "FIGURES",
    "HYPERVISORS",
    "Allowances",
    "Catalog",
    "CatalogError",
    "EnhancedNetworking",
    "Hypervisor",
    "InstanceType",
    "Interface",
    "ProcessResult",
    "default_catalog",
    "families",
    "instance_type",
    "instance_types",
    "load_catalog",
    "vpc_resolver",
]
