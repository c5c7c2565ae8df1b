"""An atheris driver for the stage fuzz targets: ``python tests/fuzz_stages.py TARGET [-runs=N] [corpus]``
with TARGET one of conntrack, nat, nlb, ena, rss, maglev (tests/stage_fuzz.py) or scenario (the scenario
loader, tests/scenario_fuzz.py). Each input's
first 4 bytes seed the configuration, the rest are the packets' header bytes. Coverage guidance
reaches the Python side only (tests/fuzz/ has the core's own libFuzzer targets, built with clang);
run it against the sanitizer build (HYPERPLANE_SANITIZE=ON, libasan preloaded as .ci/run does) so
that what the core gets wrong through the bindings is caught. Not collected by pytest.
"""

from __future__ import annotations

import gc
import sys
import types
from pathlib import Path

import atheris  # type: ignore[import-not-found]

sys.path.append(str(Path(__file__).resolve().parent.parent))  # for `tests`; hyperplane as installed

from tests.scenario_fuzz import scenario_target  # noqa: E402
from tests.stage_fuzz import TARGETS as STAGES  # noqa: E402

# Coverage guidance where each target's decisions are made. The functions are instrumented once
# imported, because `atheris.instrument_imports` does not see through the loader of an editable install
# (the project's modules ran uninstrumented under it). numpy and tomllib are left alone, and the scenario
# target instruments the loader only: with the TOML parser and the rest of the package too it ran 2.6
# times slower (555 against 1,428 inputs a second), and the shipped scenarios that it mutates already give
# it well-formed TOML to start from.
INSTRUMENTED = {"scenario": ("hyperplane.scenario", "hyperplane.units")}


def instrument(prefixes: tuple[str, ...]) -> None:
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and (obj.__module__ or "").startswith(prefixes):
            atheris.instrument_func(obj)


TARGETS = STAGES | {"scenario": scenario_target}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz_stages.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    name = sys.argv.pop(1)
    target = TARGETS[name]
    instrument(INSTRUMENTED.get(name, ("hyperplane",)))

    def one_input(data: bytes) -> None:
        target(data[4:], int.from_bytes(data[:4].ljust(4, b"\0"), "little"))

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
