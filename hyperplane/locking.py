"""One lock per engine object, so that Python threads may share it.

The core releases the GIL around every batch, so without a lock two threads calling
``process()`` on one stage would run its tables at once and corrupt them. Each object that
holds engine state (a stage, an ENA interface, an RSS indirection table) therefore carries a
reentrant lock, and every method that touches that state runs under it (:func:`serialised`).
A thread that finds the lock taken waits in ``Lock.acquire``, which releases the GIL while it
waits; different objects have different locks and run truly in parallel.

Their state lives in the engine's tables, not in Python attributes, so a plain copy of their
``__dict__`` would silently drop it. The sharded stages (conntrack, NAT, NLB) pickle and copy
through their engine state (``export_state()``/``import_state()``, :mod:`hyperplane.stage`);
an object without such a round trip (the ENA interface) refuses with a ``TypeError``. Every
object keeps the arguments it was built with (``_init_args``), which a round trip rebuilds from.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Serialised")


class Serialised:
    """A base for objects whose engine state is guarded by their own lock (``self._lock``)."""

    _lock: threading.RLock
    _init_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._lock = threading.RLock()
        self._init_args = (args, dict(kwargs))
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} objects do not pickle or copy: their state lives in the engine's tables; "
            "build a new one from the same configuration"
        )


def serialised(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Runs ``method`` under its object's lock: concurrent calls on one object take turns."""

    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run
