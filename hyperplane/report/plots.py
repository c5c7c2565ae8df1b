"""The plots of a run's report and of a sweep's, drawn with matplotlib from the report's data alone.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot): no global state, no display,
safe in worker processes. Each plot exists only where the run has its data (``available``):
a NAT run has CloudWatch metrics per minute, an ENA run latency quantiles, both a balance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

PLOTS = ("metrics", "drops_by_reason", "latency", "balance")
"""Metrics over time (CloudWatch's per minute, else the counters per window), packets by verdict
over time, latency quantiles, and the balance over public addresses, targets or queues."""


def available(data: Mapping[str, Any]) -> list[str]:
    """The plots this run's report can draw, in :data:`PLOTS` order, limited to those it asked for."""
    wanted = data.get("scenario", {}).get("document", {}).get("report", {}).get("plots") or PLOTS
    metrics = {k: v for k, v in (data.get("metrics") or data.get("series", {}).get("counters") or {}).items() if k != "Timestamp"}
    has = {
        "metrics": any(any(v) for v in metrics.values()),
        "drops_by_reason": bool(data.get("series", {}).get("t_s")),
        "latency": bool(data.get("latency")),
        "balance": bool(data.get("balance", {}).get("values")),
    }
    return [name for name in PLOTS if has[name] and name in wanted]


def figure(data: Mapping[str, Any], name: str) -> Figure:
    """The plot ``name`` of a run's report."""
    if name not in PLOTS:
        raise ValueError(f"no plot {name!r}; plots: {', '.join(PLOTS)}")
    if name not in available(data) and name in {"latency", "balance", "metrics"}:
        raise ValueError(f"this run has no data for the {name!r} plot; it has: {', '.join(available(data))}")
    return {"metrics": _metrics, "drops_by_reason": _drops, "latency": _latency, "balance": _balance}[name](data)


def _metrics(data: Mapping[str, Any]) -> Figure:
    if data.get("metrics"):
        metrics = {k: v for k, v in data["metrics"].items() if k != "Timestamp" and any(v)}
        x = [t / 60e9 for t in data["metrics"]["Timestamp"]]
        xlabel, title = "minute of packet time", "CloudWatch metrics per minute"
    else:
        metrics = {k: v for k, v in data["series"]["counters"].items() if any(v)}
        x = data["series"]["t_s"]
        xlabel, title = "packet time (s)", "counters per window"
    count = max(1, len(metrics))
    cols = min(3, count)
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(4.2 * cols, 2.6 * rows + 0.6), layout="constrained")
    fig.suptitle(f"{data['scenario']['name']}: {title} (those not always 0)")
    for k, (metric, values) in enumerate(metrics.items()):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.plot(x[:len(values)], values, marker="o" if len(values) < 20 else None, color=f"C{k % 10}")
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return fig


def _drops(data: Mapping[str, Any]) -> Figure:
    series = data["series"]
    t = series["t_s"]
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    reasons = {k: v for k, v in series["verdicts"].items() if k != "FORWARD"}
    if "FORWARD" in series["verdicts"]:
        ax.plot(t, series["verdicts"]["FORWARD"], color="black", label="FORWARD", linewidth=1.5, drawstyle="steps-pre")
    if reasons:
        ax.stackplot(t, *reasons.values(), labels=list(reasons), alpha=0.75, step="pre")
    ax.set_xlabel("packet time (s), each window at its end")
    ax.set_ylabel(f"packets per {data['scenario']['window_s']:g} s window")
    ax.set_title(f"{data['scenario']['name']}: verdicts by reason" + ("" if reasons else " (nothing dropped)"))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(alpha=0.3)
    for event in data.get("events", []):
        ax.axvline(event["at_s"], color="grey", linestyle=":", linewidth=1)
    return fig


def _latency(data: Mapping[str, Any]) -> Figure:
    lat = data["latency"]
    names = [n for n in ("p50", "p99", "p999", "max") if n in lat]
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(names, [lat[n] / 1000 for n in names], color=["C0", "C1", "C3", "C7"][:len(names)])
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_ylabel("µs")
    ax.set_title(f"Latency of the {lat.get('count', 0):,} forwarded packets")
    ax.grid(alpha=0.3, axis="y")
    return fig


def _balance(data: Mapping[str, Any]) -> Figure:
    balance = data["balance"]
    labels, values = list(balance["values"]), list(balance["values"].values())
    fig = Figure(figsize=(max(5.0, 0.45 * len(labels) + 2), 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(labels)), values, color="C2")
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center",
                  fontsize=8)
    ax.set_title(f"{data['scenario']['name']}: {balance['label']}")
    ax.grid(alpha=0.3, axis="y")
    return fig


def save_plots(data: Mapping[str, Any], directory: Path) -> list[Path]:
    """Every available plot as PNG and SVG in ``directory``."""
    written = []
    for name in available(data):
        fig = figure(data, name)
        for ext in ("png", "svg"):
            path = directory / f"{name}.{ext}"
            fig.savefig(path, dpi=110)
            written.append(path)
    return written


def png_bytes(fig: Figure) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def sweep_figure(rows: list[Mapping[str, Any]], keys: list[str], metric: str) -> Figure:
    """``metric`` against the first swept key, one line per combination of the other keys."""
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    first, others = keys[0], keys[1:]
    groups: dict[tuple[Any, ...], list[tuple[Any, float]]] = {}
    for row in rows:
        if row.get("error") is None and metric in row["values"]:
            groups.setdefault(tuple(row["point"][k] for k in others), []).append((row["point"][first], row["values"][metric]))
    numeric = all(isinstance(x, int | float) for g in groups.values() for x, _ in g)
    for k, (group, points) in enumerate(sorted(groups.items(), key=lambda g: str(g[0]))):
        points.sort(key=lambda p: p[0] if numeric else str(p[0]))
        label = ", ".join(f"{o}={v}" for o, v in zip(others, group)) or None
        ax.plot([p[0] if numeric else str(p[0]) for p in points], [p[1] for p in points], marker="o", label=label,
                color=f"C{k % 10}")
    ax.set_xlabel(first)
    ax.set_title(metric)
    ax.grid(alpha=0.3)
    if others:
        ax.legend(fontsize=8)
    return fig
