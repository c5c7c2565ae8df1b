"""The reader and writer on mutated captures: bytes flipped, lengths corrupted, files cut
short or grown with noise. Nothing may crash or read out of bounds (CI runs this under
AddressSanitizer and UndefinedBehaviorSanitizer, .ci/run); a file is either refused with
ValueError or read with consistent counts; whatever is read is written back (rewritten,
RESETs included) and reads again without a malformed frame.

Inputs: the seed captures of tests/pcap_seeds.py (pcap both magics and byte orders, snaplen
cuts, SLL, raw IP, pcapng with several IDBs, SPB, unknown blocks, two sections of both byte
orders) under hypothesis's choice of up to 8 byte overwrites, a cut and an appended tail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperplane as hp
from tests.pcap_seeds import seeds

SEEDS = seeds()


def exercise(data: bytes, path: Path, rng: np.random.Generator) -> None:
    """Read ``data`` as a capture and write it back rewritten; checks every count."""
    path.write_bytes(data)
    try:
        cap = hp.pcap.open(path)
    except ValueError as e:
        assert "not a pcap" in str(e) or "truncated pcap" in str(e)
        return
    frames = cap.read()
    stats = cap.stats
    n = len(frames)
    assert stats.frames == n == stats.ipv4 + stats.ipv6 + stats.other == sum(stats.linktypes.values())
    assert np.all(frames.offsets + frames.lengths <= len(data))
    assert np.all(frames.lengths <= frames.wire_lengths)
    out = frames.packets.copy()
    out["src_ip"] ^= rng.integers(0, 2**32, n, dtype=np.uint32)
    out["src_port"] ^= rng.integers(0, 2**16, n, dtype=np.uint16)
    verdict = rng.choice(np.array([hp.Verdict.FORWARD, hp.Verdict.RESET, hp.Verdict.DROP_INVALID], np.uint8), n)
    again_path = path.with_suffix(".out.pcapng")
    with hp.pcap.Writer(again_path) as w:
        w.write(frames, out, verdict=verdict)
    written = w.stats
    assert written["written"] + written["dropped"] + written["no_reset"] == n
    back = hp.pcap.open(again_path)
    assert len(back.read()) == written["written"] and back.stats.malformed_total == 0


@settings(max_examples=300)
@given(seed=st.sampled_from(range(len(SEEDS))),
       edits=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=8),
       cut=st.none() | st.integers(0, 2**31), tail=st.binary(max_size=64), rng_seed=st.integers(0, 2**32 - 1))
def test_mutated_captures(tmp_path_factory: pytest.TempPathFactory, seed: int, edits: list[tuple[int, int]],
                          cut: int | None, tail: bytes, rng_seed: int) -> None:
    data = bytearray(SEEDS[seed])
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        del data[cut % (len(data) + 1):]
    exercise(bytes(data) + tail, tmp_path_factory.mktemp("fuzz") / "in.pcap", np.random.default_rng(rng_seed))


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_every_cut_of_every_seed(tmp_path: Path, index: int) -> None:
    """Each seed cut at every length: a file ends anywhere."""
    rng = np.random.default_rng(index)
    data = SEEDS[index]
    for end in range(len(data) + 1):
        exercise(data[:end], tmp_path / "cut.pcap", rng)
