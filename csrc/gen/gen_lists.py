"""Generate the C++ side of the package's lists (run by CMake at build time).

Verdicts (``hyperplane/verdict.py``) and the counter families (``hyperplane/counters.py``)
are each written once, in Python; this runs those two files on their own (they import
nothing of the package, which cannot be imported before its core is built) and writes, for
each list, a C++ enum with the same order and an array of the public names, so that an
index and its name are the same line in both languages.

usage: gen_lists.py VERDICT_PY COUNTERS_PY OUT_DIR
"""

import runpy
import sys
from pathlib import Path


def write_if_changed(path: Path, text: str) -> None:
    # An unchanged header keeps its time stamp, so nothing that includes it rebuilds.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def verdict_header(source: Path) -> str:
    verdict = runpy.run_path(str(source))["Verdict"]
    members = list(verdict)
    values = [int(v) for v in members]
    if values != list(range(len(values))):
        sys.exit(f"{source}: verdict values must be 0, 1, 2, ... in order, got {values}")
    return "\n".join([
        f"// Generated from {source.name} by csrc/gen/gen_lists.py: do not edit.",
        "#pragma once",
        "#include <array>",
        "#include <cstddef>",
        "#include <cstdint>",
        "namespace hp {",
        "enum class Verdict : std::uint8_t {",
        *(f"    {v.name.lower()} = {int(v)},  // {v.label}" for v in members),
        "};",
        f"inline constexpr std::size_t kVerdictCount = {len(members)};",
        "// Packets counted by verdict.",
        "using VerdictCounts = std::array<std::uint64_t, kVerdictCount>;",
        "}  // namespace hp",
        "",
    ])


def counters_header(source: Path) -> str:
    families = runpy.run_path(str(source))["FAMILIES"]
    lines = [
        f"// Generated from {source.name} by csrc/gen/gen_lists.py: do not edit.",
        "#pragma once",
        "#include <cstddef>",
        "#include <cstdint>",
        "namespace hp {",
    ]
    for family in families:
        names = [cxx for cxx, _, _ in family.members]
        if len(set(names)) != len(names):
            sys.exit(f"{source}: {family.enum} repeats a member")
        count = f"k{family.enum}Count"
        lines += [
            "",
            f"// {family.doc}",
            f"enum class {family.enum} : std::uint8_t {{",
            *(f"    {cxx},  // {doc}" for cxx, _, doc in family.members),
            "};",
            f"inline constexpr std::size_t {count} = {len(family.members)};",
            f"inline constexpr const char* k{family.enum}Names[{count}] = {{",
            *(f'    "{name}",' for _, name, _ in family.members),
            "};",
        ]
    lines += ["}  // namespace hp", ""]
    return "\n".join(lines)


def main(verdict_py: str, counters_py: str, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_if_changed(out / "verdict.gen.hpp", verdict_header(Path(verdict_py)))
    write_if_changed(out / "counters.gen.hpp", counters_header(Path(counters_py)))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
