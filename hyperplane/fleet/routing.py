"""Which tenant and which slot each packet of a batch goes to, for the whole batch at once.

A packet belongs to the tenant whose address it is sent to (a NAT gateway's public address, an
NLB's node, a mount target), whose mount target sent it (an NFS reply), or whose private network
it comes from (a NAT gateway's outbound traffic): sorted address tables and ``searchsorted``
answer for every packet together. Within the tenant a flow hash picks the slot, the same for
both directions where the stage needs both (a mount target's NFS flows); a NAT reply's public
port names its slot, since each slot gives out only its slice of the ports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hyperplane.packets import Batch

NO_TENANT = -1
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser over a whole array."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def flow_hash(batch: Batch, symmetric: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.uint64]:
    """A hash of each packet's 5-tuple; where ``symmetric`` holds, the same for both directions."""
    src = batch["src_ip"].astype(np.uint64) << np.uint64(16) | batch["src_port"].astype(np.uint64)
    dst = batch["dst_ip"].astype(np.uint64) << np.uint64(16) | batch["dst_port"].astype(np.uint64)
    if symmetric is not None:
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        src, dst = np.where(symmetric, lo, src), np.where(symmetric, hi, dst)
    return _mix(src * _M1 ^ dst * _M2 ^ batch["proto"].astype(np.uint64) * _M3)


@dataclass
class Routes:
    """The fleet's address tables, rebuilt when a tenant is added."""

    dst_addresses: npt.NDArray[np.uint32]
    dst_tenants: npt.NDArray[np.int64]
    src_addresses: npt.NDArray[np.uint32]  # mount targets answering
    src_tenants: npt.NDArray[np.int64]
    net_first: npt.NDArray[np.uint32]  # NAT private networks, sorted by first address
    net_last: npt.NDArray[np.uint32]
    net_tenants: npt.NDArray[np.int64]

    @staticmethod
    def build(dst: dict[int, int], src: dict[int, int], networks: list[tuple[int, int, int]]) -> Routes:
        def table(d: dict[int, int]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
            keys = np.array(sorted(d), dtype=np.uint32)
            return keys, np.array([d[int(k)] for k in keys], dtype=np.int64)
        nets = sorted(networks)
        return Routes(*table(dst), *table(src), np.array([n[0] for n in nets], dtype=np.uint32),
                      np.array([n[1] for n in nets], dtype=np.uint32), np.array([n[2] for n in nets], dtype=np.int64))

    def tenants(self, batch: Batch) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Each packet's tenant (``NO_TENANT`` when none) and whether it arrived by its destination."""
        out = np.full(len(batch), NO_TENANT, dtype=np.int64)
        by_dst = _exact(batch["dst_ip"], self.dst_addresses, self.dst_tenants, out)
        if len(self.src_addresses):
            _exact(batch["src_ip"], self.src_addresses, self.src_tenants, out)
        if len(self.net_first):
            rest = np.flatnonzero(out == NO_TENANT)  # only the packets no address claimed
            src = batch["src_ip"][rest]
            i = np.searchsorted(self.net_first, src, side="right") - 1
            ok = i >= 0
            ok[ok] &= src[ok] <= self.net_last[i[ok]]
            out[rest[ok]] = self.net_tenants[i[ok]]
        return out, by_dst


def _exact(addresses: npt.NDArray[np.uint32], keys: npt.NDArray[np.uint32], tenants: npt.NDArray[np.int64],
           out: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Fills ``out`` where it is unset and ``addresses`` is one of ``keys``; where it matched."""
    if len(keys) == 0:
        return np.zeros(len(addresses), dtype=bool)
    i = np.minimum(np.searchsorted(keys, addresses), len(keys) - 1)
    hit: npt.NDArray[np.bool_] = (keys[i] == addresses) & (out == NO_TENANT)
    out[hit] = tenants[i[hit]]
    return hit
