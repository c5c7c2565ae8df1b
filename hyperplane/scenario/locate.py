"""Where each key of a TOML file is written, so a wrong key or value names its line.

``tomllib`` returns plain dicts and forgets positions. Scenario files are short and written by
hand, so a scan of their lines for table headers (``[a.b]``, ``[[a]]``) and ``key =`` lines
finds each key's line well enough for an error message; a key this scan misses (say, inside
a multi-line inline table) falls back to its table's line, and that to line 1.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_PART = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(m[1] if m[1] is not None else m[2] if m[2] is not None else m[3] for m in _PART.finditer(dotted))


class Locations:
    """Line numbers (from 1) of the tables and keys of one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        table: Path = ()
        depth = 0  # open brackets of a multi-line value: its lines hold no keys of the table
        for number, line in enumerate(text.splitlines(), start=1):
            if depth == 0:
                header = _HEADER.match(line)
                if header is not None:
                    name = _parts(header[2])
                    if header[1] == "[[":
                        arrays[name] = arrays.get(name, -1) + 1
                        table = (*name, arrays[name])
                    else:
                        table = name
                    self._lines.setdefault(table, number)
                    continue
                key = _KEY.match(line)
                if key is not None:
                    self._lines.setdefault((*table, *_parts(key[1])), number)
            code = line.split("#", 1)[0]
            depth = max(0, depth + code.count("[") + code.count("{") - code.count("]") - code.count("}"))

    def line(self, path: Path) -> int:
        """The line of ``path`` or, when it was not found, of the nearest table holding it."""
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return 1
