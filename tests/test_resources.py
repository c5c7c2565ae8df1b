"""Resource limits: a table that cannot fit in memory is refused before anything is allocated,
with a MemoryError stating the bytes it needs and the bytes there are; a table that fits costs
the documented ~81 bytes per connection of capacity (docs/conntrack.md), in resident memory too;
exhaustion is a counted verdict, never an error."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.nat import NatGateway
from hyperplane.nlb import NetworkLoadBalancer

HUGE = 10**12  # connections: about 81 TB of table

BUILDERS: dict[str, Callable[[int], Any]] = {
    "conntrack": lambda n: hp.ConnTrack(n, seed=1),
    "nat": lambda n: NatGateway(["203.0.113.10"], capacity=n, seed=1),
    "nlb": lambda n: NetworkLoadBalancer([(80, "tcp")], [("10.1.0.5:80", "a")], {"a": "198.51.100.7"},
                                         capacity=n, seed=1),
    "ena": lambda n: hp.ena.Interface("c5.large", conntrack=n, seed=1),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_table_larger_than_memory_is_refused_with_the_bytes(name: str) -> None:
    with pytest.raises(MemoryError) as refused:
        BUILDERS[name](HUGE)
    message = str(refused.value)
    needed, available = (int(x) for x in re.findall(r"(\d+) bytes", message))
    assert needed > available > 0 and f"{HUGE} connections" in message
    assert needed == pytest.approx(81 * HUGE, rel=0.01)  # the documented bytes per connection
    BUILDERS[name](1000)  # and nothing was left half-built


def read_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs Linux's /proc")
def test_a_full_table_costs_the_documented_bytes() -> None:
    """1M connections held: the table is ~81 bytes per connection of capacity (ct.memory_bytes),
    and resident memory grows by no more than that once every record is touched."""
    n = 1_000_000
    flows = hp.packets.empty(n)
    i = np.arange(n)
    flows["src_ip"], flows["src_port"] = hp.ip("10.0.0.0") + i // 1000, 10_000 + i % 1000
    flows["dst_ip"], flows["dst_port"], flows["proto"], flows["length"] = hp.ip("198.51.100.7"), 53, 17, 100
    before = read_rss_bytes()
    ct = hp.ConnTrack(n, queues=1, seed=1)
    _, v = ct.process(flows)
    grown = read_rss_bytes() - before
    assert (v == hp.Verdict.FORWARD).all() and len(ct) == n
    assert 78 * n <= ct.memory_bytes <= 84 * n
    assert grown <= ct.memory_bytes * 1.1 + (64 << 20)  # plus the verdict array and allocator slack


def test_exhaustion_is_a_counted_verdict_at_ten_times_the_limit() -> None:
    """10x a table's capacity in new flows for a minute of packet time: every packet gets a
    verdict (the excess DROP_TABLE_FULL), none an exception, and the counts add up."""
    ct = hp.ConnTrack(1000, queues=1, seed=2, timeouts=hp.Timeouts.uniform(3600))
    n = 10_000
    pkts = hp.packets.empty(n)
    i = np.arange(n)
    pkts["ts"] = i * (60 * 10**9 // n)
    pkts["src_ip"], pkts["src_port"] = hp.ip("10.0.0.0") + i, 1000
    pkts["dst_ip"], pkts["dst_port"], pkts["proto"], pkts["length"] = hp.ip("198.51.100.7"), 53, 17, 100
    _, v = ct.process(pkts)
    assert (v == hp.Verdict.FORWARD).sum() == 1000 and (v == hp.Verdict.DROP_TABLE_FULL).sum() == 9000
    assert ct.counters["packets"] == n == ct.counters["forwarded"] + ct.counters["table_full"]
