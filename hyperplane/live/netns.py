"""Entering a network namespace from inside the process, for the sockets opened meanwhile.

A socket belongs for life to the namespace it was opened in, so the engine (or a test) can
open its interfaces in a lab's namespace and come straight back: :func:`namespace` moves the
calling thread only (``setns(2)``), and returns it to where it was even when the body raises.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hyperplane import _core

NETNS_DIR = "/var/run/netns"
"""Where ``ip netns`` keeps the namespaces it names (iproute2's ``NETNS_RUN_DIR``)."""


def namespace_path(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"netns: not a namespace name: {name!r}")
    return os.path.join(NETNS_DIR, name)


@contextmanager
def namespace(name: str | None) -> Iterator[None]:
    """Runs the body with the calling thread in the network namespace ``name`` (``ip netns``'s
    name; None: stay). Raises FileNotFoundError for a namespace that does not exist."""
    if name is None:
        yield
        return
    target = os.open(namespace_path(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _core.enter_network_namespace(target)
            try:
                yield
            finally:
                _core.enter_network_namespace(home)
        finally:
            os.close(home)
    finally:
        os.close(target)

