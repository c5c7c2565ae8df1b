"""A scenario: traffic, the stage it goes through, events at packet times, checks of the result.

A scenario is its TOML document (``Scenario.load``), or the same mapping built in Python
(``Scenario.from_dict``); both are read by one path, so every error names a file (or
``<python>``) and a line. ``with_values`` changes keys by dotted path or by a bare name that is
unique in the document (``clients``, ``public_ips``): what ``--set`` and sweeps use. A scenario
holds only plain data, so it pickles to worker processes and Ray tasks.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from hyperplane.scenario.kinds import KINDS, Event
from hyperplane.scenario.kinds.base import ACTION
from hyperplane.scenario.locate import Locations
from hyperplane.scenario.schema import EXPECT, REPORT, SCENARIO, Reader, ScenarioError, Section
from hyperplane.scenario.traffic import Source, read_sources

if TYPE_CHECKING:
    from hyperplane.scenario.run import Run

TOP = ("scenario", "traffic", "events", "expect", "report", "sweep", *KINDS)


@dataclass(frozen=True)
class Expect:
    value: str
    min: float | None
    max: float | None


class Scenario:
    """A scenario, read and checked; see ``docs/scenarios.md`` for its file form."""

    def __init__(self, document: Mapping[str, Any], origin: str = "<python>", text: str | None = None,
                 directory: str = ".") -> None:
        self.document: dict[str, Any] = copy.deepcopy(dict(document))
        self.origin = origin
        self.directory = directory
        self._text = text
        reader = Reader(origin, Locations(text or ""), directory)
        for key in self.document:
            if key not in TOP:
                raise reader.error((key,), f"unknown table; allowed: {', '.join(TOP)}")
        head = reader.read(self.document.get("scenario"), ("scenario",), SCENARIO)
        if head["kind"] not in KINDS:
            raise reader.error(("scenario", "kind"), f"must be one of {', '.join(map(repr, KINDS))}, not {head['kind']!r}")
        self.name: str = head["name"]
        self.kind: str = head["kind"]
        self.description: str = head["description"]
        self.seed: int | None = head["seed"]
        self.duration_ns: int = round(head["duration"] * 1e9)
        self.window_ns: int = round(head["window"] * 1e9)
        for other in KINDS:
            if other != self.kind and other in self.document:
                raise reader.error((other,), f"a {self.kind} scenario has no [{other}] table (kind = {self.kind!r})")
        kind = KINDS[self.kind]
        self.stage: dict[str, Any] = kind.read(reader, self.document.get(self.kind))
        self.sources: list[Source] = read_sources(reader, self.document.get("traffic"), self.duration_ns)
        self.events: list[Event] = self._events(reader, kind.actions)
        self.expect: list[Expect] = [Expect(**reader.read(t, ("expect", i), EXPECT))
                                     for i, t in enumerate(self._array(reader, "expect"))]
        self.report: dict[str, Any] = reader.read(self.document.get("report", {}), ("report",), REPORT)
        self.sweep: dict[str, list[Any]] = self._sweep(reader)

    # -- reading -----------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read a scenario file; errors name the file and line."""
        name = os.fspath(path)
        try:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ScenarioError(f"{name}: cannot read it ({e.strerror})") from None
        return cls.loads(text, name, os.path.dirname(os.path.abspath(name)))

    @classmethod
    def loads(cls, text: str, origin: str = "<string>", directory: str = ".") -> Scenario:
        """A scenario from its TOML text; files it names are found in ``directory``."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ScenarioError(f"{origin}: not valid TOML: {e}") from None
        return cls(document, origin, text, directory)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], directory: str = ".") -> Scenario:
        """A scenario built in Python, as the mapping its TOML file would parse to."""
        return cls(document, directory=directory)

    def _array(self, reader: Reader, key: str) -> list[Any]:
        value = self.document.get(key, [])
        if not isinstance(value, list):
            raise reader.error((key,), f"must be an array of tables ([[{key}]])")
        return value

    def _events(self, reader: Reader, actions: Mapping[str, Section]) -> list[Event]:
        events = []
        for i, table in enumerate(self._array(reader, "events")):
            path = ("events", i)
            action = table.get("action") if isinstance(table, Mapping) else None
            if not isinstance(action, str) or action not in actions:
                allowed = ", ".join(map(repr, actions)) or f"none: a {self.kind} scenario takes no events"
                raise reader.error((*path, "action"), f"must be one of {allowed}, not {action!r}")
            values = reader.read(table, path, actions[action], (ACTION,))
            at_ns = round(values.pop("at") * 1e9)
            if not 0 <= at_ns < self.duration_ns:
                raise reader.error((*path, "at"), "must fall inside the scenario's duration")
            values.pop("action")
            events.append(Event(at_ns, action, values, f"events[{i}]"))
        return sorted(events, key=lambda e: e.at_ns)

    def _sweep(self, reader: Reader) -> dict[str, list[Any]]:
        table = self.document.get("sweep", {})
        if not isinstance(table, Mapping):
            raise reader.error(("sweep",), "must be a table of key = [values]")
        out = {}
        for key, values in table.items():
            if not isinstance(values, list) or not values:
                raise reader.error(("sweep", key), "must be a non-empty list of values")
            out[str(key)] = values
        return out

    # -- changing ----------------------------------------------------------------------

    def paths(self) -> dict[str, tuple[str | int, ...]]:
        """Every settable key: written ones, and the fields of the tables this scenario has."""
        found: dict[str, tuple[str | int, ...]] = {}

        def walk(value: object, path: tuple[str | int, ...]) -> None:
            if isinstance(value, Mapping):
                for k, v in value.items():
                    walk(v, (*path, k))
            elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                for k, v in enumerate(value):
                    walk(v, (*path, k))
            elif path and path[0] != "sweep":
                found[".".join(map(str, path))] = path

        walk(self.document, ())
        for section in (SCENARIO, KINDS[self.kind].section, REPORT):
            for f in section.fields:
                found.setdefault(f"{section.name}.{f.name}", (section.name, f.name))
        return found

    def resolve(self, key: str) -> tuple[str | int, ...]:
        """The path a ``--set`` key names: a dotted path, or a bare name unique in the scenario."""
        paths = self.paths()
        if key in paths:
            return paths[key]
        matches = [p for p in paths.values() if p[-1] == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(".".join(map(str, p)) for p in matches)
            raise ScenarioError(f"{self.origin}: --set {key}: more than one key has that name ({names}); write its path")
        if "." in key:
            parts = tuple(int(p) if p.isdigit() else p for p in key.split("."))
            return parts
        raise ScenarioError(f"{self.origin}: --set {key}: no such key; settable: {', '.join(sorted(paths))}")

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with keys changed (``{"clients": 60000, "nat.public_ips": 8}``); checked as a file is."""
        document = copy.deepcopy(self.document)
        for key, value in values.items():
            path = self.resolve(key)
            table: Any = document
            for part in path[:-1]:
                if isinstance(table, list):
                    table = table[int(part)]
                else:
                    table = table.setdefault(part, {})
            table[path[-1]] = value
        origin = f"{self.origin} (with {', '.join(f'{k}={v}' for k, v in values.items())})"
        try:
            return Scenario(document, origin, self._text, self.directory)
        except ScenarioError:
            raise
        except (ValueError, TypeError, IndexError, KeyError) as e:
            raise ScenarioError(f"{origin}: {e}") from None

    # -- running -----------------------------------------------------------------------

    def run(self, *, progress: bool | Callable[[int, int], None] = False, seed: int | None = None) -> Run:
        """Run the scenario: a :class:`~hyperplane.scenario.run.Run` with its report.

        ``seed`` overrides the file's (when neither gives one, a seed is drawn and kept in the
        report). ``progress`` shows a bar in packet time, or calls ``progress(done_ns, total_ns)``.
        The traffic goes through the stage a window at a time (``[scenario] window``); the stage
        keeps its state between windows, so the result is that of one call over all of it."""
        from hyperplane.scenario.runner import execute

        return execute(self, seed, progress)

    def to_json(self) -> str:
        return json.dumps(self.document, sort_keys=True)

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, kind={self.kind!r}, duration={self.duration_ns / 1e9:g}s, seed={self.seed})"


def parse_value(text: str) -> Any:
    """A ``--set`` value as TOML reads it (``8``, ``true``, ``[1, 2]``, ``"x"``), else the text itself."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
