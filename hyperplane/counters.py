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

LIVE_COUNTERS = CounterFamily(
    "LiveCounter",
    "What the live dataplane's frame I/O did with frames (hyperplane.live), beside the stage's verdicts.",
    (
        ("rx_frames", "rx_frames", "frames read from the interfaces' receive rings"),
        ("rx_to_stage", "rx_to_stage", "IPv4 frames handed to the stage"),
        ("rx_arp", "rx_arp", "ARP frames received"),
        ("arp_replies", "arp_replies", "ARP replies sent for addresses the engine owns"),
        ("arp_requests", "arp_requests", "ARP requests sent to resolve next hops"),
        ("arp_learned", "arp_learned", "neighbour entries learned or changed from ARP"),
        ("rx_not_for_us", "rx_not_for_us", "frames to another unicast or a multicast MAC address: ignored"),
        ("rx_to_router", "rx_to_router", "IPv4 frames to the engine's own link addresses: not forwarded"),
        ("rx_other", "rx_other", "frames neither IPv4 nor ARP (IPv6, VLAN-tagged, ...): ignored"),
        ("rx_malformed", "rx_malformed", "frames whose headers do not decode: ignored"),
        ("rx_oversize", "rx_oversize", "frames longer than a slot (2048 bytes) or cut by the ring: ignored"),
        ("checksums_completed", "checksums_completed", "frames whose partial transport checksum the engine completed"),
        ("tx_forwarded", "tx_forwarded", "frames forwarded (FORWARD verdicts sent on)"),
        ("tx_resets", "tx_resets", "TCP RSTs sent back for RESET verdicts"),
        ("stage_dropped", "stage_dropped", "frames the stage dropped (its counters say why)"),
        ("no_route", "no_route", "forwarded packets with no link or gateway toward their destination"),
        ("ttl_expired", "ttl_expired", "forwarded packets whose TTL ran out: dropped"),
        ("unresolved", "unresolved", "frames dropped because their next hop never answered ARP"),
        ("pending_full", "pending_full", "frames dropped because the queue awaiting ARP was full"),
        ("ring_drops", "ring_drops", "frames the kernel dropped with a receive ring full"),
        ("send_errors", "send_errors", "frames the kernel refused to send"),
    ),
)

FAMILIES: tuple[CounterFamily, ...] = (CONNTRACK_EVENTS, NAT_METRICS, NLB_METRICS, ENA_COUNTERS, LIVE_COUNTERS)
