"""The ``hyperplane`` command: ``bench``, ``run``, ``report``, ``sweep``, ``catalog``, ``replay``, ``mesh``,
``live`` and ``lab``.

Built on click: each subcommand is a small module here, with its examples in its ``--help``.
:func:`main` returns the exit code instead of exiting, so tests and scripts call it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hyperplane import __version__
from hyperplane.cli.bench import bench
from hyperplane.cli.catalog import catalog
from hyperplane.cli.lab import lab
from hyperplane.cli.live import live
from hyperplane.cli.mesh import mesh
from hyperplane.cli.options import FAILED, USAGE, one_blas_thread
from hyperplane.cli.replay import replay
from hyperplane.cli.scenarios import report, run, sweep


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="hyperplane")
def group() -> None:
    """A compiled packet engine: flow hashing, connection tracking, NAT, Maglev load balancing and
    ENA allowances over numpy batches, and the scenarios, sweeps and reports built on them.

    \b
    Examples:
      hyperplane bench --quick
      hyperplane run examples/scenarios/nat_port_exhaustion.toml --out runs/nat
      hyperplane sweep examples/scenarios/nat_port_exhaustion.toml --set public_ips=1,2,8 --out runs/sweep
      hyperplane catalog c5
      hyperplane mesh examples/mesh/mesh_locality.toml
    """


for command in (bench, run, report, sweep, catalog, replay, mesh, live, lab):
    group.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's); returns the exit code."""
    one_blas_thread()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        group.main(args=args, prog_name="hyperplane", standalone_mode=False, obj={"argv": args})
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("hyperplane: interrupted", err=True)
        return FAILED
    except KeyboardInterrupt:
        click.echo("hyperplane: interrupted", err=True)
        return FAILED
    return 0


__all__ = ["USAGE", "group", "main"]
