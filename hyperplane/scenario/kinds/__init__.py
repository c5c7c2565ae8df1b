"""The scenario kinds, by the name a file gives in ``kind =``."""

from hyperplane.scenario.kinds.base import Event, Kind
from hyperplane.scenario.kinds.conntrack import ConnTrackKind
from hyperplane.scenario.kinds.ena import EnaKind
from hyperplane.scenario.kinds.nat import NatKind
from hyperplane.scenario.kinds.network import NetworkKind
from hyperplane.scenario.kinds.nlb import NlbKind

KINDS: dict[str, type[Kind]] = {k.name: k for k in (NatKind, NlbKind, EnaKind, ConnTrackKind, NetworkKind)}

__all__ = ["KINDS", "Event", "Kind"]
