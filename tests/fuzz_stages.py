"""An atheris driver for the stage fuzz targets: ``python tests/fuzz_stages.py TARGET [-runs=N] [corpus]``
with TARGET one of conntrack, nat, nlb, ena, rss, maglev (tests/stage_fuzz.py) or scenario (the scenario
loader, tests/scenario_fuzz.py). Each input's
first 4 bytes seed the configuration, the rest are the packets' header bytes. Coverage guidance
reaches the Python side only (tests/fuzz/ has the core's own libFuzzer targets, built with clang);
run it against the sanitizer build (HYPERPLANE_SANITIZE=ON, libasan preloaded as .ci/run does) so
that what the core gets wrong through the bindings is caught. Not collected by pytest.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-not-found]

sys.path.append(str(Path(__file__).resolve().parent.parent))  # for `tests`; hyperplane as installed

with atheris.instrument_imports():
    from tests.scenario_fuzz import scenario_target
    from tests.stage_fuzz import TARGETS as STAGES

TARGETS = STAGES | {"scenario": scenario_target}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz_stages.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    target = TARGETS[sys.argv.pop(1)]

    def one_input(data: bytes) -> None:
        target(data[4:], int.from_bytes(data[:4].ljust(4, b"\0"), "little"))

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
