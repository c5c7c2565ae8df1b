"""``hyperplane catalog``: the instance types and their network figures, as the catalog holds them."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict

import click
from rich.table import Table

from hyperplane.cli.options import BadInput, console
from hyperplane.ena import InstanceType, instance_types


def _matching(pattern: str | None) -> list[InstanceType]:
    types = instance_types()
    if not pattern:
        return types
    p = pattern.lower()
    if not any(ch in p for ch in "*?["):
        p = f"{p}*" if "." in p else f"{p}.*"
    return [t for t in types if fnmatch.fnmatchcase(t.name, p)]


@click.command()
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON, with their sources")
def catalog(pattern: str | None, as_json: bool) -> None:
    """The instance types (a family such as c5, a type such as c5.large, or a glob) and their network figures.

    Figures marked * are estimates (unpublished); --json gives each figure's source.

    \b
    Examples:
      hyperplane catalog c5
      hyperplane catalog 'c5n.*' --json
    """
    types = _matching(pattern)
    if not types:
        families = sorted({t.family.lower() for t in instance_types()})
        raise BadInput(f"no instance type matches {pattern!r}; families: {', '.join(families)}")
    if as_json:
        rows = [asdict(t) | {"estimates": sorted(t.estimates), "sources": dict(t.sources)} for t in types]
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    table = Table(title="Instance types (Gbps per direction; pps in and out together)", title_justify="left")
    columns = (("type", "name"), ("vCPU", "vcpus"), ("base Gbps", "baseline_gbps"), ("burst", "burst_gbps"),
               ("pps", "pps"), ("conntrack", "conntrack"), ("queues", "queues"), ("flow Gbps", "single_flow_gbps"),
               ("beyond region", "bw_elsewhere_gbps"))
    for title, _ in columns:
        table.add_column(title, justify="left" if title == "type" else "right", no_wrap=title == "type")
    for t in types:
        cells = []
        for _, name in columns:
            value = getattr(t, name)
            text = f"{value:,}" if isinstance(value, int) else f"{value:g}" if isinstance(value, float) else str(value)
            cells.append(text + ("*" if name in t.estimates else ""))
        table.add_row(*cells)
    console().print(table)
