"""Scenarios: traffic through a stage, events at packet times, and the report of a run.

>>> sc = Scenario.load("examples/scenarios/nat_port_exhaustion.toml")  # doctest: +SKIP
>>> run = sc.with_values({"clients": 60000}).run(progress=True)     # doctest: +SKIP

The file form is documented in ``docs/scenarios.md``.
"""

from hyperplane.scenario.run import SCHEMA, Run
from hyperplane.scenario.scenario import Scenario, parse_value
from hyperplane.scenario.schema import ScenarioError

__all__ = ["SCHEMA", "Run", "Scenario", "ScenarioError", "parse_value"]
