"""Which tenant and which slot each packet of a batch goes to, and the batch grouped by slot.

Both run in the core over the whole batch (``csrc/runtime/fleet_router.hpp``): a packet belongs
to the tenant whose address it is sent to (a NAT gateway's public address, an NLB's node, a
mount target), whose mount target sent it (an NFS reply), or whose private network it comes
from (a NAT gateway's outbound traffic); within the tenant a flow hash picks the slot, the same
for both directions of a mount target's flows, and a NAT reply's public port names its slot
(each slot gives out its own slice of the ports). Grouping is one counting sort by slot, so each
slot's packets are one slice in batch order. This class only keeps the router fed as tenants arrive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hyperplane import _core
from hyperplane.packets import Batch


class Routes:
    """The fleet's address tables, added to as tenants are placed."""

    def __init__(self) -> None:
        self._router = _core.FleetRouter()
        self.slots = 0

    def add_tenant(self, tenant: int, slots: int, kind: int, to: list[int], from_too: bool,
                   networks: list[tuple[int, int]]) -> None:
        """Tenant ``tenant`` (the next index): its slots, kind (0 NAT, 1 NLB, 2 EFS), the addresses
        packets reach it by (and leave it from, with ``from_too``) and its private networks."""
        self._router.add_tenant(self.slots, slots, kind)
        self.slots += slots
        for address in to:
            self._router.add_address(address, tenant, from_too)
        for first, last in networks:
            self._router.add_network(first, 32 - int(last - first + 1).bit_length() + 1, tenant)

    def route(self, batch: Batch) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint64]]:
        """Each packet's tenant and slot (-1: none) and its flow hash."""
        return self._router.route(batch)

    def group(self, slot: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
        """The order that groups the batch by slot, and the packets of each (index 0: no slot)."""
        return _core.FleetRouter.group(slot, self.slots)

    @staticmethod
    def permute(batch: Batch, order: npt.NDArray[np.uint32], back: bool = False) -> Batch:
        """``batch`` in the grouped order (``batch[order]``), or with ``back`` returned from it."""
        return _core.FleetRouter.permute(batch, order, back)
