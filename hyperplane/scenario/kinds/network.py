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
from hyperplane.scenario.kinds.base import Kind, Verdicts
from hyperplane.scenario.schema import Field, Reader, Section, text
from hyperplane.topology import Network


class NetworkKind(Kind):
    name = "network"
    section = Section("network", "a VPC model (hp.Network) the packets cross hop by hop", (
        Field("topology", text, "a file of `aws ec2 describe-*` documents, JSON or TOML, beside the scenario",
              required=True),
        Field("region", text, "the region (default: that of the subnets' zones)"),
    ))

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
