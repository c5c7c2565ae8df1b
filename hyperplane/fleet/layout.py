"""The fleet's nodes: EC2 instances in zonal cells, named ``az/cell/index`` ("a/0/3").

A node is plain data (where it is, what it runs on, whether it is up), so the fleet can keep
its per-node facts in numpy arrays indexed by a node's position and show nodes by name. AWS
builds Hyperplane as cells inside each Availability Zone (docs/fleet.md quotes it); a zonal
tenant never leaves its AZ's cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    """One Hyperplane node: an EC2 instance of ``instance_type`` in cell ``cell`` of ``az``."""

    az: str
    cell: int
    index: int
    instance_type: str
    up: bool = True
    failures: list[int] = field(default_factory=list)
    """Packet times (ns) at which the node failed."""

    @property
    def name(self) -> str:
        return f"{self.az}/{self.cell}/{self.index}"

    def __repr__(self) -> str:
        return f"Node({self.name}, {self.instance_type}, {'up' if self.up else 'down'})"


def build_nodes(azs: list[str], cells_per_az: int, nodes_per_cell: int, instance_type: str) -> list[Node]:
    """Every node, AZ by AZ, cell by cell: node ``i`` of the list is ``fleet.nodes[i]``."""
    return [Node(az, cell, k, instance_type) for az in azs for cell in range(cells_per_az)
            for k in range(nodes_per_cell)]
