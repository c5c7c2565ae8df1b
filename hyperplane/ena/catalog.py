"""The EC2 instance-type catalog: what each type gives an ENA interface.

The figures live in ``instance_types.toml`` beside this module, one table per
size, each figure with the source it comes from. AWS publishes some of them
(vCPUs, interfaces per instance, addresses per interface, bandwidth classes,
the C5/C5n baseline bandwidths, the 1024 pps link-local limit, the single-flow
limits) and not others (packets per second, tracked connections, latency), so
every :class:`InstanceType` says which of its figures are estimates
(:attr:`InstanceType.estimates`) and where each figure comes from
(:attr:`InstanceType.sources`). ``docs/instance-types.md`` derives every
estimate.

>>> from hyperplane import ena
>>> t = ena.instance_type("c5.large")
>>> t.enis, t.ipv4_per_eni, t.baseline_gbps, t.burst_gbps, t.queues
(3, 10, 0.75, 10.0, 2)
>>> "pps" in t.estimates
True
>>> t.with_overrides(pps=3_000_000).pps
3000000
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, get_args

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

EnhancedNetworking = Literal["none", "intel-82599-vf", "ena"]
"""How the instance reaches the network: the Xen split driver (``none``),
SR-IOV with an Intel 82599 virtual function, or the Elastic Network Adapter."""

Hypervisor = Literal["xen", "nitro"]

ENHANCED_NETWORKING: Final[tuple[str, ...]] = get_args(EnhancedNetworking)
HYPERVISORS: Final[tuple[str, ...]] = get_args(Hypervisor)

INT_FIGURES: Final[tuple[str, ...]] = (
    "vcpus",
    "queues",
    "max_queues_per_eni",
    "enis",
    "ipv4_per_eni",
    "pps",
    "conntrack",
    "link_local_pps",
    "mtu",
    "ecs_trunk_tasks",
)
FLOAT_FIGURES: Final[tuple[str, ...]] = (
    "memory_gib",
    "baseline_gbps",
    "burst_gbps",
    "latency_us",
    "single_flow_gbps",
    "single_flow_placement_group_gbps",
    "bw_placement_group_gbps",
    "bw_region_gbps",
    "bw_s3_gbps",
    "bw_elsewhere_gbps",
)
STR_FIGURES: Final[tuple[str, ...]] = ("network_performance", "enhanced_networking", "hypervisor")

FIGURES: Final[tuple[str, ...]] = (
    "vcpus",
    "memory_gib",
    "network_performance",
    "baseline_gbps",
    "burst_gbps",
    "enhanced_networking",
    "hypervisor",
    "queues",
    "max_queues_per_eni",
    "enis",
    "ipv4_per_eni",
    "pps",
    "conntrack",
    "link_local_pps",
    "latency_us",
    "mtu",
    "single_flow_gbps",
    "single_flow_placement_group_gbps",
    "bw_placement_group_gbps",
    "bw_region_gbps",
    "bw_s3_gbps",
    "bw_elsewhere_gbps",
    "ecs_trunk_tasks",
)
"""Every field of :class:`InstanceType` that carries a source and can be overridden."""

OVERRIDE_SOURCE: Final = "override: set by the caller with InstanceType.with_overrides()"

_DATA_FILE: Final = "instance_types.toml"
_SCHEMA: Final = 1
_REF = re.compile(r"\{([a-z0-9][a-z0-9-]*)\}")


class Sources(Mapping[str, str]):
    """A read-only mapping of figure name to source text. Unlike ``types.MappingProxyType`` it
    pickles and deep-copies, so instance types travel to worker processes with scenarios."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Sources({self._items!r})"

    def __reduce__(self) -> tuple[type[Sources], tuple[dict[str, str]]]:
        return (Sources, (self._items,))


class CatalogError(ValueError):
    """A catalog file that cannot be used: bad TOML, a missing figure or source, a bad value."""


@dataclass(frozen=True, kw_only=True)
class InstanceType:
    """One EC2 instance size and what it gives its network interfaces.

    Bandwidths are in Gbps (10^9 bit/s) and apply to each direction; ``pps``
    counts packets in and out together, as AWS's PPS allowance does.
    ``bw_*_gbps`` are aggregate ceilings by destination; the baseline and the
    single-flow limits still apply inside them.
    """

    name: str
    """``"c5.large"``."""
    family: str
    """``"C5"``, as AWS writes it."""
    size: str
    """``"large"``."""

    vcpus: int
    memory_gib: float
    network_performance: str
    """The published class: ``"Moderate"``, ``"High"``, ``"Up to 10 Gigabit"``, ``"25 Gigabit"``, ..."""
    baseline_gbps: float
    """Bandwidth the instance can sustain."""
    burst_gbps: float
    """Bandwidth while network I/O credits last (equal to the baseline where there is no credit mechanism)."""
    enhanced_networking: EnhancedNetworking
    hypervisor: Hypervisor
    queues: int
    """Receive/transmit queue pairs per interface by default (RSS spreads flows over them)."""
    max_queues_per_eni: int
    """The device's cap on queues per interface: 1 (Xen split driver), 2 (82599 VF), 8 or 32 (ENA)."""
    enis: int
    """Network interfaces the instance can have."""
    ipv4_per_eni: int
    """Private IPv4 addresses per interface."""
    pps: int
    """Packets per second, in and out together, before ``pps_allowance_exceeded``."""
    conntrack: int
    """Tracked connections before ``conntrack_allowance_exceeded``."""
    link_local_pps: int
    """Packets per second per interface to link-local services (DNS resolver, IMDS, Time Sync)."""
    latency_us: float
    """Latency class: upper bound of the typical one-way latency between two such instances in one placement group."""
    mtu: int
    """Largest MTU inside a VPC (9001 with jumbo frames, else 1500)."""
    single_flow_gbps: float
    """Bandwidth of one 5-tuple flow outside a cluster placement group."""
    single_flow_placement_group_gbps: float
    """Bandwidth of one 5-tuple flow inside a cluster placement group."""
    bw_placement_group_gbps: float
    """Aggregate bandwidth to instances in the same cluster placement group."""
    bw_region_gbps: float
    """Aggregate bandwidth to destinations in the same Region."""
    bw_s3_gbps: float
    """Aggregate bandwidth to Amazon S3 in the same Region."""
    bw_elsewhere_gbps: float
    """Aggregate bandwidth to other Regions, an internet gateway or Direct Connect."""
    ecs_trunk_tasks: int
    """``awsvpc`` tasks an ECS container instance of this type runs with ENI trunking (the
    ECS table's "Task limit with ENI trunking"); 0 when the type does not support trunking.
    Without trunking the limit is ``enis - 1``: the primary interface counts."""

    estimates: frozenset[str] = field(default=frozenset(), repr=False)
    """Names of the figures that are estimates rather than published values."""
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    """Where each figure comes from, by field name (read-only)."""

    def __post_init__(self) -> None:
        for name in ("name", "family", "size"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty string, not {value!r}")
        for name in INT_FIGURES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {value!r}")
        for name in FLOAT_FIGURES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {value!r}")
            object.__setattr__(self, name, float(value))
        for name in STR_FIGURES:
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty string, not {value!r}")
        if self.enhanced_networking not in ENHANCED_NETWORKING:
            raise ValueError(
                f"enhanced_networking must be one of {', '.join(ENHANCED_NETWORKING)}, "
                f"not {self.enhanced_networking!r}"
            )
        if self.hypervisor not in HYPERVISORS:
            raise ValueError(f"hypervisor must be one of {', '.join(HYPERVISORS)}, not {self.hypervisor!r}")
        for name in INT_FIGURES + FLOAT_FIGURES:
            if name in ("latency_us", "ecs_trunk_tasks"):  # 0: no latency / no trunking
                if not getattr(self, name) >= 0:
                    raise ValueError(f"{name} must be >= 0, not {getattr(self, name)!r}")
            elif not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.burst_gbps < self.baseline_gbps:
            raise ValueError(f"burst_gbps ({self.burst_gbps}) is below baseline_gbps ({self.baseline_gbps})")
        if self.queues > self.max_queues_per_eni:
            raise ValueError(f"queues ({self.queues}) exceeds max_queues_per_eni ({self.max_queues_per_eni})")
        if not 68 <= self.mtu <= 9216:
            raise ValueError(f"mtu must be in 68..9216, not {self.mtu}")

        estimates = frozenset(self.estimates)
        unknown = sorted(estimates - set(FIGURES))
        if unknown:
            raise ValueError(f"estimates names fields that are not figures: {', '.join(unknown)}")
        object.__setattr__(self, "estimates", estimates)
        sources = dict(self.sources)
        unknown = sorted(set(sources) - set(FIGURES))
        if unknown:
            raise ValueError(f"sources names fields that are not figures: {', '.join(unknown)}")
        missing = [name for name in FIGURES if not isinstance(sources.get(name), str) or not sources[name]]
        if missing:
            raise ValueError(f"{self.name}: no source for {', '.join(missing)}")
        object.__setattr__(self, "sources", Sources(sources))

    def with_overrides(self, **figures: Any) -> InstanceType:
        """A copy with some figures replaced, e.g. ``t.with_overrides(pps=3_000_000)``.

        Any name in :data:`FIGURES` can be given. An overridden figure is no
        longer counted as an estimate; its source becomes :data:`OVERRIDE_SOURCE`.
        Unknown names raise ``ValueError``; values are checked as the catalog's are.
        """
        unknown = sorted(set(figures) - set(FIGURES))
        if unknown:
            raise ValueError(
                f"cannot override {', '.join(map(repr, unknown))}: not a figure of InstanceType; "
                f"the figures are {', '.join(FIGURES)}"
            )
        sources = dict(self.sources)
        sources.update({name: OVERRIDE_SOURCE for name in figures})
        return dataclasses.replace(
            self,
            **figures,
            estimates=self.estimates - figures.keys(),
            sources=sources,
        )

    def as_dict(self) -> dict[str, Any]:
        """Name, family, size and every figure, as plain values (no sources)."""
        out: dict[str, Any] = {"name": self.name, "family": self.family, "size": self.size}
        out.update({name: getattr(self, name) for name in FIGURES})
        return out


def _sort_key(families: tuple[str, ...]) -> Any:
    order = {name: i for i, name in enumerate(families)}

    def key(t: InstanceType) -> tuple[int, int, float, str]:
        return (order[t.family], t.vcpus, t.memory_gib, t.name)

    return key


def _close(word: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(word, list(candidates), n=5, cutoff=0.6)


class Catalog:
    """A set of instance types: the packaged one (:func:`default_catalog`) or one loaded from a file."""

    def __init__(self, types: Iterable[InstanceType], families: Iterable[str]) -> None:
        self.families: tuple[str, ...] = tuple(families)
        ordered = sorted(types, key=_sort_key(self.families))
        self._by_name: dict[str, InstanceType] = {}
        for t in ordered:
            if t.name in self._by_name:
                raise CatalogError(f"instance type {t.name!r} appears twice")
            self._by_name[t.name] = t

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[InstanceType]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._by_name

    @property
    def names(self) -> list[str]:
        """Every type name, in catalog order."""
        return list(self._by_name)

    def get(self, name: str) -> InstanceType:
        """The type called ``name`` (case-insensitive); ``ValueError`` naming close matches otherwise."""
        if not isinstance(name, str):
            raise TypeError(f"instance type name must be a string, not {type(name).__name__}")
        key = name.strip().lower()
        try:
            return self._by_name[key]
        except KeyError:
            pass
        matches = _close(key, self._by_name)
        if matches:
            hint = f"did you mean {', '.join(matches)}?"
        else:
            hint = f"the catalog covers the families {', '.join(self.families)}; ena.instance_types() lists them all"
        raise ValueError(f"unknown instance type {name!r}: {hint}")

    def family(self, name: str) -> str:
        """The catalog's spelling of family ``name`` (``"c5n"`` -> ``"C5n"``)."""
        by_lower = {f.lower(): f for f in self.families}
        try:
            return by_lower[name.strip().lower()]
        except KeyError:
            matches = [by_lower[m] for m in _close(name.strip().lower(), by_lower)]
            hint = f"did you mean {', '.join(matches)}?" if matches else f"families: {', '.join(self.families)}"
            raise ValueError(f"unknown instance family {name!r}: {hint}") from None

    def types(self, family: str | None = None) -> list[InstanceType]:
        """Every type, or one family's, sorted by family (catalog order) then size."""
        if family is None:
            return list(self._by_name.values())
        wanted = self.family(family)
        return [t for t in self._by_name.values() if t.family == wanted]


# ---- loading -----------------------------------------------------------------------------


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where} must be a table")
    return value


def _expand(text: str, refs: Mapping[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        try:
            return refs[m.group(1)]
        except KeyError:
            raise CatalogError(f"{where}: unknown reference {{{m.group(1)}}}") from None

    return _REF.sub(sub, text)


def _source(entry: object, refs: Mapping[str, str], where: str) -> tuple[str, bool]:
    """(expanded text, is an estimate) for one source entry."""
    if isinstance(entry, str):
        text, estimate = entry, False
    elif isinstance(entry, dict):
        extra = sorted(set(entry) - {"source", "estimate"})
        if extra or not isinstance(entry.get("source"), str):
            raise CatalogError(f"{where}: a source table takes 'source' (a string) and 'estimate' only")
        estimate = entry.get("estimate", False)
        if not isinstance(estimate, bool):
            raise CatalogError(f"{where}: 'estimate' must be true or false")
        text = entry["source"]
    else:
        raise CatalogError(f"{where}: a source is a string or a table, not {type(entry).__name__}")
    text = text.strip()
    if not text:
        raise CatalogError(f"{where}: empty source")
    says_estimate = text.lower().startswith("estimate")
    if estimate and not says_estimate:
        raise CatalogError(f"{where}: an estimate's source must start with 'estimate:' and give the derivation")
    if says_estimate and not estimate:
        raise CatalogError(f"{where}: the source reads as an estimate but is not marked estimate = true")
    return _expand(text, refs, where), estimate


def _layer(table: Mapping[str, Any], where: str, allow: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a defaults/family/type table into (figure values, source entries)."""
    allowed = set(FIGURES) | set(allow) | {"sources"}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = {k: v for k, v in table.items() if k in FIGURES}
    sources = _table(table.get("sources", {}), f"{where}.sources")
    unknown = sorted(set(sources) - set(FIGURES))
    if unknown:
        raise CatalogError(f"{where}.sources: not figures: {', '.join(unknown)}")
    return values, dict(sources)


def parse_catalog(doc: Mapping[str, Any], origin: str = "<catalog>") -> Catalog:
    """Build a :class:`Catalog` from an already-parsed TOML document (see ``instance_types.toml``)."""
    if doc.get("schema") != _SCHEMA:
        raise CatalogError(f"{origin}: schema must be {_SCHEMA}, not {doc.get('schema')!r}")
    unknown = sorted(set(doc) - {"schema", "refs", "defaults", "families", "types"})
    if unknown:
        raise CatalogError(f"{origin}: unknown top-level key(s) {', '.join(unknown)}")
    refs = _table(doc.get("refs", {}), f"{origin}: [refs]")
    for key, text in refs.items():
        if not _REF.fullmatch("{" + key + "}") or not isinstance(text, str) or not text.strip():
            raise CatalogError(f"{origin}: [refs] {key!r} must be a lowercase key with non-empty text")
    defaults = _table(doc.get("defaults", {}), f"{origin}: [defaults]")
    default_values, default_sources = _layer(defaults, f"{origin}: [defaults]")

    families: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for fam, table in _table(doc.get("families", {}), f"{origin}: [families]").items():
        families[fam] = _layer(_table(table, f"{origin}: [families.{fam}]"), f"{origin}: [families.{fam}]")
    if not families:
        raise CatalogError(f"{origin}: no [families]")

    raw_types = doc.get("types", [])
    if not isinstance(raw_types, list) or not raw_types:
        raise CatalogError(f"{origin}: no [[types]]")
    built: list[InstanceType] = []
    for i, raw in enumerate(raw_types):
        table = _table(raw, f"{origin}: [[types]] #{i + 1}")
        name = table.get("name")
        where = f"{origin}: {name!r}" if isinstance(name, str) else f"{origin}: [[types]] #{i + 1}"
        kin = table.get("family")
        if not isinstance(name, str) or not isinstance(kin, str):
            raise CatalogError(f"{where}: a type needs a name and a family (strings)")
        if kin not in families:
            raise CatalogError(f"{where}: unknown family {kin!r}")
        prefix = kin.lower() + "."
        if not name.startswith(prefix) or len(name) == len(prefix) or name != name.lower():
            raise CatalogError(f"{where}: a {kin} type is named '{prefix}<size>' in lowercase")
        values, sources = _layer(table, where, allow=("name", "family"))
        fam_values, fam_sources = families[kin]
        merged = {**default_values, **fam_values, **values}
        entries = {**default_sources, **fam_sources, **sources}
        missing = [f for f in FIGURES if f not in merged]
        if missing:
            raise CatalogError(f"{where}: no value for {', '.join(missing)}")
        resolved: dict[str, str] = {}
        estimates: set[str] = set()
        for f in FIGURES:
            if f not in entries:
                raise CatalogError(f"{where}: no source for {f}")
            text, estimate = _source(entries[f], refs, f"{where}: source of {f}")
            resolved[f] = text
            if estimate:
                estimates.add(f)
        try:
            built.append(
                InstanceType(
                    name=name,
                    family=kin,
                    size=name[len(prefix) :],
                    estimates=frozenset(estimates),
                    sources=resolved,
                    **merged,
                )
            )
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"{where}: {exc}") from exc
    used = {t.family for t in built}
    empty = [f for f in families if f not in used]
    if empty:
        raise CatalogError(f"{origin}: families without sizes: {', '.join(empty)}")
    return Catalog(built, families)


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load a catalog file; without ``path``, the one shipped in the package."""
    if path is None:
        origin = f"hyperplane/ena/{_DATA_FILE}"
        data = resources.files("hyperplane.ena").joinpath(_DATA_FILE).read_bytes()
    else:
        origin = os.fspath(path)
        data = Path(path).read_bytes()
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{origin}: {exc}") from exc
    return parse_catalog(doc, origin)


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with hyperplane (loaded once)."""
    return load_catalog()


def instance_type(name: str) -> InstanceType:
    """The instance type called ``name``, e.g. ``"c5.large"``.

    Unknown names raise ``ValueError`` naming the closest matches.
    """
    return default_catalog().get(name)


def instance_types(family: str | None = None) -> list[InstanceType]:
    """Every catalogued type (or one family's), sorted by family then size.

    Families come in catalog order: the compute families in launch order (C1,
    CC1, CC2, C3, C4, C5, C5n), then the general-purpose, memory and burstable
    ones ECS clusters ran on (M4, M5, R4, R5, T2, T3). Sizes go by vCPUs, then
    memory.
    """
    return default_catalog().types(family)


def families() -> list[str]:
    """The catalogued families, in catalog (launch) order."""
    return list(default_catalog().families)
