"""The baselines: Linux doing the engine's job in the same labs (``hyperplane.live.linux``)
passes the same client checks, so that the side-by-side benchmark compares two gateways that
both work. Not checked for Linux: the idle reset (conntrack's established timeout is five
days and it sends no RST: that part is AWS's behaviour, which the engine has and Linux does
not) and the balancer's health (nftables has no health checks).
"""

from __future__ import annotations

from collections import Counter

import pytest

from hyperplane.live import lab, linux
from tests.live_lab import background, in_ns, py_in_ns, skip_unless_able, tag
from tests.test_live_nat import PARALLEL, PUBLIC, SERVER, UNSOLICITED
from tests.test_live_nat import SERVE as NAT_SERVE
from tests.test_live_nlb import LISTENER, MANY
from tests.test_live_nlb import SERVE as NLB_SERVE

pytestmark = pytest.mark.live


def test_linux_nat_passes_the_same_client_checks() -> None:
    skip_unless_able("curl", "ping", "nft")
    t = tag() + "l"
    lab.down("nat", tag=t)
    lab.up("nat", tag=t)
    try:
        h = lab.hosts("nat", tag=t)
        linux.enable("nat", tag=t)
        with background(h["server"], NAT_SERVE, SERVER):
            assert in_ns(h["client"], "curl", "-sS", "-m", "5", f"http://{SERVER}:8080/").stdout == PUBLIC
            assert py_in_ns(h["client"], PARALLEL, SERVER, "200", timeout=60).split(" ", 2)[:2] == ["200", "0"]
            assert in_ns(h["client"], "ping", "-c", "2", "-i", "0.2", "-W", "2", SERVER).returncode == 0
            assert py_in_ns(h["server"], UNSOLICITED, PUBLIC).strip() in ("no answer", "refused")
    finally:
        lab.down("nat", tag=t)


def test_linux_nlb_spreads_and_preserves_the_client() -> None:
    skip_unless_able("nft")
    t = tag() + "l"
    lab.down("nlb", tag=t)
    lab.up("nlb", tag=t)
    try:
        h = lab.hosts("nlb", tag=t)
        linux.enable("nlb", tag=t)
        with background(h["targets"], NLB_SERVE):
            lines = [line.split() for line in py_in_ns(h["client"], MANY, LISTENER, "30").splitlines()]
            assert len(lines) == 30 and {c for _, _, c in lines} == {"192.0.2.10"}
            assert len(Counter(target for _, target, _ in lines)) == 3
    finally:
        lab.down("nlb", tag=t)
