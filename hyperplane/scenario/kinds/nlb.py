"""``kind = "nlb"``: clients reach targets through a Network Load Balancer.

Clients address the balancer by its DNS answer (``dst = "nlb"`` in ``[[traffic]]``), read again
each window, so a zone dropped from DNS stops getting new clients as AWS's does. An ``outage``
event is what happens to the target; what the balancer does is decided by its health checks
(``health_interval``, the thresholds), so the report shows how long AWS's checks take to notice,
and counts ``sent_to_down_target``: packets the balancer forwarded to a target during its outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperplane import units
from hyperplane.health import CHECK_INTERVAL_S, HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD, Outage, health_changes
from hyperplane.nlb import DEREGISTRATION_DELAY_S, TCP_IDLE_S, UDP_IDLE_S, NetworkLoadBalancer, Target
from hyperplane.packets import Batch
from hyperplane.scenario.kinds.base import AT, Event, Kind, Verdicts, series
from hyperplane.scenario.schema import Field, Section, address, flag, integer, list_of, positive_count, text
from hyperplane.verdict import Verdict


def _listener(value: object) -> tuple[int, str]:
    proto, _, port = text(value).partition(":")
    if proto not in ("tcp", "udp") or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a listener is \"tcp:PORT\" or \"udp:PORT\", not {value!r}")
    return int(port), proto


def _zones(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of zone = \"node address\", e.g. { \"us-east-1a\" = \"10.0.0.10\" }")
    return {str(zone): address(node) for zone, node in value.items()}


def _target(value: object) -> Target:
    if not isinstance(value, Mapping) or set(value) - {"address", "zone", "weight"} or not {"address", "zone"} <= set(value):
        raise ValueError(f"a target is {{ address = \"ip:port\", zone = \"...\", weight = 1 }}, not {value!r}")
    return Target(address=text(value["address"]), zone=text(value["zone"]), weight=integer(value.get("weight", 1)))


def _threshold(value: object) -> int:
    number = integer(value)
    if not 2 <= number <= 10:
        raise ValueError(f"must be 2..10 checks (AWS's range), not {value!r}")
    return number


TARGET = Field("target", text, "the target's \"ip:port\"", required=True)


class NlbKind(Kind):
    name = "nlb"
    section = Section("nlb", "the Network Load Balancer (hp.NetworkLoadBalancer)", (
        Field("listeners", list_of(_listener), "listeners as \"tcp:443\" or \"udp:53\"", required=True),
        Field("zones", _zones, "each enabled zone and its node's address", required=True),
        Field("targets", list_of(_target), "targets as { address = \"ip:port\", zone = \"...\" }", required=True),
        Field("cross_zone", flag, "cross-zone load balancing (AWS: off by default)", False),
        Field("preserve_client_ip", flag, "targets see the client's address", True),
        Field("unhealthy_connection_termination", flag, "reset a target's flows when it turns unhealthy", True),
        Field("deregistration_connection_termination", flag,
              "reset a drained target's flows when the delay ends (default: only for UDP-only balancers)"),
        Field("tcp_idle_timeout", units.seconds, "TCP flow idle timeout (AWS: 350s, 60s..6000s)", TCP_IDLE_S),
        Field("udp_timeout", units.seconds, "UDP flow idle timeout (AWS: 120s)", UDP_IDLE_S),
        Field("deregistration_delay", units.seconds, "how long a deregistered target drains (AWS: 300s)",
              DEREGISTRATION_DELAY_S),
        Field("capacity", positive_count, "flows the balancer can hold", 1_000_000),
        Field("health_interval", units.seconds, "time between health checks (AWS: 30s)", CHECK_INTERVAL_S),
        Field("healthy_threshold", _threshold, "passed checks that mark a target healthy (AWS: 5)", HEALTHY_THRESHOLD),
        Field("unhealthy_threshold", _threshold, "failed checks that mark it unhealthy (AWS: 2)", UNHEALTHY_THRESHOLD),
    ))
    actions = {
        "outage": Section("outage", "the target stops answering; health checks decide when the balancer notices", (
            AT, TARGET, Field("until", units.seconds, "when it answers again (default: never)"))),
        "set_health": Section("set_health", "the balancer marks the target healthy or not, at once", (
            AT, TARGET, Field("healthy", flag, "its new health", required=True))),
        "deregister": Section("deregister", "the target is deregistered and drains", (AT, TARGET)),
        "register": Section("register", "a new target is registered", (
            AT, TARGET, Field("zone", text, "its zone", required=True), Field("weight", positive_count, "its weight", 1))),
    }

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        super().__init__(config, seed)
        c = self.config
        self.nlb = NetworkLoadBalancer(
            c["listeners"], c["targets"], c["zones"], cross_zone=c["cross_zone"], preserve_client_ip=c["preserve_client_ip"],
            unhealthy_connection_termination=c["unhealthy_connection_termination"],
            deregistration_connection_termination=c["deregistration_connection_termination"],
            tcp_idle_timeout=c["tcp_idle_timeout"], udp_timeout=c["udp_timeout"],
            deregistration_delay=c["deregistration_delay"], capacity=c["capacity"], threads=1, seed=seed)
        self.snapshots: list[dict[str, Any]] = []
        self.outages: list[Outage] = []
        self.to_down_target = 0

    def expand(self, events: list[Event], duration_ns: int) -> list[Event]:
        outages = [Outage(e.args["target"], e.at_ns, duration_ns + 1 if e.args["until"] is None else round(e.args["until"] * 1e9))
                   for e in events if e.action == "outage"]
        self.outages = outages
        c = self.config
        changes = health_changes(outages, duration_ns, interval_s=c["health_interval"],
                                 healthy_threshold=c["healthy_threshold"], unhealthy_threshold=c["unhealthy_threshold"])
        derived = [Event(ch.ts_ns, "set_health", {"target": ch.address, "healthy": ch.healthy}, "health checks")
                   for ch in changes]
        return sorted([e for e in events if e.action != "outage"] + derived, key=lambda e: e.at_ns)

    def resolve(self, name: str) -> list[str]:
        if name != "nlb":
            return super().resolve(name)
        return self.nlb.dns_answer()

    def process(self, batch: Batch) -> Verdicts:
        result = self.nlb.process(batch)
        if self.outages and len(batch):
            # What the health checks cost: packets the balancer still sent to a target that was down.
            addresses = [t.address for t in self.nlb.targets]
            sent = result.verdict == Verdict.FORWARD
            for o in self.outages:
                if o.address in addresses and o.start_ns <= int(batch["ts"][-1]) and int(batch["ts"][0]) < o.end_ns:
                    down = (result.target == addresses.index(o.address)) & (batch["ts"] >= o.start_ns) & (batch["ts"] < o.end_ns)
                    self.to_down_target += int(np.count_nonzero(down & sent))
        return result.verdict

    def apply(self, event: Event) -> None:
        a = event.args
        if event.action == "set_health":
            self.nlb.set_health(a["target"], a["healthy"])
        elif event.action == "deregister":
            self.nlb.deregister(a["target"], event.at_ns)
        else:
            self.nlb.register(a["target"], a["zone"], a["weight"])
        self.snapshots.append({"at_s": event.at_ns / 1e9, "event": event.describe(), "flows": self.nlb.flows_per_target()})

    def sample(self) -> dict[str, int]:
        return self.nlb.counters | {"sent_to_down_target": self.to_down_target}

    def state(self) -> dict[str, Any]:
        return {"counters": self.sample(), "metrics": series(self.nlb.metrics),
                "balance": {"label": "flows per target", "values": self.nlb.flows_per_target()},
                "snapshots": self.snapshots}

    def describe(self) -> str:
        return f"{self.nlb!r}, seed={self.seed}"
