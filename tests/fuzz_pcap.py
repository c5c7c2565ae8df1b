"""An atheris target for the pcap reader and writer: ``python tests/fuzz_pcap.py [-runs=N] [corpus dirs]``.

Each input is taken as a capture file and goes through what tests/test_pcap_fuzz.py does
(read, counts checked, written back rewritten with RESETs, read again). Without a corpus
directory it starts from the seeds of tests/pcap_seeds.py. Coverage guidance reaches the
Python side only: instrumenting the C++ core for libFuzzer needs clang, which the project's
gcc toolchain does not have; the C++ code is exercised, and a run on the sanitizer build
(``HYPERPLANE_SANITIZE=ON``, with libasan preloaded as .ci/run does) catches what it gets wrong.
Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-not-found]
import numpy as np

sys.path.append(str(Path(__file__).resolve().parent.parent))  # for `tests`; hyperplane as installed

with atheris.instrument_imports():
    from tests.pcap_seeds import seeds
    from tests.test_pcap_fuzz import exercise

WORK = Path(tempfile.mkdtemp(prefix="hyperplane-fuzz-"))


def one_input(data: bytes) -> None:
    exercise(data, WORK / "in.pcap", np.random.default_rng(len(data)))


def main() -> None:
    argv = list(sys.argv)
    if not any(Path(a).is_dir() for a in argv[1:]):
        corpus = WORK / "corpus"
        corpus.mkdir()
        for i, s in enumerate(seeds()):
            (corpus / f"seed{i}").write_bytes(s)
        argv.append(str(corpus))
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
