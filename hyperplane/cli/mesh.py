"""``hyperplane mesh``: a mesh scenario file (``hyperplane.mesh.scenario``) with every balancer it
names on the same arrivals: one table, and optionally the plots and the figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from hyperplane.cli.options import BadInput, writable


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seconds", type=float, help="simulated seconds (default: the file's)")
@click.option("--rps", type=float, help="requests per second (default: the file's)")
@click.option("--seed", type=int, help="seed (default: the file's)")
@click.option("--plot", "plot_path", help="write the p99 and cross-AZ share plots to this PNG")
@click.option("--json", "json_path", help="write each balancer's figures as JSON to PATH ('-': stdout)")
def mesh(file: str, seconds: float | None, rps: float | None, seed: int | None, plot_path: str | None,
         json_path: str | None) -> None:
    """Compare request balancers over a service mesh (docs/mesh.md).

    \b
    Examples:
      hyperplane mesh examples/mesh/mesh_locality.toml
      hyperplane mesh examples/mesh/mesh_lone_slow.toml --seconds 10 --plot lone.png
    """
    from hyperplane.mesh.scenario import load

    for path in (plot_path, json_path):
        if path:
            writable(path)
    try:
        sc = load(file)
        override = {k: v for k, v in (("seconds", seconds), ("rps", rps), ("seed", seed)) if v is not None}
        cmp = sc.compare(**override)
    except (OSError, ValueError, TypeError) as e:
        raise BadInput(str(e)) from None
    rows = cmp.rows()
    if json_path == "-":
        click.echo(json.dumps(rows, indent=2))
        return
    Console(width=170).print(cmp.table(title=f"{Path(file).name}: {sc.description}"))
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2))
    if plot_path:
        click.echo(f"plot: {cmp.save_plot(plot_path)}")
