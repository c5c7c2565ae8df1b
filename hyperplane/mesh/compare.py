"""Several balancers over one mesh, on the same arrivals (one seed: the engine draws arrivals from
their own random stream, so every balancer sees the same requests at the same times), shown as one
table (rich) and two plots (p99 latency, cross-AZ share) drawn with matplotlib's Figure (no pyplot)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperplane.mesh.balancers import BALANCERS, Balancer, balancer
from hyperplane.mesh.model import Mesh
from hyperplane.mesh.result import MeshResult

if TYPE_CHECKING:  # rich and matplotlib are imported when a table or a figure is asked for
    from matplotlib.figure import Figure
    from rich.table import Table


@dataclass(frozen=True)
class Comparison:
    """The runs of :func:`compare`, in the order asked."""

    results: list[MeshResult]

    def rows(self) -> list[dict[str, Any]]:
        return [r.summary() for r in self.results]

    def table(self, title: str = "mesh: balancers on the same arrivals") -> Table:
        from rich.table import Table

        t = Table(title=title)
        for col in ("balancer", "p50 ms", "p99 ms", "p999 ms", "sent", "completed", "timed out", "failed",
                    "retries", "cross-AZ", "cross-AZ GB", "cross-AZ $", "load max/mean"):
            t.add_column(col, justify="left" if col == "balancer" else "right")
        for r in self.results:
            q, c = r.latency(), r.counts
            t.add_row(r.balancer, f"{q['p50'] * 1e3:.2f}", f"{q['p99'] * 1e3:.2f}", f"{q['p999'] * 1e3:.2f}",
                      f"{c['sent']:,}", f"{c['completed']:,}", f"{c['timed_out']:,}", f"{c['failed']:,}",
                      f"{r.attempts['retries']:,}", f"{r.cross_az_fraction:.1%}", f"{r.cross_az_bytes / 1e9:.2f}",
                      f"{r.cross_az_cost_usd:.4f}", f"{r.load_spread:.2f}")
        return t

    def figure(self) -> Figure:
        """p99 latency and cross-AZ share per balancer, side by side."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4.2), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
        names = [r.balancer for r in self.results]
        ax1.bar(names, [r.latency()["p99"] * 1e3 for r in self.results], color="tab:blue")
        ax1.set_yscale("log")  # a timeout-bound p99 and a healthy one differ by 100x
        ax1.set_ylabel("p99 latency (ms, log scale)")
        ax1.set_title("p99 latency")
        ax2.bar(names, [r.cross_az_fraction * 100 for r in self.results], color="tab:orange")
        ax2.set_ylabel("attempts sent cross-AZ (%)")
        ax2.set_title("cross-AZ share")
        for bars, fmt in ((ax1.containers[0], "{:.1f}"), (ax2.containers[0], "{:.1f}%")):
            for rect in bars:
                h = rect.get_height()
                rect.axes.annotate(fmt.format(h), (rect.get_x() + rect.get_width() / 2, h), ha="center", va="bottom",
                                   fontsize=8)
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=35)
        return fig

    def save_plot(self, path: str | Path) -> Path:
        p = Path(path)
        self.figure().savefig(p, dpi=110)
        return p


def compare(mesh: Mesh, *, client: str, server: str, rps: float, seconds: float | str,
            balancers: Sequence[str | Balancer] | None = None, seed: int = 1, **simulate: Any) -> Comparison:
    """Each balancer (default: all shipped, :data:`BALANCERS`) over ``mesh`` with the same seed."""
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a hyperplane.mesh.Mesh, not {type(mesh).__name__}")
    chosen = [balancer(b) for b in (balancers if balancers is not None else list(BALANCERS))]
    if not chosen:
        raise ValueError("balancers: give at least one")
    return Comparison([mesh.simulate(client=client, server=server, rps=rps, seconds=seconds, balancer=b, seed=seed,
                                     **simulate) for b in chosen])
