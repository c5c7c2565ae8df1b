"""``kind = "network"``: the traffic goes hop by hop through a VPC model (``hp.Network``).

The topology is the JSON that ``aws ec2 describe-*`` prints (one mapping of their top-level keys,
``Vpcs``, ``Subnets``, ...) or the same documents as TOML, in a file beside the scenario. Its text
is read when the scenario is, so a scenario sent to a worker or a Ray node carries its network.
Counters are per hop (``hop.verdict``); the balance is packets into each hop that saw any, and
the report keeps the traffic that crossed zones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from hyperplane.packets import Batch
from hyperplane.scenario.kinds.base import AT, Event, Kind, Verdicts
from hyperplane.scenario.schema import Field, Reader, Section, cidr, one_of, text
from hyperplane.topology import Network
from hyperplane.topology.resources import RouteTable, SecurityGroup


def _ports(value: object) -> int | list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [int(value[0]), int(value[1])]
    raise ValueError(f"a port (443) or a range ([1024, 65535]), not {value!r}")


def _rule_event(what: str) -> Section:
    return Section(what, f"{what.replace('_', ' ')} rule of a security group, as the API of that name does", (
        AT, Field("group", text, "the group's id or name", required=True),
        Field("protocol", one_of("tcp", "udp", "icmp", "all"), "the rule's protocol", required=True),
        Field("ports", _ports, "a port or [from, to]", 0),
        Field("peer", cidr, "the rule's source (ingress) or destination (egress)", required=True)))


class NetworkKind(Kind):
    name = "network"
    section = Section("network", "a VPC model (hp.Network) the packets cross hop by hop", (
        Field("topology", text, "a file of `aws ec2 describe-*` documents, JSON or TOML, beside the scenario",
              required=True),
        Field("region", text, "the region (default: that of the subnets' zones)"),
    ))

    actions = {
        "authorize_ingress": _rule_event("authorize_ingress"),
        "revoke_ingress": _rule_event("revoke_ingress"),
        "authorize_egress": _rule_event("authorize_egress"),
        "revoke_egress": _rule_event("revoke_egress"),
        "delete_route": Section("delete_route", "a route is deleted from a route table", (
            AT, Field("route_table", text, "the table's id", required=True),
            Field("destination", cidr, "the route's destination CIDR", required=True))),
    }

    @classmethod
    def read(cls, reader: Reader, table: object) -> dict[str, Any]:
        values = super().read(reader, table)
        path = os.path.join(reader.directory, values["topology"])
        try:
            with open(path, encoding="utf-8") as f:
                values["text"] = f.read()
        except OSError as e:
            raise reader.error(("network", "topology"), f"cannot read {path} ({e.strerror})") from None
        try:
            cls._build(values, 0)
        except (ValueError, TypeError) as e:
            raise reader.error(("network", "topology"), f"{path}: {e}") from None
        return values

    @staticmethod
    def _build(values: Mapping[str, Any], seed: int) -> Network:
        if values["topology"].endswith(".json"):
            try:
                docs = json.loads(values["text"])
            except json.JSONDecodeError as e:
                raise ValueError(f"not JSON: {e}") from None
            return Network.from_aws(docs, region=values["region"], seed=seed)
        net = Network.from_toml(values["text"], seed=seed)
        if values["region"] is not None and net.region != values["region"]:
            raise ValueError(f"the topology is in {net.region}, not {values['region']}")
        return net

    def __init__(self, config: Mapping[str, Any], seed: int) -> None:
        super().__init__(config, seed)
        self.net = self._build(self.config, seed)

    def process(self, batch: Batch) -> Verdicts:
        return self.net.process(batch).verdict

    def _group(self, name: str) -> SecurityGroup:
        groups = [g for v in self.net.vpcs for g in v.security_groups if name in (g.id, g.name)]
        if len(groups) != 1:
            raise ValueError(f"the network has {'no' if not groups else 'more than one'} security group {name!r}")
        return groups[0]

    def _table(self, name: str) -> RouteTable:
        tables = {t.id: t for s in self.net.subnets for t in [s.route_table]}
        if name not in tables:
            raise ValueError(f"no route table {name!r} is associated with a subnet; tables: {', '.join(tables)}")
        return tables[name]

    def apply(self, event: Event) -> None:
        """AWS: removing a rule does not cut the connections it tracked, but does cut untracked
        flows (the model's security groups judge each packet so)."""
        a = event.args
        if event.action == "delete_route":
            self._table(a["route_table"]).remove_route(a["destination"])
            return
        ports = tuple(a["ports"]) if isinstance(a["ports"], list) else a["ports"]
        group = self._group(a["group"])
        change = {"authorize_ingress": group.add_ingress, "revoke_ingress": group.remove_ingress,
                  "authorize_egress": group.add_egress, "revoke_egress": group.remove_egress}[event.action]
        change(a["protocol"], ports, a["peer"])

    def sample(self) -> dict[str, int]:
        return {f"{hop}.{k}": v for hop, c in self.net.counters.items() for k, v in c.items() if k != "packets"}

    def state(self) -> dict[str, Any]:
        counters = self.net.counters
        flat = {f"{hop}.{k}": v for hop, c in counters.items() for k, v in c.items()}
        return {"counters": flat,
                "balance": {"label": "packets into each hop", "values": {h: c["packets"] for h, c in counters.items()
                                                                         if c["packets"]}},
                "cross_az": [{"from": a, "to": b, **v} for (a, b), v in self.net.cross_az.items()],
                "advice": list(self.net.advice())}

    def describe(self) -> str:
        return repr(self.net)
