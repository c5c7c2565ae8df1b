"""Scenario files: every wrong key, value or unit is refused naming the file, the line and what is allowed.

The table gives a file (the minimal NAT scenario with one line changed), the line the error must
name and words it must say; the schema's documentation (docs/scenarios.md) is checked against the
fields the code reads.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from hyperplane.scenario import Scenario, ScenarioError
from hyperplane.scenario.kinds import KINDS
from hyperplane.scenario.schema import EXPECT, REPORT, SCENARIO
from hyperplane.scenario.traffic import GENERATORS

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """\
[scenario]
name = "minimal"
kind = "nat"
duration = "10s"

[[traffic]]
generator = "many_to_one"
connections = "1k"

[nat]
public_ips = 1
"""


def _with_line(number: int, text: str) -> str:
    lines = MINIMAL.splitlines()
    lines[number - 1] = text
    return "\n".join(lines) + "\n"


BAD = [
    ("a duration without its unit", 4, 'duration = "10"', "with its unit"),
    ("an unknown key, with the allowed ones", 4, 'duraton = "10s"', "unknown key (did you mean 'duration'?)"),
    ("an unknown kind", 3, 'kind = "nlbb"', "must be one of 'nat', 'nlb', 'ena', 'conntrack'"),
    ("an unknown generator", 7, 'generator = "firehose"', "must be one of 'many_to_one'"),
    ("a count that is not one", 8, 'connections = "many"', "is not a count"),
    ("a wrong key of a generator", 8, 'conections = "1k"', "did you mean 'connections'?"),
    ("a table of another kind", 10, "[nlb]", "a nat scenario has no [nlb] table"),
    ("a wrong value in the stage's table", 11, 'public_ips = ["203.0.113.300"]', "is not an IPv4 address"),
    ("an unknown top-level table", 10, "[natt]", "unknown table; allowed: scenario, traffic"),
]


@pytest.mark.parametrize(("what", "line", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_errors_name_file_and_line(what: str, line: int, text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_with_line(line, text))
    with pytest.raises(ScenarioError) as info:
        Scenario.load(path)
    assert str(info.value).startswith(f"{path}:{line}:"), str(info.value)
    assert message in str(info.value)


def test_missing_key_names_its_table(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL.replace('duration = "10s"\n', ""))
    with pytest.raises(ScenarioError, match=rf"^{re.escape(str(path))}:1: scenario: missing key 'duration'"):
        Scenario.load(path)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL.replace('name = "minimal"', "name = minimal"))
    with pytest.raises(ScenarioError, match=r"not valid TOML: .*line 2"):
        Scenario.load(path)


def test_events_are_checked_against_the_kind() -> None:
    text = MINIMAL + '\n[[events]]\nat = "5s"\naction = "outage"\ntarget = "x"\n'
    with pytest.raises(ScenarioError, match=r"<string>:15: events\[0\]\.action: must be one of none: a nat scenario"):
        Scenario.loads(text)


def test_an_event_outside_the_run_is_refused() -> None:
    text = MINIMAL.replace('kind = "nat"', 'kind = "nlb"').replace("[nat]\npublic_ips = 1", """[nlb]
listeners = ["tcp:443"]
zones = { a = "10.0.0.10" }
targets = [{ address = "10.0.2.1:443", zone = "a" }]""")
    text += '\n[[events]]\nat = "50s"\naction = "deregister"\ntarget = "10.0.2.1:443"\n'
    with pytest.raises(ScenarioError, match=r"events\[0\]\.at: must fall inside the scenario's duration"):
        Scenario.loads(text)


def test_set_by_name_and_by_path() -> None:
    sc = Scenario.loads(MINIMAL)
    changed = sc.with_values({"connections": "2k", "nat.public_ips": 4, "capacity": "10k"})
    assert changed.sources[0].args["connections"] == 2000
    assert changed.stage["public_ips"] == ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13"]
    assert changed.stage["capacity"] == 10_000
    assert sc.sources[0].args["connections"] == 1000  # the original is unchanged


def test_set_refuses_unknown_and_ambiguous_keys() -> None:
    sc = Scenario.loads(MINIMAL + '\n[[traffic]]\ngenerator = "many_to_one"\nconnections = "1k"\n')
    with pytest.raises(ScenarioError, match="no such key; settable: "):
        sc.with_values({"nosuch": 1})
    both = r"more than one key has that name \(traffic\.0\.connections, traffic\.1\.connections\)"
    with pytest.raises(ScenarioError, match=both):
        sc.with_values({"connections": 5})
    with pytest.raises(ScenarioError, match=r"with connections=many.*is not a count"):
        Scenario.loads(MINIMAL).with_values({"connections": "many"})


def test_scenarios_pickle() -> None:
    """Sweeps send scenarios to worker processes and Ray tasks."""
    sc = Scenario.load(ROOT / "examples/scenarios/nlb_target_failure.toml")
    back = pickle.loads(pickle.dumps(sc))
    assert back.document == sc.document and back.events == sc.events and back.sources == sc.sources


@pytest.mark.parametrize("path", sorted((ROOT / "examples/scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_read(path: Path) -> None:
    sc = Scenario.load(path)
    assert sc.name and sc.description and sc.seed is not None


def test_docs_list_every_key() -> None:
    """docs/scenarios.md documents each table's keys; a key added to the code and not to the docs fails here."""
    doc = (ROOT / "docs/scenarios.md").read_text()
    sections = [SCENARIO, REPORT, EXPECT, *(k.section for k in KINDS.values()), *GENERATORS.values()]
    sections += [a for k in KINDS.values() for a in k.actions.values()]
    for section in sections:
        heading = re.search(rf"^#+ .*`{section.name}`.*$", doc, re.MULTILINE)
        assert heading, f"docs/scenarios.md has no heading for {section.name}"
        body = doc[heading.end():]
        nxt = re.search(r"^#+ ", body, re.MULTILINE)
        body = body[: nxt.start()] if nxt else body
        for field in section.fields:
            assert f"`{field.name}`" in body, f"docs/scenarios.md: {section.name} does not document {field.name}"
