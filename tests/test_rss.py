"""RSS: the specification's vectors, every implementation against the definition, indirection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from hyperplane import _core
from hyperplane.packets import PacketFlag, Proto
from hyperplane.rss import DEFAULT_KEY, Rss, symmetric_key, toeplitz

IMPLS = _core.toeplitz_impls()


def toeplitz_reference(key: bytes, data: bytes) -> int:
    """The specification's pseudo-code, in Python, as the model the core is held to."""
    k = int.from_bytes(key, "big")
    key_bits = len(key) * 8
    result = 0
    for i in range(len(data) * 8):
        if data[i // 8] >> (7 - i % 8) & 1:
            result ^= (k >> (key_bits - 32 - i)) & 0xFFFFFFFF
    return result


# The specification's verification suite for IPv4 ("Verifying the RSS Hash Calculation"):
# destination, source, hash over the addresses, hash over addresses and ports.
SPEC_IPV4 = [
    ("161.142.100.80", 1766, "66.9.149.187", 2794, 0x323E8FC2, 0x51CCC178),
    ("65.69.140.83", 4739, "199.92.111.2", 14230, 0xD718262A, 0xC626B0EA),
    ("12.22.207.184", 38024, "24.19.198.95", 12898, 0xD2D0A5DE, 0x5C2B394A),
    ("209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xAFC7327F),
    ("202.188.127.2", 1303, "153.39.163.191", 44251, 0x5D1809C5, 0x10E828A2),
]


def spec_input(dst: str, dport: int, src: str, sport: int, with_ports: bool) -> bytes:
    data = hp.ip(src).to_bytes(4, "big") + hp.ip(dst).to_bytes(4, "big")
    return data + sport.to_bytes(2, "big") + dport.to_bytes(2, "big") if with_ports else data


@pytest.mark.parametrize("dst,dport,src,sport,hash2,hash4", SPEC_IPV4)
def test_spec_vectors_bytes(dst: str, dport: int, src: str, sport: int, hash2: int, hash4: int) -> None:
    assert toeplitz(DEFAULT_KEY, spec_input(dst, dport, src, sport, False)) == hash2
    assert toeplitz(DEFAULT_KEY, spec_input(dst, dport, src, sport, True)) == hash4
    assert toeplitz_reference(DEFAULT_KEY, spec_input(dst, dport, src, sport, True)) == hash4


def spec_batch() -> tuple[np.ndarray, np.ndarray]:
    """Each vector as TCP, UDP, ICMP and a UDP fragment, with the hash each must get."""
    rows, expected = [], []
    for dst, dport, src, sport, hash2, hash4 in SPEC_IPV4:
        for proto, flags, want in (
            (Proto.TCP, 0, hash4),
            (Proto.UDP, 0, hash4),
            (Proto.ICMP, 0, hash2),
            (Proto.UDP, PacketFlag.FRAGMENT, hash2),
            (47, 0, hash2),  # GRE: addresses only
        ):
            rows.append((hp.ip(src), hp.ip(dst), sport, dport, proto, flags))
            expected.append(want)
    batch = hp.empty(len(rows))
    for field, values in zip(("src_ip", "dst_ip", "src_port", "dst_port", "proto", "flags"), zip(*rows)):
        batch[field] = values
    return batch, np.array(expected, dtype=np.uint32)


@pytest.mark.parametrize("impl", IMPLS)
def test_spec_vectors_batch(impl: str) -> None:
    batch, expected = spec_batch()
    # Repeat past the SIMD width so both the vector body and the scalar tail are checked.
    batch, expected = np.tile(batch, 7), np.tile(expected, 7)
    np.testing.assert_array_equal(Rss().hash(batch, impl=impl), expected)


def test_implementations_listed() -> None:
    assert IMPLS[:2] == ["bitserial", "table"]
    assert set(IMPLS) <= {"bitserial", "table", "gfni"}


def random_batch(rng: np.random.Generator, n: int) -> np.ndarray:
    batch = hp.empty(n)
    for field, hi in (("src_ip", 2**32), ("dst_ip", 2**32), ("src_port", 2**16), ("dst_port", 2**16)):
        batch[field] = rng.integers(0, hi, n, dtype=np.uint64)
    batch["proto"] = rng.choice([1, 6, 17, 47, 132], n)
    batch["flags"] = rng.integers(0, 4, n)
    batch["length"] = rng.integers(0, 2**16, n)
    batch["tcp_flags"] = rng.integers(0, 256, n)
    batch["mark"] = rng.integers(0, 2**16, n)
    batch["seq"] = rng.integers(0, 2**32, n, dtype=np.uint64)
    return batch


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=40, max_size=40), seed=st.integers(0, 2**32 - 1), n=st.integers(0, 70))
def test_fast_paths_match_bitserial(key: bytes, seed: int, n: int) -> None:
    batch = random_batch(np.random.default_rng(seed), n)
    rss = Rss(key=key)
    reference = rss.hash(batch, impl="bitserial")
    for impl in IMPLS:
        np.testing.assert_array_equal(rss.hash(batch, impl=impl), reference, err_msg=impl)


@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=40, max_size=40), data=st.binary(min_size=0, max_size=36))
def test_toeplitz_matches_definition(key: bytes, data: bytes) -> None:
    assert toeplitz(key, data) == toeplitz_reference(key, data)


def test_bitserial_batch_matches_spec_form() -> None:
    batch = random_batch(np.random.default_rng(3), 50)
    hashes = Rss().hash(batch, impl="bitserial")
    for pkt, h in zip(batch, hashes):
        with_ports = pkt["proto"] in (6, 17) and not pkt["flags"] & 1
        data = spec_input(hp.ip_str(pkt["dst_ip"]), int(pkt["dst_port"]), hp.ip_str(pkt["src_ip"]),
                          int(pkt["src_port"]), with_ports)
        assert toeplitz_reference(DEFAULT_KEY, data) == h


def test_symmetric_key_gives_both_directions_one_hash() -> None:
    batch = random_batch(np.random.default_rng(5), 1000)
    reverse = batch.copy()
    reverse["src_ip"], reverse["dst_ip"] = batch["dst_ip"], batch["src_ip"]
    reverse["src_port"], reverse["dst_port"] = batch["dst_port"], batch["src_port"]
    rss = Rss(queues=8, key=symmetric_key())
    np.testing.assert_array_equal(rss.hash(batch), rss.hash(reverse))
    np.testing.assert_array_equal(rss.queue(batch), rss.queue(reverse))
    # The default key is not symmetric: the property is the key's, not the test's.
    assert (Rss().hash(batch) != Rss().hash(reverse)).any()


def test_queue_is_indirection_of_low_bits() -> None:
    batch = random_batch(np.random.default_rng(7), 5000)
    rss = Rss(queues=6)
    table = rss.indirection
    assert len(table) == 128
    np.testing.assert_array_equal(table, np.arange(128) % 6)
    np.testing.assert_array_equal(rss.queue(batch), table[rss.hash(batch) & 127])


def test_indirection_settable() -> None:
    batch = random_batch(np.random.default_rng(8), 2000)
    rss = Rss(queues=4)
    rss.indirection = np.zeros(128, dtype=np.int64) + 3
    assert (rss.queue(batch) == 3).all()
    custom = Rss(queues=2, table_size=16, indirection=[0, 1] * 8)
    np.testing.assert_array_equal(custom.queue(batch), (custom.hash(batch) & 15) % 2)


def test_queues_spread_flows() -> None:
    batch = random_batch(np.random.default_rng(9), 80_000)
    counts = np.bincount(Rss(queues=8).queue(batch), minlength=8)
    assert counts.min() > 0.9 * counts.mean()


def test_out_reuses_memory() -> None:
    batch = random_batch(np.random.default_rng(10), 100)
    out = np.empty(100, dtype=np.uint32)
    result = Rss().hash(batch, out=out)
    assert np.shares_memory(result, out)
    np.testing.assert_array_equal(out, Rss().hash(batch))
    q = np.empty(100, dtype=np.uint16)
    assert np.shares_memory(Rss().queue(batch, out=q), q)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"queues": 0}, ValueError, "queues"),
        ({"queues": 70_000}, ValueError, "queues"),
        ({"table_size": 100}, ValueError, "table_size"),
        ({"key": b"short"}, ValueError, "key"),
        ({"queues": 2, "indirection": [0, 1, 2, 0]}, ValueError, "indirection"),
        ({"queues": 2, "indirection": [0, 1, 0]}, ValueError, "indirection"),
        ({"queues": 2, "indirection": [[0, 1]]}, TypeError, "indirection"),
        ({"queues": 2, "indirection": [0.5, 1.0]}, TypeError, "indirection"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Rss(**kwargs)  # type: ignore[arg-type]


def test_bad_arguments_to_hash() -> None:
    rss = Rss()
    batch = hp.empty(10)
    with pytest.raises(ValueError, match="impl"):
        rss.hash(batch, impl="nope")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="out"):
        rss.hash(batch, out=np.empty(10, dtype=np.int64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out"):
        rss.hash(batch, out=np.empty(9, dtype=np.uint32))
    with pytest.raises(ValueError, match="out"):
        rss.queue(batch, out=np.empty(20, dtype=np.uint16)[::2])
    readonly = np.empty(10, dtype=np.uint32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="out.*read-only"):
        rss.hash(batch, out=readonly)
    with pytest.raises(ValueError, match="data"):
        toeplitz(DEFAULT_KEY, bytes(37))


def test_repr_names_configuration() -> None:
    assert repr(Rss(queues=4)) == "Rss(queues=4, key=DEFAULT_KEY, table_size=128)"
