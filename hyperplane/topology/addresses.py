"""Addresses and CIDRs as the model checks them: every bad one is a ``ValueError`` (or, for a
value that is not a string, a ``TypeError``) naming the argument it came in, so that a user's
mistake in a topology reads as theirs and not as a traceback from ``ipaddress``.

Networks are kept as ``(base, mask)`` host-order integers, the form the packet arrays use.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Cidr:
    """An IPv4 network: ``base`` and ``prefix`` (``Cidr.parse("10.0.0.0/16", "cidr")``)."""

    base: int
    prefix: int

    @staticmethod
    def parse(text: object, what: str) -> Cidr:
        """``text`` as a network in canonical form; ``what`` names the argument in errors.

        AWS canonicalises a CIDR it is given ("if you specify 100.68.0.18/18, we modify it to
        100.68.0.0/18", CreateRoute): so does the model."""
        if not isinstance(text, str):
            raise TypeError(f"{what} must be an IPv4 CIDR string such as '10.0.0.0/16', not {type(text).__name__}")
        try:
            net = ipaddress.IPv4Network(text, strict=False)
        except ValueError as e:
            raise ValueError(f"{what}: {text!r} is not an IPv4 CIDR ({e})") from None
        return Cidr(int(net.network_address), net.prefixlen)

    @property
    def mask(self) -> int:
        return (0xFFFFFFFF << (32 - self.prefix)) & 0xFFFFFFFF

    @property
    def size(self) -> int:
        return 1 << (32 - self.prefix)

    @property
    def last(self) -> int:
        return self.base + self.size - 1

    def contains(self, address: int) -> bool:
        return (address & self.mask) == self.base

    def covers(self, other: Cidr) -> bool:
        """Whether ``other`` lies wholly inside this network."""
        return other.prefix >= self.prefix and (other.base & self.mask) == self.base

    def overlaps(self, other: Cidr) -> bool:
        return self.covers(other) or other.covers(self)

    def __str__(self) -> str:
        return f"{ipaddress.IPv4Address(self.base)}/{self.prefix}"


def address(text: object, what: str) -> int:
    """``text`` as a host-order IPv4 address; ``what`` names the argument in errors."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be an IPv4 address string such as '10.0.1.5', not {type(text).__name__}")
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError as e:
        raise ValueError(f"{what}: {text!r} is not an IPv4 address ({e})") from None


def dotted(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


ANYWHERE = Cidr(0, 0)
"""0.0.0.0/0."""
