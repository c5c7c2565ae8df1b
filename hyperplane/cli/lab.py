"""``hyperplane lab up|down NAME``: the namespaces, veth pairs, addresses and routes of a lab
for the live engine (``hyperplane.live.lab``)."""

from __future__ import annotations

import shlex

import click

from hyperplane.cli.options import BadInput, Failed
from hyperplane.live import lab as labs
from hyperplane.live import linux as baseline

NAMES = click.Choice(sorted(labs.LABS))


@click.group()
def lab() -> None:
    """Make and remove labs of network namespaces (documentation-range addresses only) for
    `hyperplane live`. Needs root and iproute2."""


@lab.command("up")
@click.argument("name", type=NAMES)
@click.option("--tag", default="", help="a tag in the namespaces' names, to run several labs side by side")
@click.option("--linux", is_flag=True, help="Linux does the engine's job (nftables), the baseline to compare with")
def up(name: str, tag: str, linux: bool) -> None:
    """Make the lab NAME; print its namespaces and the command that runs the engine in it.

    \b
    Examples:
      hyperplane lab up nat
      hyperplane lab up nlb
    """
    try:
        labs.up(name, tag=tag)
        if linux:
            try:
                baseline.enable(name, tag=tag)
            except BaseException:
                labs.down(name, tag=tag)
                raise
    except labs.LabError as e:
        raise Failed(str(e)) from None
    except ValueError as e:
        raise BadInput(str(e)) from None
    for role, ns in labs.hosts(name, tag=tag).items():
        click.echo(f"{role:<8} {ns}")
    if linux:
        click.echo("engine   Linux (nftables) in the gateway namespace")
    else:
        click.echo(f"engine   {shlex.join(labs.engine_command(name, tag=tag))}")


@lab.command("down")
@click.argument("name", type=NAMES)
@click.option("--tag", default="", help="the tag given to `lab up`")
def down(name: str, tag: str) -> None:
    """Remove the lab NAME (only namespaces whose interfaces it made)."""
    try:
        gone = labs.down(name, tag=tag)
    except labs.LabError as e:
        raise Failed(str(e)) from None
    click.echo(f"removed  {', '.join(gone) or 'nothing (not up)'}")
