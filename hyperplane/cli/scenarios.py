"""``hyperplane run``, ``report`` and ``sweep``: scenarios from their files, and their reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from hyperplane.cli.options import BadInput, Failed, console
from hyperplane.scenario import Run, Scenario, ScenarioError, parse_value
from hyperplane.sweep import SweepResult


def _load(path: str) -> Scenario:
    try:
        return Scenario.load(path)
    except ScenarioError as e:
        raise BadInput(str(e)) from None


def _split(text: str) -> list[str]:
    """``1,2,8`` -> three values; commas inside brackets or quotes stay (``[1,2],[3]``)."""
    parts, depth, quote, current = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current]


def _assignments(settings: Sequence[str], *, lists: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set {setting}: write KEY=VALUE, e.g. --set clients=60000")
        if lists:
            out[key.strip()] = [parse_value(v.strip()) for v in _split(value)]
        else:
            out[key.strip()] = parse_value(value.strip())
    return out


def _with(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    try:
        return scenario.with_values(values) if values else scenario
    except ScenarioError as e:
        raise BadInput(str(e)) from None


def _show(result: Run | SweepResult, out: str | None, as_json: bool, quiet: bool, files: str) -> None:
    """What run and sweep do with their result: save it, then print it as JSON or as tables."""
    if out:
        result.save(out)
    if as_json:
        click.echo(json.dumps(result.data, indent=1))
    elif not quiet:
        result.print(console())
        if out:
            click.echo(f"saved in {out}/ ({files})")


SET_HELP = "change a key of the scenario: a dotted path (nat.public_ips) or a name unique in it (clients)"


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help=SET_HELP + "; repeatable")
@click.option("--seed", type=int, help="the run's seed (default: the scenario's, or one drawn and shown)")
@click.option("--out", type=click.Path(file_okay=False), help="save report.json, the plots and report.html here")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON instead of tables")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar and no tables: the exit code says it all")
def run(scenario: str, settings: tuple[str, ...], seed: int | None, out: str | None, as_json: bool, quiet: bool) -> None:
    """Run a scenario file and show its report; exit code 1 if one of its [[expect]] checks fails.

    \b
    Examples:
      hyperplane run examples/scenarios/nat_port_exhaustion.toml --out runs/nat
      hyperplane run examples/scenarios/nat_port_exhaustion.toml --set clients=60000 --set connections=60k
      hyperplane run examples/scenarios/nlb_target_failure.toml --json > nlb.json
    """
    sc = _with(_load(scenario), _assignments(settings, lists=False))
    try:
        result = sc.run(progress=not (quiet or as_json), seed=seed)
    except ScenarioError as e:
        raise BadInput(str(e)) from None
    except (ValueError, MemoryError, RuntimeError) as e:
        raise Failed(f"{scenario}: the run failed: {e}") from None
    _show(result, out, as_json, quiet, "report.json, report.html, plots")
    if not result.ok:
        failed = [c["value"] for c in result.data["checks"] if not c["ok"]]
        raise Failed(f"{scenario}: {len(failed)} check(s) failed: {', '.join(failed)}")


@click.command()
@click.argument("directory", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print the saved report as JSON")
@click.option("--html", type=click.Path(dir_okay=False), help="also write the report's page here")
def report(directory: str, as_json: bool, html: str | None) -> None:
    """Show a saved run (or sweep) again: the tables it printed when it ran.

    \b
    Examples:
      hyperplane report runs/nat
      hyperplane report runs/sweep --json
    """
    from pathlib import Path

    from hyperplane.sweep import SWEEP_FILE

    path = Path(directory)
    try:
        if (path / SWEEP_FILE).exists() or path.name == SWEEP_FILE:
            sweep_result = SweepResult.load(path)
            if as_json:
                click.echo(json.dumps(sweep_result.data, indent=1))
            else:
                sweep_result.print(console())
            return
        saved = Run.load(path)
    except ValueError as e:
        raise BadInput(str(e)) from None
    if as_json:
        click.echo(json.dumps(saved.data, indent=1))
    else:
        saved.print(console())
    if html:
        saved.to_html(html)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "settings", multiple=True, metavar="KEY=V1,V2,...",
              help=SET_HELP + "; each value a point; several --set make their product (default: the [sweep] table)")
@click.option("--workers", type=click.IntRange(1, 1024), help="worker processes (default: this machine's cores)")
@click.option("--ray", "ray_address", metavar="auto|ADDRESS",
              help="run the points as Ray tasks: 'auto' starts a local Ray, an address joins a cluster")
@click.option("--seed", type=int, help="the sweep's seed; each point derives its own from it and its values")
@click.option("--out", type=click.Path(file_okay=False), help="save sweep.json, its plots and sweep.html here")
@click.option("--json", "as_json", is_flag=True, help="print the sweep's report as JSON instead of a table")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar and no table")
def sweep(scenario: str, settings: tuple[str, ...], workers: int | None, ray_address: str | None, seed: int | None,
          out: str | None, as_json: bool, quiet: bool) -> None:
    """Run a scenario at every point of a product of values, in parallel; exit code 1 if a point fails.

    \b
    Examples:
      hyperplane sweep examples/scenarios/nat_port_exhaustion.toml \\
          --set clients=50000,100000,300000 --set public_ips=1,2,8 --workers 2 --out runs/sweep
      hyperplane sweep examples/scenarios/c3_vs_c5.toml --ray auto
    """
    from hyperplane.sweep import sweep as run_sweep

    sc = _load(scenario)
    values = _assignments(settings, lists=True) or None
    bar = None
    if not (quiet or as_json):
        from rich.progress import Progress

        bar = Progress(console=console(stderr=True))
        task = bar.add_task("points", total=None)
        bar.start()

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
    try:
        result = run_sweep(sc, values, workers=workers, ray=ray_address, seed=seed,
                           progress=progress if bar is not None else None)
    except ScenarioError as e:
        raise BadInput(str(e)) from None
    except RuntimeError as e:
        raise Failed(str(e)) from None
    finally:
        if bar is not None:
            bar.stop()
    _show(result, out, as_json, quiet, "sweep.json, sweep.html, plots")
    if result.failed:
        raise Failed(f"{len(result.failed)} of {len(result.data['points'])} points failed")
