"""A run's and a sweep's report as terminal tables (rich), read from the report's data alone.

``hyperplane run`` prints these when a run ends and ``hyperplane report DIR`` prints them again
from the saved ``report.json``; the HTML page shows the same rows (:func:`sections`), so the
three never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

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
    if data.get("balance", {}).get("values"):
        values = data["balance"]["values"]
        rows = [(str(k), _n(v)) for k, v in list(values.items())[:24]]
        if len(values) > 24:
            rows.append((f"... {len(values) - 24} more", ""))
        total = sum(values.values())
        if values and total:
            rows.append(("max / mean", f"{max(values.values()) / (total / len(values)):.3f}"))
        out.append((str(data["balance"]["label"]).capitalize(), ("", ""), rows))
    if data.get("events"):
        out.append(("Events", ("at", "event", "from"), [(f"{e['at_s']:g} s", e["text"], e["origin"]) for e in data["events"]]))
    for snap in data.get("snapshots", []):
        flows = snap["flows"]
        out.append((f"Flows per target after {snap['event']}", ("target", "flows"), [(k, _n(v)) for k, v in flows.items()]))
    if data.get("checks"):
        rows = [(str(c["value"]), "" if c["min"] is None else _n(c["min"]), "" if c["max"] is None else _n(c["max"]),
                 _n(c["actual"]), "ok" if c["ok"] else "FAILED") for c in data["checks"]]
        out.append(("Checks", ("value", "min", "max", "actual", "result"), rows))
    return out


def _table(title: str, columns: tuple[str, ...], rows: Rows) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=any(columns))
    for k, col in enumerate(columns):
        table.add_column(col, justify="right" if k and col in ("packets", "value", "share", "µs", "flows", "actual") else "left",
                         overflow="fold")
    for row in rows:
        style = "red" if row and row[-1] == "FAILED" else None
        table.add_row(*row, style=style)
    return table


def print_run(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    for title, columns, rows in sections(data):
        console.print(_table(title, columns, rows))


def sweep_rows(data: Mapping[str, Any]) -> tuple[tuple[str, ...], Rows]:
    """The sweep's one table: a row per point, its swept values and its results."""
    keys = data["keys"]
    metrics = data["metrics"]
    columns = ("#", *keys, *metrics, "result")
    rows = []
    for k, p in enumerate(data["points"]):
        values = p.get("values", {})
        result = "error: " + p["error"] if p.get("error") else "ok" if p.get("ok", True) else "check failed"
        rows.append((str(k), *(str(p["point"][key]) for key in keys), *(_n(values[m]) if m in values else "" for m in metrics),
                     result))
    return columns, rows


def print_sweep(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    columns, rows = sweep_rows(data)
    console.print(_table(f"Sweep of {data['scenario']} ({len(rows)} points)", columns, rows))
