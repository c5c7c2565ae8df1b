"""Active monitoring: canary flows through every tenant, from inside its own AZ.

AWS watches Hyperplane with "active monitoring" (docs/fleet.md). Each minute of packet time a
canary batch opens a few new flows through every tenant (a SYN each, to where the tenant's
traffic goes: through a NAT gateway, to an NLB's first listener, to a mount target's NFS port)
from the tenant's own AZ. A canary that is not forwarded is a failure; packets that reached a
zonal tenant from another AZ are isolation violations, counted per minute from the fleet's own
count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hyperplane.packets import Batch, empty
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    from hyperplane.fleet.fleet import Fleet

CANARY_CLIENT = 0xCB00_71C8  # 203.0.113.200: a documentation address (RFC 5737) for NLB and EFS canaries
MINUTE_NS = 60 * 10**9


def canary_batch(fleet: Fleet, at_ns: int, flows_per_tenant: int = 8, az: str | None = None) -> Batch:
    """``flows_per_tenant`` new flows (one SYN each) through every tenant (of ``az`` when given),
    at ``at_ns``; source ports change with the minute, so every canary is a new flow."""
    tenants = [t for t in fleet.tenants if az is None or t.az == az]
    n = len(tenants) * flows_per_tenant
    out = empty(n)
    if n == 0:
        return out
    k = np.arange(n)
    which = k // flows_per_tenant
    src = np.array([t.private_networks[0][0] + 7 if t.private_networks else CANARY_CLIENT for t in tenants],
                   dtype=np.uint32)
    dst = np.array([t.probe[0] or t.addresses[0] for t in tenants], dtype=np.uint32)
    port = np.array([t.probe[1] for t in tenants], dtype=np.uint16)
    proto = np.array([t.probe[2] for t in tenants], dtype=np.uint8)
    minute = at_ns // MINUTE_NS
    out["ts"] = at_ns + k
    out["src_ip"], out["dst_ip"] = src[which], dst[which]
    out["src_port"] = 1024 + (minute * flows_per_tenant + k % flows_per_tenant) % 64000
    out["dst_port"], out["proto"] = port[which], proto[which]
    out["tcp_flags"] = np.where(out["proto"] == 6, 0x02, 0)
    out["length"] = 60
    return out


def monitor(fleet: Fleet, at_ns: int, flows_per_tenant: int = 8) -> dict[str, Any]:
    """One minute of canaries, AZ by AZ: flows sent and failed per AZ, and the isolation
    violations the fleet counted since the last call."""
    per_az: dict[str, dict[str, int]] = {}
    for az in fleet.azs:
        batch = canary_batch(fleet, at_ns, flows_per_tenant, az)
        result = fleet.process(batch, from_az=az)
        per_az[az] = {"sent": len(batch), "failed": int((result.verdict != Verdict.FORWARD).sum())}
    violations = fleet.isolation_violations - fleet.reported_violations
    fleet.reported_violations = fleet.isolation_violations
    return {"at_ns": at_ns, "azs": per_az, "isolation_violations": violations}
