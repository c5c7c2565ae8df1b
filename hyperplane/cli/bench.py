"""``hyperplane bench``: packet rates of every stage, with its baselines, measured in one process."""

from __future__ import annotations

import fnmatch
import json
import sys

import click

from hyperplane import bench as benchmark
from hyperplane.cli.options import BadInput, Count, Counts, console, writable

QUICK_RUN: tuple[int, int, int, int, tuple[int, ...]] = (200_000, 10_000, 3, 200_000, (1_000, 100_000))
"""--quick: packets, flows, rounds, lookups, table sizes."""


@click.command()
@click.option("--packets", type=Count(), default=4_000_000, show_default=True, help="packets in the trace (4M, 4e6, ...)")
@click.option("--flows", type=Count(), default=200_000, show_default=True, help="flows in the trace")
@click.option("--rounds", type=Count(), default=7, show_default=True, help="timed rounds; figures are medians")
@click.option("--lookups", type=Count(), default=4_000_000, show_default=True,
              help="packets per round at each flow-table size")
@click.option("--sizes", type=Counts(), default="1k,100k,1M,4M", show_default=True,
              help="live flows in the flow-table stages, comma-separated (1k, 100000, 1e6, ...)")
@click.option("--only", "patterns", multiple=True, metavar="PATTERN",
              help="run only stages whose name matches this glob (repeatable), e.g. 'conntrack.*'")
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the synthetic trace")
@click.option("--quick", is_flag=True,
              help="a small, fast run: 200k packets, 10k flows, 200k lookups, tables of 1k and 100k flows, 3 rounds")
@click.option("--json", "json_path", metavar="PATH", help="also write the report as JSON to PATH ('-': stdout only)")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar")
@click.pass_context
def bench(ctx: click.Context, packets: int, flows: int, rounds: int, lookups: int, sizes: tuple[int, ...],
          patterns: tuple[str, ...], seed: int, quick: bool, json_path: str | None, quiet: bool) -> None:
    """Measure the packet rate of every stage, and of the baselines it is compared with, in one process.

    Rounds are interleaved (every stage once per round) and figures are medians, so a noisy
    neighbour slows a stage and its baseline alike. Stages run on one thread unless named ...x2;
    numpy's BLAS is kept to one thread. The default run needs about 4 GB of memory.

    \b
    Examples:
      hyperplane bench --quick
      hyperplane bench --only 'conntrack.*' --sizes 1k,1M
      hyperplane bench --packets 1e6 --json bench.json
    """
    if quick:
        packets, flows, rounds, lookups, sizes = QUICK_RUN
    selected = list(patterns) or ["*"]
    names = [s.name for s in benchmark.stages(sizes)]
    if not any(n == p or fnmatch.fnmatchcase(n, p) for n in names for p in selected):
        raise BadInput(f"no stage matches {', '.join(repr(p) for p in selected)}; stages: {', '.join(names)}")
    if json_path:
        writable(json_path)
    command = ctx.obj["argv"] if isinstance(ctx.obj, dict) else sys.argv[1:]
    bar = None
    if not quiet and json_path != "-":
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console(stderr=True),
                       transient=True)
        task = bar.add_task("bench", total=1)
        bar.start()

        def progress(message: str, done: int, total: int) -> None:
            bar.update(task, description=message[:60], completed=done, total=total)
    try:
        report = benchmark.run(packets=packets, flows=flows, rounds=rounds, seed=seed, lookups=lookups, table_sizes=sizes,
                               select=lambda name: any(name == p or fnmatch.fnmatchcase(name, p) for p in selected),
                               progress=progress if bar is not None else None,
                               command=" ".join(["hyperplane", *command]))
    finally:
        if bar is not None:
            bar.stop()
    if json_path == "-":
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(benchmark.format_table(report), nl=False)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(report, f, indent=2)
