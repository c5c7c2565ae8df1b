"""Service-time and jitter distributions as a person writes them: ``"lognormal:median=2ms,sigma=0.5"``,
``"lognormal:0.3"`` (jitter, a shape alone), ``"fixed:2ms"`` or a plain ``"2ms"``.

Lognormal because service and network latencies are skewed to the right with a long tail; its median
and shape are what people quote. Every parser raises ``ValueError`` naming the field it was parsing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hyperplane import units


@dataclass(frozen=True)
class Lognormal:
    """median x exp(sigma x N(0, 1)); sigma 0 is a fixed value."""

    median_s: float
    sigma: float


def _shape(text: str, field: str) -> float:
    try:
        sigma = float(text)
    except ValueError:
        raise ValueError(f"{field}: sigma {text!r} is not a number") from None
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"{field}: sigma must be finite and >= 0, not {text!r}")
    return sigma


def _duration(value: object, field: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"{field}: {value!r} needs a unit, such as '2ms'")
    try:
        s = units.seconds(value)
    except ValueError as e:
        raise ValueError(f"{field}: {e}") from None
    if not math.isfinite(s) or s < 0:
        raise ValueError(f"{field}: must be finite and >= 0, not {value!r}")
    return s


def duration(value: object, field: str) -> float:
    """A duration in seconds (``"250us"``), the error naming ``field``."""
    return _duration(value, field)


def service_time(spec: object, field: str = "service_time") -> Lognormal:
    """``"lognormal:median=2ms,sigma=0.5"``, ``"fixed:2ms"`` or ``"2ms"``."""
    if not isinstance(spec, str):
        raise ValueError(f"{field}: {spec!r} is not a distribution such as 'lognormal:median=2ms,sigma=0.5'")
    kind, _, rest = spec.partition(":")
    if not rest:
        return Lognormal(_duration(spec, field), 0.0)
    if kind == "fixed":
        return Lognormal(_duration(rest, field), 0.0)
    if kind != "lognormal":
        raise ValueError(f"{field}: unknown distribution {kind!r}; use lognormal:median=...,sigma=... or fixed:...")
    parts = dict(p.partition("=")[::2] for p in rest.split(","))
    unknown = set(parts) - {"median", "sigma"}
    if unknown or "median" not in parts:
        raise ValueError(f"{field}: lognormal takes median= and sigma=, not {spec!r}")
    return Lognormal(_duration(parts["median"], field), _shape(parts.get("sigma", "0"), field))


def jitter(spec: object, field: str = "jitter") -> float:
    """Lognormal jitter's shape, from ``"lognormal:0.3"``, ``"none"`` or a number."""
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return _shape(str(spec), field)
    if not isinstance(spec, str):
        raise ValueError(f"{field}: {spec!r} is not a jitter such as 'lognormal:0.3'")
    if spec == "none":
        return 0.0
    kind, _, rest = spec.partition(":")
    if kind != "lognormal" or not rest:
        raise ValueError(f"{field}: {spec!r} is not a jitter such as 'lognormal:0.3' or 'none'")
    return _shape(rest.removeprefix("sigma="), field)
