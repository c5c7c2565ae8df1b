"""The benchmark's report as ``hyperplane bench`` prints it, and the machine it ran on."""

from __future__ import annotations

import platform
from functools import cache
from typing import Any


@cache
def cpu_name() -> str:
    """The CPU's model name, as the report names the machine."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def format_table(report: dict[str, Any]) -> str:
    """The report as the text table ``hyperplane bench`` prints."""
    cfg = report["config"]
    head = (
        f"hyperplane bench: {cfg['packets']:,}-packet synthetic trace ({cfg['flows']:,} flows), "
        f"{cfg['lookups']:,} lookups per table size, median of {cfg['rounds']} rounds "
        f"({report['machine']['cpu']}, {report['machine']['cores']} cores)"
    )
    cols = ["stage", "Mpps", "ns/pkt", "vs baselines (x their rate)"] + [t["name"] for t in report["targets"]]
    rows, notes = [], []
    for s in report["stages"]:
        if s["skipped"]:
            rows.append([s["name"], "-", "-", "skipped (see below)"] + ["-"] * len(report["targets"]))
            notes.append(f"{s['name']}: skipped: {s['skipped']}")
            continue
        ratios = ", ".join(f"{v:.2f}x {k}" for k, v in s["baselines"].items() if v is not None)
        rows.append([s["name"], f"{s['mpps']:.1f}", f"{s['ns_per_packet']:.2f}", ratios]
                    + [f"{v:.1f}x" for v in s["interfaces_per_core"].values()])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in (0, 3) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    targets = "; ".join(f"{t['name']} = {t['mpps']:.2f} Mpps" for t in report["targets"])
    return "\n".join(
        [head, "", line(cols), line(["-" * w for w in widths]), *map(line, rows), "",
         "Target columns: how many such interfaces one core keeps up with in real time",
         f"({targets}).", *notes]
    )
