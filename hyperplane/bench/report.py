"""The benchmark's report as ``hyperplane bench`` prints it, and the machine it ran on."""

from __future__ import annotations

import io
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


def format_table(report: dict[str, Any], width: int = 100) -> str:
    """The report as the table ``hyperplane bench`` prints, at most ``width`` columns wide."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cfg = report["config"]
    head = (
        f"hyperplane bench: {cfg['packets']:,}-packet synthetic trace ({cfg['flows']:,} flows), "
        f"{cfg['lookups']:,} lookups per table size, median of {cfg['rounds']} rounds "
        f"({report['machine']['cpu']}, {report['machine']['cores']} cores)"
    )
    line_target = report["targets"][0]
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("stage", overflow="fold")
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("ns each", justify="right", no_wrap=True)
    table.add_column("vs baselines (x their rate)", overflow="fold", ratio=1)
    table.add_column(f"x {line_target['name']}", justify="right", no_wrap=True)
    notes = []
    for s in report["stages"]:
        if s["skipped"]:
            table.add_row(Text(s["name"]), "-", "-", "skipped (see below)", "-")
            notes.append(f"{s['name']}: skipped: {s['skipped']}")
            continue
        unit = "Mpps" if s.get("unit", "packets") == "packets" else f"M {s['unit']}/s"
        ratios = ", ".join(f"{v:.2f}x {k}" for k, v in s["baselines"].items() if v is not None)
        multiple = s.get("interfaces_per_core", {}).get(line_target["name"])
        table.add_row(Text(s["name"]), f"{s['mpps']:.1f} {unit}", f"{s['ns_per_packet']:.2f}", Text(ratios),
                      "-" if multiple is None else f"{multiple:.1f}x")
    targets = "; ".join(f"{t['name']} = {t['mpps']:.2f} Mpps" for t in report["targets"])
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None, soft_wrap=False)
    console.print(head, "", table, "", highlight=False, markup=False, sep="\n")
    console.print(
        f"x {line_target['name']}: how many such interfaces one core keeps up with in real time (--json gives "
        f"every target: {targets}). Stages named ...x2 run the same work on 2 threads (the queues split "
        "between them); their ratio is against the 1-thread row. Maglev builds count table slots, not packets.",
        highlight=False, markup=False)
    for note in notes:  # whole, unwrapped: a reason is a message to copy
        console.print(note, highlight=False, markup=False, soft_wrap=True)
    return console.export_text().rstrip() + "\n"
