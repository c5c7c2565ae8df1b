"""What the live tests share: whether they can run here, commands inside a lab's namespaces,
the engine as a subprocess (the real ``hyperplane live`` command) and small servers.

The tests need root, iproute2 and ethtool; without them they skip saying what is missing
(in CI, which runs as root with the tools installed by .ci/run, they fail instead). Labs and
namespaces are always removed, on failure too. Only documentation-range addresses (and
10.x inside the namespaces) are used, and no packet leaves the namespaces.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

# Tools and servers run without the sanitizer runtime CI preloads into the test process,
# with root's sbin directories on PATH; the engine keeps the test process's environment
# (its module may need that runtime).
PATH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])
TOOLS_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"PATH": PATH}
ENGINE_ENV = os.environ | {"PATH": PATH}


def why_not(*tools: str) -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [t for t in ("ip", "ethtool", *tools) if shutil.which(t, path=PATH) is None]
    return f"missing {', '.join(missing)} (apt-get install iproute2 ethtool curl iputils-ping)" if missing else None


def skip_unless_able(*tools: str) -> None:
    why = why_not(*tools)
    if why and not os.environ.get("CI"):
        pytest.skip(why)


def tag() -> str:
    """A tag for this process's namespaces, so parallel runs do not meet."""
    return f"t{os.getpid() % 100000}"


def in_ns(ns: str, *cmd: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=timeout,
                          env=TOOLS_ENV, check=check)


def py_in_ns(ns: str, script: str, *args: str, timeout: float = 30) -> str:
    """Runs a Python script in the namespace; returns its stdout (raises on failure)."""
    r = in_ns(ns, sys.executable, "-c", script, *args, timeout=timeout, check=False)
    if r.returncode:
        raise AssertionError(f"script in {ns} failed ({r.returncode}): {r.stderr}")
    return r.stdout


@contextmanager
def background(ns: str, script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python script running in the namespace for the body's time (a server)."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", script, *args], env=TOOLS_ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()  # the script prints one line once it listens
        if not line:
            raise AssertionError(f"the server in {ns} did not start: {p.stderr.read() if p.stderr else ''}")
        yield p
    finally:
        p.kill()
        p.wait(timeout=10)
        for f in (p.stdout, p.stderr):
            if f:
                f.close()


@dataclass
class Engine:
    process: subprocess.Popen[str]
    report: str = ""
    stderr: str = ""

    def stop(self) -> str:
        """SIGINT, as Ctrl-C would; returns the report the engine printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        self.report, self.stderr = out, self.stderr + err
        return self.report


@contextmanager
def engine(args: Sequence[str]) -> Iterator[Engine]:
    """``hyperplane ARGS`` as a subprocess, from the line saying it runs until the body ends."""
    cmd = [sys.executable, "-c", "import sys; from hyperplane.cli import main; sys.exit(main())", *args]
    # From outside the checkout: `-c` puts the working directory first on sys.path, and the
    # checkout's hyperplane/ has no built core when the package is installed normally.
    p = subprocess.Popen(cmd, env=ENGINE_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
    e = Engine(p)
    try:
        assert p.stderr is not None
        line = p.stderr.readline()
        if "running on" not in line:
            out, err = p.communicate(timeout=20)
            raise AssertionError(f"the engine did not start: {line}{err}{out}")
        e.stderr = line
        yield e
    finally:
        if p.poll() is None:
            e.stop()


def wait_until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
