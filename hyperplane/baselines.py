"""Outside baselines for the benchmarks, measured on the same machine in the same run.

DPDK's ``rte_hash`` bulk lookup is the reference for the flow table: a small C++
harness (``hyperplane/_baselines/dpdk_hash_bench.cpp``, shipped in the package) is
compiled against the system's DPDK on first use and run as a subprocess, one core,
no hugepages. ``dpdk_available()`` says whether that can work here and if not, why.

>>> keys = np.zeros(1000, FLOW_KEY_DTYPE); keys["ip_lo"] = np.arange(1000)
>>> order = np.random.default_rng(0).integers(0, 1000, 10_000)
>>> dpdk_hash_lookup_rate(keys, order)["median_mlookups_per_s"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FLOW_KEY_DTYPE",
    "build_dpdk_harness",
    "dpdk_available",
    "dpdk_hash_lookup_rate",
    "write_keys",
    "write_order",
]

# One key as the harness reads it: 16 bytes, packed, little-endian, the last 3 zero.
FLOW_KEY_DTYPE = np.dtype(
    {
        "names": ["ip_lo", "ip_hi", "port_lo", "port_hi", "proto"],
        "formats": ["<u4", "<u4", "<u2", "<u2", "u1"],
        "offsets": [0, 4, 8, 10, 12],
        "itemsize": 16,
    }
)

HARNESS_SOURCE = Path(__file__).resolve().parent / "_baselines" / "dpdk_hash_bench.cpp"
_INSTALL_HINT = "apt-get install dpdk-dev pkg-config"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hyperplane"


def _first_lines(text: str, n: int = 8) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:n])


def _pkg_config(*args: str) -> str:
    """``pkg-config ARGS libdpdk``; RuntimeError naming what to install when it fails."""
    if shutil.which("pkg-config") is None:
        raise RuntimeError(f"pkg-config not found: {_INSTALL_HINT}")
    proc = subprocess.run(["pkg-config", *args, "libdpdk"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pkg-config libdpdk not found: apt-get install dpdk-dev ({_first_lines(proc.stderr, 2)})")
    return proc.stdout.strip()


def build_dpdk_harness() -> Path:
    """Compile the harness into the cache dir if it is missing or older than its source.

    The binary's name carries the DPDK version, so an upgrade of ``dpdk-dev`` rebuilds it.
    Raises ``RuntimeError`` naming what is missing, or with the compiler's first error lines.
    """
    version = _pkg_config("--modversion")
    flags = _pkg_config("--cflags", "--libs").split()
    cxx = os.environ.get("CXX") or shutil.which("c++")
    if cxx is None:
        raise RuntimeError("no C++ compiler (c++) found: apt-get install g++")
    out = _cache_dir() / f"dpdk_hash_bench-{version}"
    if out.exists() and out.stat().st_mtime >= HARNESS_SOURCE.stat().st_mtime:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target, then rename: concurrent builders never see half a binary.
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    cmd = [cxx, "-O3", "-std=c++17", str(HARNESS_SOURCE), "-o", str(tmp), *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"compiling {HARNESS_SOURCE.name} against DPDK {version} failed:\n"
                           f"{_first_lines(proc.stderr)}")
    os.replace(tmp, out)
    return out


def _as_flow_keys(keys: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``keys`` as a contiguous FLOW_KEY_DTYPE array with zero padding; ValueError otherwise."""
    keys = np.asarray(keys)
    if keys.dtype.names is not None:
        missing = [f for f in FLOW_KEY_DTYPE.names or () if f not in keys.dtype.names]
        if missing or keys.ndim != 1:
            raise ValueError(f"keys: need a 1-d array with fields {FLOW_KEY_DTYPE.names}; "
                             f"got shape {keys.shape}, fields {keys.dtype.names}")
        out = np.zeros(len(keys), FLOW_KEY_DTYPE)  # zeros: the padding bytes are zero
        for name in FLOW_KEY_DTYPE.names or ():
            out[name] = keys[name]
        return out
    if keys.dtype == np.uint8 and keys.ndim == 2 and keys.shape[1] == 16:
        raw = np.ascontiguousarray(keys)
        if raw[:, 13:].any():
            raise ValueError("keys: bytes 13-15 of each 16-byte key are padding and must be zero")
        return raw.reshape(-1).view(FLOW_KEY_DTYPE)
    raise ValueError(f"keys: expected a FLOW_KEY_DTYPE array or (N, 16) uint8; got {keys.dtype} {keys.shape}")


def write_keys(path: str | os.PathLike[str], keys: npt.NDArray[Any]) -> int:
    """Write ``keys`` in the harness's 16-byte layout; returns the number of keys."""
    flow_keys = _as_flow_keys(keys)
    Path(path).write_bytes(flow_keys.tobytes())
    return len(flow_keys)


def write_order(path: str | os.PathLike[str], order: npt.NDArray[Any], n_keys: int) -> int:
    """Write lookup indices as little-endian uint32; returns the number of lookups."""
    order = np.asarray(order)
    if order.ndim != 1 or order.dtype.kind not in "iu":
        raise ValueError(f"order: expected a 1-d integer array; got {order.dtype} {order.shape}")
    if len(order) and (int(order.min()) < 0 or int(order.max()) >= n_keys):
        raise ValueError(f"order: indices must be in [0, {n_keys}); got [{order.min()}, {order.max()}]")
    Path(path).write_bytes(order.astype("<u4").tobytes())
    return len(order)


def dpdk_hash_lookup_rate(
    keys: npt.NDArray[Any],
    order: npt.NDArray[Any],
    rounds: int = 5,
    *,
    entries: int | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Insert ``keys`` into an ``rte_hash`` and time bulk lookups of ``keys[order]``.

    ``keys``: FLOW_KEY_DTYPE (or any structured array with its fields) or (N, 16) uint8,
    all distinct. ``order``: indices into ``keys``, looked up in bursts of 32, ``rounds`` times.
    ``entries``: the table's capacity (default N: ~95% full, overflow in extendable buckets).
    Returns the harness's JSON: ``median_mlookups_per_s``, per-round ``lookup_s``, ``misses``
    (must be 0), ``hash_func``, ``dpdk_version``, … Raises ``RuntimeError`` when DPDK is
    unavailable or the harness fails, ``ValueError`` for bad arrays.
    """
    if rounds < 1:
        raise ValueError(f"rounds: must be at least 1; got {rounds}")
    flow_keys = _as_flow_keys(keys)
    n = len(flow_keys)
    if n == 0 or len(order) == 0:
        raise ValueError("keys and order must not be empty")
    if entries is not None and entries < n:
        raise ValueError(f"entries: must be at least len(keys) = {n}; got {entries}")
    binary = build_dpdk_harness()
    if timeout is None:  # generous: the harness inserts and looks up at well over 1 M/s
        timeout = 120.0 + 2e-6 * (n + len(order) * rounds)
    with tempfile.TemporaryDirectory(prefix="hyperplane-dpdk-") as tmp:
        key_file, order_file = Path(tmp) / "keys.bin", Path(tmp) / "order.bin"
        write_keys(key_file, flow_keys)
        write_order(order_file, order, n)
        cmd = [str(binary), str(key_file), str(order_file), str(rounds)]
        if entries is not None:
            cmd.append(str(entries))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"dpdk_hash_bench timed out after {timeout:.0f} s") from e
    if proc.returncode != 0:
        raise RuntimeError(f"dpdk_hash_bench failed (exit {proc.returncode}):\n{_first_lines(proc.stderr)}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"dpdk_hash_bench printed no JSON:\n{_first_lines(proc.stdout + proc.stderr)}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["command"] = " ".join(cmd[:1] + ["KEYFILE", "ORDERFILE"] + cmd[3:])
    return result


def dpdk_available() -> str | None:
    """None when the rte_hash baseline can run here; otherwise why not (what to install).

    Builds the harness if needed and runs it on a few keys, so a missing library,
    a failing compile and an EAL that will not start are all reported.
    """
    try:
        keys = np.zeros(64, FLOW_KEY_DTYPE)
        keys["ip_lo"] = np.arange(64)
        result = dpdk_hash_lookup_rate(keys, np.arange(64), rounds=1, timeout=60.0)
    except RuntimeError as e:
        return str(e)
    if result.get("misses") != 0:
        return f"dpdk_hash_bench smoke run found {result.get('misses')} wrong lookups"
    return None
