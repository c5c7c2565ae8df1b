"""Generate the C++ verdict enum from hyperplane/verdict.py (run by CMake at build time).

The Python class is the one list; this reads it as text (the package cannot be
imported before its core is built) and writes an enum with the same names and values.
"""

import ast
import sys


def main(source: str, target: str) -> None:
    tree = ast.parse(open(source).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Verdict")
    members = []
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
            name = node.targets[0].id  # type: ignore[attr-defined]
            value, label = (ast.literal_eval(e) for e in node.value.elts)
            members.append((name, value, label))
    values = [v for _, v, _ in members]
    if values != list(range(len(values))):
        sys.exit(f"{source}: verdict values must be 0, 1, 2, ... in order, got {values}")
    lines = [
        "// Generated from hyperplane/verdict.py by csrc/gen/gen_verdicts.py: do not edit.",
        "#pragma once",
        "#include <cstddef>",
        "#include <cstdint>",
        "namespace hp {",
        "enum class Verdict : std::uint8_t {",
        *(f"    {name.lower()} = {value},  // {label}" for name, value, label in members),
        "};",
        f"inline constexpr std::size_t kVerdictCount = {len(members)};",
        "}  // namespace hp",
        "",
    ]
    text = "\n".join(lines)
    try:
        if open(target).read() == text:
            return
    except OSError:
        pass
    with open(target, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
