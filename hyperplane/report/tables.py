"""A run's and a sweep's report as terminal tables (rich), read from the report's data alone.

``hyperplane run`` prints these when a run ends and ``hyperplane report DIR`` prints them again
from the saved ``report.json``; the HTML page shows the same rows (:func:`sections`), so the
three never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hyperplane.verdict import Verdict

Rows = list[tuple[str, ...]]
Section = tuple[str, tuple[str, ...], Rows]


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def sections(data: Mapping[str, Any]) -> list[Section]:
    """The report's tables as (title, column names, rows of text)."""
    s = data["scenario"]
    packets = data["packets"]
    t = data["timings"]
    out: list[Section] = [("Run", ("", ""), [
        ("scenario", s["name"]), ("kind", s["kind"]), ("stage", data["stage"]),
        ("seed", f"{data['seed']}" + (" (drawn: pass it to replay this run)" if data.get("seed_drawn") else "")),
        ("packet time", f"{s['duration_s']:g} s in windows of {s['window_s']:g} s"),
        ("packets", _n(packets)),
        ("wall time", f"{t['wall_s']:.2f} s ({t['packets_per_s'] / 1e6:.2f} Mpps through the stage)"),
    ])]
    rows: Rows = []
    for name, count in data["verdicts"].items():
        rows.append((str(name), Verdict[name].label, _n(count), f"{100 * count / packets:.2f} %" if packets else "-"))
    out.append(("Packets by verdict", ("verdict", "meaning", "packets", "share"), rows))
    if data.get("metrics"):
        rows = []
        for name, values in data["metrics"].items():
            if name == "Timestamp":
                continue
            first = name in ("ActiveConnectionCount", "ActiveFlowCount")
            rows.append((str(name), "max" if first else "sum", _n(max(values, default=0) if first else sum(values)),
                         " ".join(_n(v) for v in values[:12]) + (" ..." if len(values) > 12 else "")))
        out.append(("CloudWatch metrics", ("metric", "over the run", "value", "per minute"), rows))
    counters = {k: v for k, v in data.get("counters", {}).items() if v}
    if counters:
        out.append(("Counters", ("counter", "value"), [(k, _n(v)) for k, v in counters.items()]))
    if data.get("latency"):
        lat = data["latency"]
        out.append(("Latency", ("quantile", "µs"), [(k, f"{lat[k] / 1000:,.2f}") for k in ("p50", "p99", "p999", "max")
                                                     if k in lat]))
    balance = data.get("balance", {}).get("values")
    snapshots = data.get("snapshots", [])
    if balance and snapshots:
        columns = ("target", *(f"after {snap['at_s']:g} s" for snap in snapshots), "at the end")
        rows = [(str(k), *(_n(snap["flows"].get(k, 0)) for snap in snapshots), _n(v)) for k, v in balance.items()]
        out.append(("Flows per target, after each event", columns, rows))
    elif balance:
        rows = [(str(k), _n(v)) for k, v in list(balance.items())[:24]]
        if len(balance) > 24:
            rows.append((f"... {len(balance) - 24} more", ""))
        total = sum(balance.values())
        if total:
            rows.append(("max / mean", f"{max(balance.values()) / (total / len(balance)):.3f}"))
        out.append((str(data["balance"]["label"]).capitalize(), ("", ""), rows))
    if data.get("cross_az"):
        out.append(("Traffic between zones", ("from", "to", "packets", "bytes"),
                    [(c["from"], c["to"], _n(c["packets"]), _n(c["bytes"])) for c in data["cross_az"]]))
    if data.get("advice"):
        out.append(("Advice", ("",), [(a,) for a in data["advice"]]))
    if data.get("events"):
        out.append(("Events", ("at", "event", "from"), [(f"{e['at_s']:g} s", e["text"], e["origin"]) for e in data["events"]]))
    if data.get("checks"):
        rows = [(str(c["value"]), "" if c["min"] is None else _n(c["min"]), "" if c["max"] is None else _n(c["max"]),
                 _n(c["actual"]), "ok" if c["ok"] else "FAILED") for c in data["checks"]]
        out.append(("Checks", ("value", "min", "max", "actual", "result"), rows))
    return out


def numeric(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "", 1).replace(" %", "").lstrip("-").isdigit()


def _table(title: str, columns: tuple[str, ...], rows: Rows) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=any(columns))
    for k, col in enumerate(columns):
        cells = [row[k] for row in rows if k < len(row) and row[k]]
        right = k > 0 and bool(cells) and all(numeric(c) for c in cells)
        table.add_column(col, justify="right" if right else "left", overflow="fold")
    for row in rows:
        style = "red" if row and row[-1] in ("FAILED", "error", "check failed") else None
        table.add_row(*(Text(cell) for cell in row), style=style)
    return table


def print_run(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    for title, columns, rows in sections(data):
        console.print(_table(title, columns, rows))


def swept(data: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The keys whose values change between points, and those every point shares (with their value)."""
    keys = data["keys"]
    points = [p["point"] for p in data["points"]]
    varying = [k for k in keys if len({json.dumps(p[k], sort_keys=True) for p in points}) > 1]
    return varying, {k: points[0][k] for k in keys if k not in varying} if points else {}


def sweep_rows(data: Mapping[str, Any]) -> tuple[tuple[str, ...], Rows]:
    """The sweep's one table: a row per point, its swept values and its results (errors are listed apart)."""
    keys, _ = swept(data)
    metrics = data["metrics"]
    columns = ("#", *keys, *metrics, "result")
    rows = []
    for k, p in enumerate(data["points"]):
        values = p.get("values", {})
        result = "error" if p.get("error") else "ok" if p.get("ok", True) else "check failed"
        rows.append((str(k), *(str(p["point"][key]) for key in keys), *(_n(values[m]) if m in values else "" for m in metrics),
                     result))
    return columns, rows


def sweep_title(data: Mapping[str, Any]) -> str:
    _, shared = swept(data)
    fixed = f", all with {', '.join(f'{k}={v}' for k, v in shared.items())}" if shared else ""
    return f"Sweep of {data['scenario']} ({len(data['points'])} points{fixed})"


def print_sweep(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    columns, rows = sweep_rows(data)
    console.print(_table(sweep_title(data), columns, rows))
    for k, p in enumerate(data["points"]):
        if p.get("error"):
            console.print(f"point {k}: {p['error']}", markup=False, highlight=False)
