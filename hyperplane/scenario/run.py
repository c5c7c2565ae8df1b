"""A finished run: its report as plain data, saved as ``report.json`` beside its plots and page.

The report is the whole result (``docs/scenarios.md`` gives its schema, versioned by
:data:`SCHEMA`): so ``hyperplane report DIR`` shows a saved run exactly as it was shown when it
ran, a sweep's workers send runs back as data, and the tables, plots and HTML page all read the
same dict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.console import Console

SCHEMA = "hyperplane.run/1"
"""The report's schema; a later version that changes a field's meaning changes this name."""

REPORT_FILE = "report.json"


class Run:
    """The report of one scenario run (``data``), and what can be made of it."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a hyperplane run report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        self.data = data

    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @property
    def verdicts(self) -> dict[str, int]:
        """Packets by verdict: ``FORWARD`` and each drop reason that occurred."""
        return dict(self.data["verdicts"])

    @property
    def ok(self) -> bool:
        """Whether every ``[[expect]]`` check of the scenario held."""
        return all(c["ok"] for c in self.data.get("checks", []))

    def value(self, path: str) -> float:
        """A number of the report by dotted path (``verdicts.DROP_NO_PORT``, ``counters.packets``);
        a verdict or counter that never occurred is 0."""
        node: Any = self.data
        parts = path.split(".")
        for i, part in enumerate(parts):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.lstrip("-").isdigit():
                node = node[int(part)]
            elif i == len(parts) - 1 and parts[0] in ("verdicts", "counters") and isinstance(node, dict):
                return 0.0
            else:
                raise ValueError(f"the report has no {path!r}")
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise ValueError(f"{path!r} is not a number in the report")
        return float(node)

    def evaluate(self, checks: Sequence[tuple[str, float | None, float | None]]) -> list[dict[str, Any]]:
        """Each check (path, least, greatest) with the value found and whether it held."""
        out = []
        for path, low, high in checks:
            actual = self.value(path)
            ok = (low is None or actual >= low) and (high is None or actual <= high)
            out.append({"value": path, "min": low, "max": high, "actual": actual, "ok": ok})
        return out

    # -- saving ------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike[str], *, plots: bool = True) -> Path:
        """Write ``report.json``, the plots (PNG and SVG) and ``report.html`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / REPORT_FILE).write_text(json.dumps(self.data, indent=1) + "\n", encoding="utf-8")
        if plots:
            from hyperplane.report.plots import save_plots

            save_plots(self.data, out)
            self.to_html(out / "report.html")
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Run:
        """A run saved by :meth:`save` (a directory, or its ``report.json``)."""
        path = Path(directory)
        if path.is_dir():
            path = path / REPORT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ValueError(f"{path}: cannot read it ({e.strerror})") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None
        return cls(data)

    # -- showing -----------------------------------------------------------------------

    def plot(self, name: str, path: str | os.PathLike[str] | None = None) -> Figure:
        """One plot (``metrics``, ``drops_by_reason``, ``latency``, ``balance``), saved to ``path`` if given."""
        from hyperplane.report.plots import figure

        fig = figure(self.data, name)
        if path is not None:
            fig.savefig(path)
        return fig

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """One self-contained page (plots embedded) a person reads in a browser."""
        from hyperplane.report.html import run_page

        out = Path(path)
        out.write_text(run_page(self.data), encoding="utf-8")
        return out

    def print(self, console: Console | None = None) -> None:
        """The report as terminal tables."""
        from hyperplane.report.tables import print_run

        print_run(self.data, console)

    def __repr__(self) -> str:
        s = self.data["scenario"]
        return f"Run({s['name']!r}, packets={self.data['packets']}, seed={self.seed}, ok={self.ok})"
