"""hyperplane: a compiled packet engine with Python bindings."""

from hyperplane import packets, rss, traffic
from hyperplane.packets import PACKET_DTYPE, PacketFlag, Proto, TcpFlag, empty, ip, ip_str
from hyperplane.rss import Rss

__all__ = [
    "PACKET_DTYPE",
    "PacketFlag",
    "Proto",
    "Rss",
    "TcpFlag",
    "empty",
    "ip",
    "ip_str",
    "packets",
    "rss",
    "traffic",
]
__version__ = "0.1.0"
