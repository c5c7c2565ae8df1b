"""The DPDK rte_hash baseline: its file format always, the harness itself where DPDK is installed."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hyperplane import baselines
from hyperplane.baselines import FLOW_KEY_DTYPE


def test_flow_key_dtype_is_the_documented_16_bytes() -> None:
    fields = FLOW_KEY_DTYPE.fields
    assert FLOW_KEY_DTYPE.itemsize == 16 and fields is not None
    assert [fields[f][1] for f in ("ip_lo", "ip_hi", "port_lo", "port_hi", "proto")] == [0, 4, 8, 10, 12]


def test_key_file_is_16_bytes_per_key_in_the_documented_layout(tmp_path: Path) -> None:
    # A structured array with the fields in another order and widths: the writer re-packs it.
    src = np.zeros(3, [("proto", "u2"), ("port_hi", ">u4"), ("port_lo", "i8"), ("ip_hi", "u8"), ("ip_lo", "u4"),
                       ("extra", "f8")])
    src["ip_lo"] = [0x0A000001, 0xC0000201, 0xFFFFFFFF]
    src["ip_hi"] = [0x0A000002, 0x08080808, 0]
    src["port_lo"] = [1234, 53, 0]
    src["port_hi"] = [80, 40000, 65535]
    src["proto"] = [6, 17, 1]
    src["extra"] = 1.5
    path = tmp_path / "keys.bin"
    assert baselines.write_keys(path, src) == 3
    data = path.read_bytes()
    assert len(data) == 3 * 16
    for i in range(3):
        rec = data[16 * i: 16 * (i + 1)]
        assert struct.unpack("<IIHHB", rec[:13]) == (
            src["ip_lo"][i], src["ip_hi"][i], src["port_lo"][i], src["port_hi"][i], src["proto"][i])
        assert rec[13:] == b"\0\0\0"
    assert data[:16] == bytes.fromhex("0100000a" "0200000a" "d204" "5000" "06" "000000")


def test_raw_uint8_keys_pass_through_and_padding_must_be_zero(tmp_path: Path) -> None:
    raw = np.arange(32, dtype=np.uint8).reshape(2, 16)
    raw[:, 13:] = 0
    baselines.write_keys(tmp_path / "k.bin", raw)
    assert (tmp_path / "k.bin").read_bytes() == raw.tobytes()
    raw[1, 15] = 1
    with pytest.raises(ValueError, match="padding"):
        baselines.write_keys(tmp_path / "k.bin", raw)


def test_order_file_is_uint32_and_checked(tmp_path: Path) -> None:
    assert baselines.write_order(tmp_path / "o.bin", np.array([2, 0, 1], np.int64), 3) == 3
    assert (tmp_path / "o.bin").read_bytes() == struct.pack("<3I", 2, 0, 1)
    with pytest.raises(ValueError, match="order"):
        baselines.write_order(tmp_path / "o.bin", np.array([3]), 3)


def test_missing_pkg_config_is_a_reason_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    reason = baselines.dpdk_available()
    assert reason is not None and "pkg-config" in reason and "apt-get install" in reason
    with pytest.raises(RuntimeError, match="pkg-config"):
        baselines.dpdk_hash_lookup_rate(np.zeros(8, FLOW_KEY_DTYPE), np.arange(8))


@pytest.fixture(scope="module")
def dpdk() -> None:
    reason = baselines.dpdk_available()
    if reason is not None:
        pytest.skip(f"DPDK rte_hash baseline unavailable: {reason}")


@pytest.mark.usefixtures("dpdk")
def test_rte_hash_finds_every_key() -> None:
    rng = np.random.default_rng(3)
    n, m = 10_000, 100_000
    keys = np.zeros(n, FLOW_KEY_DTYPE)
    keys["ip_lo"] = rng.permutation(n) + 0x0A000000  # distinct keys by construction
    keys["ip_hi"] = rng.integers(0, 2**32, n)
    keys["port_lo"] = rng.integers(0, 2**16, n)
    keys["port_hi"] = 443
    keys["proto"] = 6
    order = rng.integers(0, n, m)
    result = baselines.dpdk_hash_lookup_rate(keys, order, rounds=2)
    assert (result["keys"], result["lookups"], result["rounds"]) == (n, m, 2)
    assert result["misses"] == 0
    assert len(result["lookup_s"]) == 2
    assert result["median_mlookups_per_s"] > 0
    assert result["hash_func"].startswith("rte_hash_crc")
    assert result["dpdk_version"].startswith("DPDK ")


@pytest.mark.usefixtures("dpdk")
def test_harness_rejects_duplicate_keys() -> None:
    keys = np.zeros(16, FLOW_KEY_DTYPE)
    keys["ip_lo"] = np.arange(16) % 8  # each key twice: a miss count would be meaningless
    with pytest.raises(RuntimeError, match="duplicate keys"):
        baselines.dpdk_hash_lookup_rate(keys, np.arange(16), rounds=1)
