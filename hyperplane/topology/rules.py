"""Security-group rules, network-ACL entries and route-table routes, and how a whole batch is
matched against them at once.

A hop evaluates its rules one rule at a time over every packet of the batch (numpy over whole
arrays: a loop over the handful of rules, never over packets), so the cost per packet is a few
vector operations per rule. Each matcher returns the index of the deciding rule per packet, which
``Network.explain()`` turns into "rule 100 of acl-2" and the packet path turns into a verdict.

AWS's words for what is matched (quoted in docs/network.md):

- security groups: "security groups are stateful", and their rules only allow (there are no deny
  rules); a rule names a protocol, a port range and a CIDR or another group;
- network ACLs: "Rules are evaluated starting with the lowest numbered rule. As soon as a rule
  matches traffic, it's applied regardless of any higher-numbered rule that might contradict it";
  a packet no rule matches meets the default rule ``*`` and is denied;
- routes: "we direct traffic using the most specific route that matches the traffic. This is known
  as the longest prefix match."
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from hyperplane.topology.addresses import ANYWHERE, Cidr

PROTOCOLS = {"all": -1, "-1": -1, "icmp": 1, "tcp": 6, "udp": 17}
"""Protocol names as the EC2 API takes them ("-1" means all protocols)."""
TCP, UDP = 6, 17
ALL_PORTS = (0, 65535)

U32 = npt.NDArray[np.uint32]
I32 = npt.NDArray[np.int32]
Bool = npt.NDArray[np.bool_]


def protocol(value: object, what: str) -> int:
    """A protocol name (``tcp``, ``udp``, ``icmp``, ``all``/``-1``) or number, as an int (-1: all)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a protocol name or number, not {value!r}")
    if isinstance(value, int):
        if not -1 <= value <= 255:
            raise ValueError(f"{what}: protocol number must be in 0..255 (or -1 for all), not {value}")
        return value
    if isinstance(value, str) and value.lower() in PROTOCOLS:
        return PROTOCOLS[value.lower()]
    if isinstance(value, str) and value.isdigit():
        return protocol(int(value), what)
    raise ValueError(f"{what}: unknown protocol {value!r}; use one of {', '.join(PROTOCOLS)} or a number")


def port_range(value: object, what: str) -> tuple[int, int]:
    """``None`` (every port), a port, or an inclusive ``(from, to)`` range."""
    if value is None:
        return ALL_PORTS
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        lo, hi = int(value[0]), int(value[1])
    else:
        raise TypeError(f"{what} must be None, a port or a (from, to) range, not {value!r}")
    if not 0 <= lo <= hi <= 65535:
        raise ValueError(f"{what}: ports must satisfy 0 <= from <= to <= 65535, not {lo}..{hi}")
    return lo, hi


def _ports_apply(proto: int) -> bool:
    # AWS rules give ports only for TCP and UDP; ICMP rules name types and codes, and "all
    # protocols" covers every port. The model matches ICMP rules on the protocol alone.
    return proto in (TCP, UDP)


@dataclass(frozen=True)
class Match:
    """What one rule matches: protocol (-1 all), destination ports, and the peer's network."""

    proto: int
    lo: int
    hi: int
    cidr: Cidr

    def mask(self, proto: npt.NDArray[np.uint8], port: npt.NDArray[np.uint16], peer: U32) -> Bool:
        m: Bool = (peer & np.uint32(self.cidr.mask)) == np.uint32(self.cidr.base)
        if self.proto != -1:
            m &= proto == self.proto
        if _ports_apply(self.proto) and (self.lo, self.hi) != ALL_PORTS:
            m &= (port >= self.lo) & (port <= self.hi)
        return m

    def all_ports_anywhere(self, proto: int) -> bool:
        """Whether this rule permits every port of ``proto`` to or from 0.0.0.0/0."""
        return self.cidr == ANYWHERE and self.proto in (-1, proto) and (self.lo, self.hi) == ALL_PORTS


@dataclass(frozen=True)
class SgMatch:
    """A security-group rule compiled for a batch: a network, or the addresses of another group."""

    rule: Match
    members: U32 | None
    """Sorted private addresses of the referenced group's interfaces (None: the rule names a CIDR)."""

    def mask(self, proto: npt.NDArray[np.uint8], port: npt.NDArray[np.uint16], peer: U32) -> Bool:
        if self.members is None:
            return self.rule.mask(proto, port, peer)
        m = np.isin(peer, self.members)
        if self.rule.proto != -1:
            m &= proto == self.rule.proto
        if _ports_apply(self.rule.proto) and (self.rule.lo, self.rule.hi) != ALL_PORTS:
            m &= (port >= self.rule.lo) & (port <= self.rule.hi)
        return m


def first_match(
    rules: Sequence[SgMatch], proto: npt.NDArray[np.uint8], port: npt.NDArray[np.uint16], peer: U32
) -> tuple[I32, Bool]:
    """Per packet: the first rule that allows it (-1: none), and whether some 0.0.0.0/0 rule does."""
    found = np.full(len(peer), -1, dtype=np.int32)
    anywhere = np.zeros(len(peer), dtype=np.bool_)
    for k, r in enumerate(rules):
        m = r.mask(proto, port, peer)
        found[(found < 0) & m] = k
        if r.members is None and r.rule.cidr == ANYWHERE:
            anywhere |= m
    return found, anywhere


def untracked(other_direction: Sequence[SgMatch], proto: npt.NDArray[np.uint8], anywhere: Bool) -> Bool:
    """AWS's untracked flows: TCP or UDP allowed to or from 0.0.0.0/0 when the other direction
    permits all response traffic (0.0.0.0/0, ports 0-65535). ICMP and other protocols are tracked."""
    out = np.zeros(len(proto), dtype=np.bool_)
    for p in (TCP, UDP):
        if any(r.members is None and r.rule.all_ports_anywhere(p) for r in other_direction):
            out |= anywhere & (proto == p)
    return out


ALLOW_ALL = Match(-1, *ALL_PORTS, ANYWHERE)
"""Every protocol, every port, 0.0.0.0/0."""

Action = Literal["allow", "deny"]


@dataclass(frozen=True)
class AclEntry:
    """One numbered network-ACL rule (1..32766, as AWS numbers them)."""

    number: int
    match: Match
    allow: bool


def acl_decide(
    entries: Sequence[AclEntry], proto: npt.NDArray[np.uint8], port: npt.NDArray[np.uint16], peer: U32
) -> tuple[I32, Bool]:
    """Per packet: the index of the deciding entry (-1: the default rule ``*``) and whether it allows.

    ``entries`` are in ascending rule number; the first that matches decides."""
    decided = np.full(len(peer), -1, dtype=np.int32)
    allow = np.zeros(len(peer), dtype=np.bool_)
    for k, e in enumerate(entries):
        m = (decided < 0) & e.match.mask(proto, port, peer)
        decided[m] = k
        if e.allow:
            allow |= m
    return decided, allow


def longest_prefix(routes: Sequence[Cidr], dst: U32) -> I32:
    """Per packet: the index of the most specific route containing ``dst`` (-1: none).

    ``routes`` may be in any order; no two are the same network (a route table refuses that)."""
    order = sorted(range(len(routes)), key=lambda k: -routes[k].prefix)
    found = np.full(len(dst), -1, dtype=np.int32)
    for k in order:
        c = routes[k]
        m = (found < 0) & ((dst & np.uint32(c.mask)) == np.uint32(c.base))
        found[m] = k
    return found
