"""What happened to each packet: the one list of verdicts and drop reasons.

This class is the single place verdicts are defined. The build generates the
C++ enum (``csrc/gen/gen_verdicts.py`` reads this file), counters are indexed by
these values, and reports print the labels. Add a reason here, at the end.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class Verdict(enum.IntEnum):
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


def counter_name(v: Verdict) -> str:
    """The verdict's name in a stage's ``counters``: ``forwarded``, ``table_full``, ``reset``, ..."""
    return "forwarded" if v == Verdict.FORWARD else v.name.lower().removeprefix("drop_")


def packet_counters(per_verdict: Sequence[int]) -> dict[str, int]:
    """``packets`` and one counter per verdict, from packets counted by verdict value.

    ``packets`` = ``forwarded`` + every other verdict: nothing is lost uncounted.
    """
    return {"packets": int(sum(per_verdict))} | {counter_name(v): int(per_verdict[v]) for v in Verdict}
