"""``hyperplane live`` refuses bad input by name before it touches an interface (no root
needed), and the NLB's health file is read as documented (docs/live.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

import hyperplane as hp
from hyperplane.cli import main
from hyperplane.live.nlb import LiveNlb, parse_listener, read_health

NAT = ["live", "nat", "--inside", "nope0", "--inside-address", "10.10.0.1/24", "--outside", "nope1"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--public-ip", "192.0.2.1/24"], "no interface named 'nope0'"),
    (["--public-ip", "192.0.2.1"], "the first address needs its prefix"),
    (["--public-ip", "192.0.2.1/24", "--outside-gateway", "198.51.100.1"], "gateway 198.51.100.1 is not on"),
    (["--public-ip", "192.0.2.1/24", "--idle-timeout", "2"], "is not a duration"),
])
def test_bad_nat_options_are_named(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*NAT, *extra]) == 2
    assert message in capsys.readouterr().err


def test_bad_listener_is_named() -> None:
    assert parse_listener("192.0.2.80:80/tcp") == ("192.0.2.80", 80, "tcp")
    with pytest.raises(ValueError, match="listen: '192.0.2.80:80/sctp' is not"):
        parse_listener("192.0.2.80:80/sctp")


def test_health_file(tmp_path: Path) -> None:
    f = tmp_path / "health.txt"
    f.write_text("# targets\n10.20.0.3:80 unhealthy\n10.20.0.2:80 healthy  # back\n")
    assert read_health(str(f)) == {"10.20.0.3:80": False, "10.20.0.2:80": True}
    nlb = hp.NetworkLoadBalancer([(80, "tcp")], [("10.20.0.2:80", "a"), ("10.20.0.3:80", "a")], {"a": "192.0.2.80"},
                                 seed=1)
    lb = LiveNlb(nlb, cast(Any, None), ["10.20.0.2:80", "10.20.0.3:80"], "test")
    lb._watch(str(f))()
    assert [t.healthy for t in nlb.targets] == [True, False]
    f.write_text("10.20.0.3:80 sick\n")
    with pytest.raises(ValueError, match=r"health.txt:1: want 'ADDRESS:PORT healthy\|unhealthy'"):
        read_health(str(f))
