"""Quantities as a person writes them: ``"10Gbps"``, ``"550kpps"``, ``"350s"``, ``"5ms"``, ``"1M"``.

Scenario files and the command's options share these parsers, so ``--packets 1e6`` and
``packets = "1M"`` mean the same and fail with the same words. Prefixes are SI (k = 1000):
network rates are decimal (a 25 GbE link carries 25 x 10^9 bits per second). Durations,
rates and bandwidths need their unit -- a bare ``350`` could be seconds or milliseconds, and a
scenario that guesses wrong runs for hours -- while counts and byte sizes may be bare numbers.
Every parser raises ``ValueError`` with the text it was given and what it accepts.
"""

from __future__ import annotations

import math
import re

_PREFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_NUMBER = r"([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)"
_SCALED = re.compile(_NUMBER + r"\s*([kKMGT]?)")
_DURATIONS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(_NUMBER + r"\s*(ns|us|µs|ms|s|min|h)")
_RATE = re.compile(_NUMBER + r"\s*([kKMGT]?)pps")
_BANDWIDTH = re.compile(_NUMBER + r"\s*([kKMGT]?)(?:bps|bit/s)")
_BYTES = re.compile(_NUMBER + r"\s*([kKMG]?)B")

COUNT_HELP = "a count such as 1000, 1_000, 1e6, 300k or 1M"
DURATION_HELP = "a duration with its unit, such as 350s, 5ms, 10us, 2min or 1h"
RATE_HELP = "a packet rate with its unit, such as 550kpps or 1Mpps"
BANDWIDTH_HELP = "a bandwidth with its unit, such as 10Gbps or 500Mbps"
BYTES_HELP = "a size in bytes, such as 64, 1500B or 9kB"


def _number(text: str) -> float:
    return float(text.replace("_", ""))


def _match(pattern: re.Pattern[str], value: object, what: str) -> re.Match[str]:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not {what}")
    found = pattern.fullmatch(value.strip())
    if found is None:
        raise ValueError(f"{value!r} is not {what}")
    return found


def count(value: object) -> int:
    """A non-negative whole number: ``1000``, ``"1_000"``, ``"1e6"``, ``"300k"``, ``"1M"``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {COUNT_HELP}")
    if isinstance(value, int):
        number = float(value)
    elif isinstance(value, float):
        number = value
    else:
        found = _match(_SCALED, value, COUNT_HELP)
        number = _number(found[1]) * _PREFIX[found[2]]
    if not math.isfinite(number) or number < 0 or number != math.floor(number):
        raise ValueError(f"{value!r} is not {COUNT_HELP} (a whole number >= 0)")
    return int(number)


def seconds(value: object) -> float:
    """A duration in seconds, from ``"350s"``, ``"5ms"``, ``"10us"``, ``"100ns"``, ``"2min"``, ``"1h"``."""
    found = _match(_DURATION, value, DURATION_HELP)
    return _number(found[1]) * _DURATIONS[found[2]]


def nanoseconds(value: object) -> int:
    """A duration in whole nanoseconds (packet time), from the forms :func:`seconds` takes."""
    found = _match(_DURATION, value, DURATION_HELP)
    return round(_number(found[1]) * _DURATIONS[found[2]] * 1e9)


def pps(value: object) -> float:
    """A packet rate in packets per second, from ``"550kpps"``, ``"1Mpps"``, ``"20000pps"``."""
    found = _match(_RATE, value, RATE_HELP)
    return _number(found[1]) * _PREFIX[found[2]]


def bps(value: object) -> float:
    """A bandwidth in bits per second, from ``"10Gbps"``, ``"500Mbps"``, ``"25Gbit/s"``."""
    found = _match(_BANDWIDTH, value, BANDWIDTH_HELP)
    return _number(found[1]) * _PREFIX[found[2]]


def size_bytes(value: object) -> int:
    """A size in bytes: ``64``, ``"1500B"``, ``"9kB"`` (k = 1000)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    found = _match(_BYTES, value, BYTES_HELP)
    number = _number(found[1]) * _PREFIX[found[2]]
    if number != math.floor(number):
        raise ValueError(f"{value!r} is not {BYTES_HELP} (a whole number of bytes)")
    return int(number)


def format_count(value: float) -> str:
    """``1500000`` -> ``"1.5M"``: the short form the parsers read back."""
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.4g}{prefix}"
    return f"{value:.4g}"


def format_seconds(value: float) -> str:
    """``0.005`` -> ``"5ms"``, ``350`` -> ``"350s"``: the short form the parsers read back."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.4g}{unit}"
    return f"{value * 1e9:.4g}ns"
