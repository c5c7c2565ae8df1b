"""What the subcommands share: quantities as options, the exit codes, and the console.

Exit codes, for every subcommand: 0 done, 1 the work itself failed (a scenario's check, a sweep
point, an error while running), 2 bad usage (an option, a file, a scenario that cannot run as
written). Errors are one line naming what was wrong, never a traceback.
"""

from __future__ import annotations

import os
from typing import Any

import click
from rich.console import Console

from hyperplane import units

OK, FAILED, USAGE = 0, 1, 2


class BadInput(click.ClickException):
    """A file or value the command cannot use: exit code 2, like click's own usage errors."""

    exit_code = USAGE


class Failed(click.ClickException):
    """The work ran and failed (a check, a point): exit code 1."""

    exit_code = FAILED


class Count(click.ParamType):  # type: ignore[type-arg]
    """A positive count as a person writes it: ``4000000``, ``4_000_000``, ``4e6``, ``4M``."""

    name = "count"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = units.count(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if number < 1:
            self.fail(f"must be at least 1, not {value}", param, ctx)
        return number


class Counts(click.ParamType):  # type: ignore[type-arg]
    """Counts separated by commas: ``1k,100k,1M``."""

    name = "counts"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        return tuple(Count().convert(part, param, ctx) for part in str(value).split(","))


def console(*, stderr: bool = False) -> Console:
    """Rich output, plain when not a terminal; at most 100 columns wide."""
    return Console(stderr=stderr, width=min(100, Console().width) if Console().is_terminal else 100)


def one_blas_thread() -> None:
    """Keep numpy's BLAS (and that of every worker process) to one thread.

    OpenBLAS starts a thread per core; idle, they spin on the second core and distort the
    two-thread figures. The environment reaches spawned workers; threadpoolctl this process,
    whose numpy is already loaded."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(limits=1, user_api="blas")


def writable(path: str) -> None:
    """Refuse an output path whose directory does not exist, before the work starts."""
    if path == "-":
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise BadInput(f"cannot write {path}: the directory {parent} does not exist")
    if os.path.isdir(path):
        raise BadInput(f"cannot write {path}: it is a directory")
