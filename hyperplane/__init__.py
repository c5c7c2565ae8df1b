"""hyperplane: a compiled packet engine with Python bindings."""

from hyperplane import conntrack, ecs, ena, fleet, maglev, mesh, nat, nlb, packets, pcap, rss, tables, topology, traffic
from hyperplane.conntrack import ConnTrack, TcpState, Timeouts
from hyperplane.maglev import Maglev
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer
from hyperplane.packets import PACKET_DTYPE, PacketFlag, Proto, TcpFlag, empty, ip, ip_str
from hyperplane.rss import Rss
from hyperplane.topology import Network
from hyperplane.verdict import Verdict

__all__ = [
    "ConnTrack",
    "Maglev",
    "NatGateway",
    "Network",
    "NetworkLoadBalancer",
    "PACKET_DTYPE",
    "PacketFlag",
    "Proto",
    "Rss",
    "TcpFlag",
    "TcpState",
    "Timeouts",
    "Verdict",
    "conntrack",
    "empty",
    "ecs",
    "ena",
    "fleet",
    "ip",
    "ip_str",
    "maglev",
    "mesh",
    "nat",
    "nlb",
    "packets",
    "pcap",
    "rss",
    "tables",
    "topology",
    "traffic",
]
__version__ = "0.1.0"
