"""What happened to each packet: the one list of verdicts and drop reasons.

This class is the single place verdicts are defined. The build generates the
C++ enum (``csrc/gen/gen_lists.py`` runs this file), counters are indexed by
these values, and reports print the labels. Add a reason here, at the end.

Arrays carry verdicts, states and flags as bare integers, so every such list reads as
names too: ``str(member)`` is its name, and ``Verdict.names(v)`` / ``Verdict.summary(v)``
turn a whole array into names or counts by reason through one lookup table. The two bases
that do it (:class:`CodeEnum`, :class:`FlagEnum`) live here because the generator runs this
file on its own, before the package (and numpy) can be imported: numpy is imported only
when an array is named.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_INT_FORMATS = frozenset("bcdoxXneEfFgG%")
_TABLES: dict[Any, Any] = {}
E = TypeVar("E", bound="CodeEnum")


def _format(self: enum.Enum, spec: str) -> str:
    """The name, unless ``spec`` asks for a number (``f"{v:d}"``, ``f"{v:#x}"``)."""
    return int.__format__(int(self.value), spec) if spec and spec[-1] in _INT_FORMATS else format(str(self), spec)


def _codes(cls: type, codes: npt.ArrayLike, table: npt.NDArray[np.str_], strict: bool) -> npt.NDArray[np.intp]:
    """``codes`` as an index into ``table``: integers, and with ``strict`` only the list's values."""
    import numpy as np

    arr = np.asarray(codes)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"{cls.__name__}.names: codes must be integers (an array of {cls.__name__} values), not {arr.dtype}")
    if arr.size == 0:
        return arr.astype(np.intp)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= len(table):
        bad = lo if lo < 0 else hi
        raise ValueError(f"{cls.__name__}.names: codes holds {bad}, which is not a {cls.__name__}")
    index = arr.astype(np.intp)
    if strict:
        known = np.zeros(len(table), dtype=bool)
        known[[int(m) for m in cls]] = True  # type: ignore[attr-defined]
        if not known[index].all():
            bad = int(index[~known[index]].flat[0])
            raise ValueError(f"{cls.__name__}.names: codes holds {bad}, which is not a {cls.__name__}")
    return index


class CodeEnum(enum.IntEnum):
    """A list of codes that arrays carry as integers (verdicts, TCP states, protocols), read by name.

    ``str()`` and ``f"{}"`` give the member's name (``f"{v:d}"`` its number);
    :meth:`names` and :meth:`summary` read whole arrays at once.
    """

    def __str__(self) -> str:
        return self.name

    def __format__(self, format_spec: str) -> str:
        return _format(self, format_spec)

    @classmethod
    def name_table(cls, size: int = 0) -> npt.NDArray[np.str_]:
        """Entry i is the name of value i: the lookup :meth:`names` indexes. Values the list does
        not hold (below ``size``, or between its members) are their number as text."""
        import numpy as np

        key = (cls, size)
        if key not in _TABLES:
            n = max(size, max(int(m) for m in cls) + 1)
            names = [str(i) for i in range(n)]
            for m in cls:
                names[int(m)] = m.name
            _TABLES[key] = np.array(names)
            _TABLES[key].flags.writeable = False
        table: npt.NDArray[np.str_] = _TABLES[key]
        return table

    @classmethod
    def names(cls, codes: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """The name of each code in ``codes`` (an array of the list's values, of any integer dtype),
        as an array of the same shape: ``hp.Verdict.names(result.verdict)``. One lookup per
        element, no Python loop. A value that is not in the list is a ``ValueError``; codes
        that are not integers a ``TypeError``."""
        table = cls.name_table()
        return table[_codes(cls, codes, table, strict=True)]

    @classmethod
    def summary(cls, codes: npt.ArrayLike) -> dict[str, int]:
        """How many of ``codes`` hold each value: ``{name: count}`` for the values present, in the
        list's order (``hp.Verdict.summary(v)`` -> ``{"FORWARD": 9000, "DROP_NO_PORT": 1000}``)."""
        import numpy as np

        table = cls.name_table()
        counts = np.bincount(_codes(cls, codes, table, strict=True).ravel(), minlength=len(table))
        return {m.name: int(counts[int(m)]) for m in sorted(cls, key=int) if counts[int(m)]}


class FlagEnum(enum.IntFlag):
    """Bits that arrays carry in a uint8 field (TCP flags, packet flags), read by name.

    ``str()`` gives the set bits' names joined by ``|`` (``SYN|ACK``; ``-`` for none, a bit
    the list does not name as its hex value); :meth:`names` reads a whole array at once.
    """

    def __str__(self) -> str:
        value = int(self.value)
        if value == 0:
            return "-"
        parts = [m.name or "" for m in type(self).__members__.values() if value & int(m) == int(m) and int(m)]
        rest = value & ~sum(int(m) for m in type(self).__members__.values())
        return "|".join(parts + ([f"0x{rest:x}"] if rest else []))

    def __format__(self, format_spec: str) -> str:
        return _format(self, format_spec)

    @classmethod
    def names(cls, codes: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """The flags of each element of ``codes`` (integers in 0..255) as text, in an array of the
        same shape: ``hp.TcpFlag.names(batch["tcp_flags"])`` -> ``["SYN", "SYN|ACK", ...]``."""
        import numpy as np

        if cls not in _TABLES:
            _TABLES[cls] = np.array([str(cls(i)) for i in range(256)])
            _TABLES[cls].flags.writeable = False
        table: npt.NDArray[np.str_] = _TABLES[cls]
        return table[_codes(cls, codes, table, strict=False)]


class Verdict(CodeEnum):
    """A packet's fate; every value except FORWARD means it did not go on."""

    label: str

    def __new__(cls, value: int, label: str) -> Verdict:
        member = int.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    FORWARD = 0, "forwarded"
    DROP_INVALID = 1, "invalid for the connection's state"
    DROP_TABLE_FULL = 2, "connection table full"
    RESET = 3, "answered with a TCP RST (idle-timed-out or unknown connection)"
    DROP_NO_PORT = 4, "no free NAT source port (ErrorPortAllocation)"
    DROP_UNSOLICITED = 5, "inbound packet matching no connection"
    DROP_NOT_ROUTED = 6, "neither from a private network nor to a public address"
    DROP_PROTOCOL = 7, "protocol the stage does not carry"
    DROP_FRAGMENT = 8, "fragment of a protocol whose fragments are dropped"
    DROP_RATE_LIMIT = 9, "over the packet or bit rate limit"
    DROP_NO_LISTENER = 10, "no listener on that port and protocol"
    DROP_NO_TARGET = 11, "no target registered to take the flow"
    DROP_PPS_ALLOWANCE = 12, "queue full over the instance's packet-rate allowance"
    DROP_BW_IN_ALLOWANCE = 13, "queue full over the inbound bandwidth allowance"
    DROP_BW_OUT_ALLOWANCE = 14, "queue full over the outbound bandwidth allowance"
    DROP_LINKLOCAL_ALLOWANCE = 15, "over the link-local services' packet allowance"
    DROP_FLOW_ALLOWANCE = 16, "queue full over the single-flow bandwidth limit"
    DROP_NO_ROUTE = 17, "no route in the route table matches the destination"
    DROP_BLACKHOLE = 18, "the matching route is a blackhole (its target is gone)"
    DROP_SECURITY_GROUP = 19, "no security group rule allows it and no tracked connection carries it"
    DROP_NETWORK_ACL = 20, "denied by a network ACL rule (or its default rule)"
    DROP_NO_PUBLIC_IP = 21, "to or from the internet without a public IPv4 address"
    DROP_UNREACHABLE = 22, "no resource in the network holds the destination address"
    DROP_LOOP = 23, "more hops than any path through the network has (a routing loop)"
    DROP_NODE_DOWN = 24, "sent to a fleet node that is down, with no node of the tenant's shard to take it"
    DROP_NODE_FAULT = 25, "dropped by a fleet node running a faulty change (a bad deployment)"


def counter_name(v: Verdict) -> str:
    """The verdict's name in a stage's ``counters``: ``forwarded``, ``table_full``, ``reset``, ..."""
    return "forwarded" if v == Verdict.FORWARD else v.name.lower().removeprefix("drop_")


def packet_counters(per_verdict: Sequence[int]) -> dict[str, int]:
    """``packets`` and one counter per verdict, from packets counted by verdict value.

    ``packets`` = ``forwarded`` + every other verdict: nothing is lost uncounted.
    """
    return {"packets": int(sum(per_verdict))} | {counter_name(v): int(per_verdict[v]) for v in Verdict}
