"""The counter families beside the verdicts: one list each, for both languages.

Each family is listed here once, as verdicts are in ``verdict.py``: the build generates the
C++ enum and its names array from these tuples (``csrc/gen/gen_lists.py`` runs this file,
which imports nothing of the package for that reason), the stages index their counters by
the enum, and the Python side reads the same names from here. A name and its index cannot
drift apart, because both come from one line.

A member is ``(cxx, name, description)``: the C++ enumerator, the public name (AWS's own
where AWS has one — CloudWatch metric names, ``ethtool -S`` counter names) and what it counts.
Add a member at the end of its family.
"""

from __future__ import annotations

from typing import NamedTuple


class CounterFamily(NamedTuple):
    """One family of counters: the C++ enum's name and its members, in index order."""

    enum: str
    doc: str
    members: tuple[tuple[str, str, str], ...]

    @property
    def names(self) -> list[str]:
        """The public names, in index order."""
        return [name for _, name, _ in self.members]


CONNTRACK_EVENTS = CounterFamily(
    "CtEvent",
    "Events connection tracking counts beside the verdicts (which count every packet once).",
    (
        ("created", "created", "connections created"),
        ("tracked", "tracked", "packets that found their connection"),
        ("ignored", "ignored", "TCP packets the state machine ignores (forwarded, state kept)"),
        ("untracked", "untracked", "packets no connection covers (ICMP other than echo): forwarded"),
        ("reopened", "reopened", "SYN on a closed connection's tuple: the old one replaced"),
        ("expired", "expired", "connections removed after their timeout"),
        ("early_drop", "early_drop", "unconfirmed connections evicted to make room"),
    ),
)

NAT_METRICS = CounterFamily(
    "NatMetric",
    "CloudWatch's metrics for a NAT gateway, per minute of packet time.",
    (
        ("active_connection_count", "ActiveConnectionCount", "most concurrent active TCP connections in the minute"),
        ("connection_attempt_count", "ConnectionAttemptCount", "connection attempts from sources"),
        ("connection_established_count", "ConnectionEstablishedCount", "connections established"),
        ("error_port_allocation", "ErrorPortAllocation", "times no source port could be allocated"),
        ("idle_timeout_count", "IdleTimeoutCount", "connections that went from active to idle"),
        ("packets_drop_count", "PacketsDropCount", "packets the gateway dropped"),
        ("bytes_in_from_destination", "BytesInFromDestination", "bytes received from destinations"),
        ("bytes_in_from_source", "BytesInFromSource", "bytes received from sources"),
        ("bytes_out_to_destination", "BytesOutToDestination", "bytes sent to destinations"),
        ("bytes_out_to_source", "BytesOutToSource", "bytes sent to sources"),
        ("packets_in_from_destination", "PacketsInFromDestination", "packets received from destinations"),
        ("packets_in_from_source", "PacketsInFromSource", "packets received from sources"),
        ("packets_out_to_destination", "PacketsOutToDestination", "packets sent to destinations"),
        ("packets_out_to_source", "PacketsOutToSource", "packets sent to sources"),
    ),
)

NLB_METRICS = CounterFamily(
    "NlbMetric",
    "CloudWatch's metrics for a Network Load Balancer, per minute of packet time.",
    (
        ("active_flow_count", "ActiveFlowCount", "most concurrent flows in the minute"),
        ("new_flow_count", "NewFlowCount", "new flows"),
        ("processed_packets", "ProcessedPackets", "packets processed"),
        ("processed_bytes", "ProcessedBytes", "bytes processed"),
        ("tcp_elb_reset_count", "TCP_ELB_Reset_Count", "RSTs the load balancer generated"),
        ("tcp_client_reset_count", "TCP_Client_Reset_Count", "RSTs clients sent"),
        ("port_allocation_error_count", "PortAllocationErrorCount", "source-NAT port allocation failures"),
    ),
)

ENA_COUNTERS = CounterFamily(
    "EnaCounter",
    "ENA's allowance counters (ethtool -S names), then the one the model adds.",
    (
        ("bw_in_allowance_exceeded", "bw_in_allowance_exceeded", "packets queued or dropped over inbound bandwidth"),
        ("bw_out_allowance_exceeded", "bw_out_allowance_exceeded", "packets queued or dropped over outbound bandwidth"),
        ("pps_allowance_exceeded", "pps_allowance_exceeded", "packets queued or dropped over the packet rate"),
        ("conntrack_allowance_exceeded", "conntrack_allowance_exceeded", "packets dropped: connections tracked at the limit"),
        ("linklocal_allowance_exceeded", "linklocal_allowance_exceeded", "packets dropped over the link-local rate"),
        # Not an ENA counter: AWS publishes none for the single-flow limit.
        ("flow_allowance_exceeded", "flow_allowance_exceeded", "packets queued or dropped over the single-flow limit"),
    ),
)

FAMILIES: tuple[CounterFamily, ...] = (CONNTRACK_EVENTS, NAT_METRICS, NLB_METRICS, ENA_COUNTERS)
