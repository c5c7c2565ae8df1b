"""Quantities as people write them (hyperplane.units): a table of texts and what they mean."""

from __future__ import annotations

import pytest

from hyperplane import units

CASES = [
    (units.count, 1000, 1000), (units.count, "1_000", 1000), (units.count, "1e6", 1_000_000), (units.count, "300k", 300_000),
    (units.count, "1M", 1_000_000), (units.count, "2.5M", 2_500_000), (units.count, 0, 0),
    (units.seconds, "350s", 350.0), (units.seconds, "5ms", 0.005), (units.seconds, "10us", 1e-5), (units.seconds, "2min", 120.0),
    (units.seconds, "1h", 3600.0), (units.seconds, "1.5 s", 1.5),
    (units.nanoseconds, "5ms", 5_000_000), (units.nanoseconds, "100ns", 100),
    (units.pps, "550kpps", 550_000.0), (units.pps, "1Mpps", 1e6), (units.pps, "20000pps", 20_000.0),
    (units.bps, "10Gbps", 1e10), (units.bps, "500Mbps", 5e8), (units.bps, "25Gbit/s", 2.5e10),
    (units.size_bytes, 64, 64), (units.size_bytes, "1500B", 1500), (units.size_bytes, "9kB", 9000),
]


@pytest.mark.parametrize(("parse", "text", "value"), CASES)
def test_reads(parse: object, text: object, value: float) -> None:
    assert parse(text) == pytest.approx(value)  # type: ignore[operator]


REFUSED = [
    (units.count, "lots", "is not a count"), (units.count, "1.5", "whole number"), (units.count, -1, "whole number"),
    (units.count, True, "is not a count"),
    (units.seconds, "350", "with its unit"), (units.seconds, 350, "with its unit"), (units.seconds, "5 parsecs", "with its unit"),
    (units.pps, "10Gbps", "packet rate"), (units.bps, "550kpps", "bandwidth"), (units.size_bytes, "1.5B", "whole number"),
]


@pytest.mark.parametrize(("parse", "text", "message"), REFUSED)
def test_refuses_naming_what_it_takes(parse: object, text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(text)  # type: ignore[operator]


@pytest.mark.parametrize("value", [0.005, 350.0, 1e-5, 2e-8])
def test_seconds_read_back(value: float) -> None:
    assert units.seconds(units.format_seconds(value)) == pytest.approx(value, rel=1e-3)


@pytest.mark.parametrize("value", [999, 1500, 300_000, 2_500_000, 4e9])
def test_counts_read_back(value: float) -> None:
    assert units.count(units.format_count(value)) == pytest.approx(value, rel=1e-3)
