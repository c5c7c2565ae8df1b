"""The keys a scenario file may hold: one table of fields per section, read with their units.

Each field names its parser (:mod:`hyperplane.units` for quantities), its default and what it
means; the same tables check files, fill defaults, and write the schema in
``docs/scenarios.md`` (a test compares the two). A wrong key, a missing one or a value its parser
refuses raises :class:`ScenarioError`, which names the file, the line and what is allowed.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hyperplane import units
from hyperplane.scenario.locate import Locations, Path


class ScenarioError(ValueError):
    """A scenario that cannot run as written: the message names the file and line."""


@dataclass(frozen=True)
class Field:
    """One key: ``parse`` turns what the file says into the value used (raising ``ValueError``)."""

    name: str
    parse: Callable[[Any], Any]
    doc: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Section:
    """The fields of one table (or of each table of an array of tables)."""

    name: str
    doc: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class Reader:
    """Checks tables of one document against sections, naming ``origin`` and lines in errors."""

    def __init__(self, origin: str, locations: Locations, directory: str = ".") -> None:
        self.origin = origin
        self.locations = locations
        self.directory = directory
        """Where files the scenario names (a topology) are found: the scenario file's directory."""

    def error(self, path: Path, message: str) -> ScenarioError:
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
        return ScenarioError(f"{self.origin}:{self.locations.line(path)}: {where}: {message}" if where else
                             f"{self.origin}:{self.locations.line(path)}: {message}")

    def read(self, table: object, path: Path, section: Section, extra: Sequence[Field] = ()) -> dict[str, Any]:
        """The table's values, parsed, with defaults filled; every key must be a field."""
        if not isinstance(table, Mapping):
            raise self.error(path, f"must be a table of {section.name} settings, not {type(table).__name__}")
        fields = {f.name: f for f in (*section.fields, *extra)}
        out: dict[str, Any] = {}
        for key, value in table.items():
            field = fields.get(key)
            if field is None:
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error((*path, key), f"unknown key{hint}; allowed: {', '.join(fields)}")
            try:
                out[key] = field.parse(value)
            except (ValueError, TypeError) as e:
                raise self.error((*path, key), str(e)) from None
        for field in fields.values():
            if field.name not in out:
                if field.required:
                    raise self.error(path, f"missing key {field.name!r} ({field.doc})")
                out[field.name] = field.default
        return out


# -- value parsers shared by the sections ----------------------------------------------------


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r}")
    return value


def flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, not {value!r}")
    return value


def fraction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a number from 0 to 1, not {value!r}")
    return float(value)


def positive_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"must be a positive number, not {value!r}")
    return float(value)


def address(value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(text(value)))
    except ipaddress.AddressValueError as e:
        raise ValueError(f"{value!r} is not an IPv4 address ({e})") from None


def cidr(value: object) -> str:
    try:
        return str(ipaddress.IPv4Network(text(value)))
    except ValueError as e:
        raise ValueError(f"{value!r} is not an IPv4 network ({e})") from None


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(repr, choices))}, not {value!r}")
        return str(value)

    return parse


def list_of(item: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def parse(value: object) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"must be a list, not {value!r}")
        return [item(v) for v in value]

    return parse


def positive_count(value: object) -> int:
    number = units.count(value)
    if number < 1:
        raise ValueError(f"must be at least 1, not {value!r}")
    return number


def positive_seconds(value: object) -> float:
    number = units.seconds(value)
    if number <= 0:
        raise ValueError(f"must be a positive duration, not {value!r}")
    return number


def port(value: object) -> int:
    number = integer(value)
    if not 0 < number < 65536:
        raise ValueError(f"must be a port in 1..65535, not {value!r}")
    return number


SCENARIO = Section("scenario", "what the scenario is and how long it runs", (
    Field("name", text, "a title for reports", required=True),
    Field("kind", text, "what the traffic goes through: nat, nlb, ena, conntrack or network", required=True),
    Field("description", text, "what question the scenario answers", ""),
    Field("seed", integer, "the seed every random choice derives from (drawn and shown when absent)"),
    Field("duration", positive_seconds, "packet time the traffic lasts, e.g. \"60s\"", required=True),
    Field("window", positive_seconds,
          "traffic is generated and processed this much packet time at a time (bounded memory)", 1.0),
))

REPORT = Section("report", "what the report shows", (
    Field("plots", list_of(one_of("metrics", "drops_by_reason", "latency", "balance")),
          "plots to draw: metrics, drops_by_reason, latency, balance (default: each the run has data for)"),
))

EXPECT = Section("expect", "a check of the result; a failed one makes `hyperplane run` exit with 1", (
    Field("value", text, "a dotted path into the report, e.g. \"verdicts.DROP_NO_PORT\"", required=True),
    Field("min", lambda v: float(units.count(v)) if isinstance(v, str) else positive_or_zero(v),
          "the least value allowed"),
    Field("max", lambda v: float(units.count(v)) if isinstance(v, str) else positive_or_zero(v),
          "the greatest value allowed"),
))


def positive_or_zero(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"must be a number >= 0, not {value!r}")
    return float(value)
