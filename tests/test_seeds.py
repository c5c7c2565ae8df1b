"""Every stage shows what it is (its ``repr``: configuration and seed), and a stage built without
a seed draws one, keeps it in ``.seed`` and replays exactly when that seed is passed back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.replay import replay
from hyperplane.stage import SEED_BITS, draw_seed
from tests import pcap_build as b

NODE = "198.19.0.1"

# (name, a stage built from an optional seed, the trace it is run on)
Factory = Callable[[int | None], Any]
STAGES: list[tuple[str, Factory]] = [
    ("ConnTrack", lambda seed: hp.ConnTrack(capacity=4096, queues=2, threads=1, seed=seed)),
    ("NatGateway", lambda seed: hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], threads=1, seed=seed)),
    ("NetworkLoadBalancer", lambda seed: hp.NetworkLoadBalancer(
        listeners=[(443, "tcp")], targets=[("10.0.1.5:443", "a"), ("10.0.1.6:443", "a"), ("10.0.1.7:443", "a")],
        zones={"a": NODE}, table_size=1009, threads=1, seed=seed)),
    ("Interface", lambda seed: hp.ena.Interface("c5.large", direction="in", seed=seed)),
    ("Network", lambda seed: hp.Network(seed=seed)),
]
IDS = [s[0] for s in STAGES]


def _trace() -> hp.packets.Batch:
    return hp.traffic.many_to_one(2_000, seed=5, dst=NODE, dst_port=443, client_cidr="10.2.0.0/16")


def _run(stage: Any) -> list[np.ndarray]:
    """What a run gives that depends on the seed: packets as they leave, verdicts, extras."""
    if isinstance(stage, hp.Network):
        return []
    result = stage.process(_trace())
    return [np.asarray(field) for field in result]


@pytest.mark.parametrize(("name", "make"), STAGES, ids=IDS)
def test_repr_shows_class_configuration_and_seed(name: str, make: Factory) -> None:
    stage = make(12345)
    text = repr(stage)
    assert text.startswith(f"{name}(") and text.endswith(")") and "seed=12345" in text
    assert len(text) < 250 and "object at 0x" not in text


@pytest.mark.parametrize(("name", "make"), STAGES, ids=IDS)
def test_a_drawn_seed_is_kept_shown_and_differs(name: str, make: Factory) -> None:
    a, b = make(None), make(None)
    assert isinstance(a.seed, int) and 0 <= a.seed < 2**SEED_BITS
    assert a.seed != b.seed  # 63 random bits: equal only by a 1-in-2**63 chance
    assert f"seed={a.seed}" in repr(a)


@pytest.mark.parametrize(("name", "make"), STAGES, ids=IDS)
def test_a_drawn_seed_replays_when_passed_back(name: str, make: Factory) -> None:
    drawn = make(None)
    first = _run(drawn)
    replayed = make(drawn.seed)
    assert replayed.seed == drawn.seed
    again = _run(replayed)
    assert len(first) == len(again)
    for x, y in zip(first, again):
        assert np.array_equal(x, y)


def test_seeds_decide_port_choice() -> None:
    """The replay test above can fail: two seeds give two different runs."""
    runs = [hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], threads=1, seed=s).process(_trace()).packets for s in (1, 2)]
    assert not np.array_equal(runs[0]["src_port"], runs[1]["src_port"])


def test_network_seed_reaches_its_stages() -> None:
    def build(seed: int | None) -> tuple[hp.Network, Any]:
        net = hp.Network(seed=seed)
        vpc = net.add_vpc("10.0.0.0/16")
        pub, app = vpc.add_subnet("10.0.0.0/24", az="us-east-1a"), vpc.add_subnet("10.0.1.0/24", az="us-east-1a")
        pub.route_table.add_route("0.0.0.0/0", vpc.add_internet_gateway())
        app.route_table.add_route("0.0.0.0/0", pub.add_nat_gateway(public_ips=["203.0.113.10"]))
        return net, app.add_instance("c5.large")

    net, instance = build(None)
    syn = hp.empty(50)
    syn["ts"] = np.arange(50, dtype=np.uint64) * 1000
    syn["src_ip"], syn["src_port"], syn["dst_ip"], syn["dst_port"] = instance.private_ip, np.arange(50) + 40000, hp.ip(
        "198.51.100.7"), 443
    syn["proto"], syn["tcp_flags"], syn["length"] = 6, 0x02, 60
    first = net.process(syn).packets["src_port"]
    again, _ = build(net.seed)
    assert np.array_equal(first, again.process(syn).packets["src_port"])


def test_replay_reports_its_seed(tmp_path: Path) -> None:

    frames = [b.tcp_frame("10.0.0.1", "198.51.100.1", 1000 + i, 80, flags=0x02, payload=b"") for i in range(5)]
    (tmp_path / "t.pcap").write_bytes(b.pcap([(i * 1000, f) for i, f in enumerate(frames)]))
    drawn = replay(tmp_path / "t.pcap", tmp_path / "a.pcap", ["203.0.113.10"], ["10.0.0.0/8"])
    assert f"seed {drawn.seed}" in str(drawn)
    again = replay(tmp_path / "t.pcap", tmp_path / "b.pcap", ["203.0.113.10"], ["10.0.0.0/8"], seed=drawn.seed)
    assert again.seed == drawn.seed and (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()


def test_other_reprs() -> None:
    assert repr(hp.Maglev(["a", "b"])) == "Maglev(backends=2, size=65537)"
    assert repr(hp.Rss(queues=2, key=hp.rss.symmetric_key())) == "Rss(queues=2, key=6d5a6d5a..., table_size=128)"


def test_capture_and_writer_reprs(tmp_path: Path) -> None:
    (tmp_path / "t.pcap").write_bytes(b.pcap([(0, b.tcp_frame("10.0.0.1", "198.51.100.1", 1000, 80, flags=0x02))]))
    cap = hp.pcap.open(tmp_path / "t.pcap")
    assert repr(cap).startswith("Capture(") and "format='pcap'" in repr(cap)
    with hp.pcap.Writer(tmp_path / "o.pcapng") as w:
        w.write(cap.read())
        assert repr(w).startswith("Writer(") and "written=1" in repr(w)


# (seed, error, message)
BAD = [(-1, ValueError, "seed must be in 0..2\\*\\*64-1"), (2**64, ValueError, "seed"),
       (1.5, TypeError, "seed must be an integer"), ("7", TypeError, "seed must be an integer"),
       (True, TypeError, "seed must be an integer")]


@pytest.mark.parametrize(("seed", "error", "message"), BAD)
def test_bad_seeds_name_the_argument(seed: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        draw_seed(seed)
    for _, make in STAGES:
        with pytest.raises(error, match="seed"):
            make(seed)


def test_numpy_integer_seeds_are_taken() -> None:
    assert draw_seed(np.uint64(2**64 - 1)) == 2**64 - 1 and hp.ConnTrack(8, seed=np.int64(3)).seed == 3  # type: ignore[arg-type]
