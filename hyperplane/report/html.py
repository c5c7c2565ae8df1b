"""One self-contained HTML page per run (and per sweep): the report's tables and its plots, embedded.

No script, no external file: the page is a report to send to a colleague, opened anywhere.
Plots are PNGs inlined as ``data:`` URLs; every text is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from hyperplane.report.plots import available, figure, png_bytes, sweep_figure
from hyperplane.report.tables import Rows, numeric, sections, sweep_rows, sweep_title, swept

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { color: #b00; font-weight: bold; } img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
p.meta { color: #666; }
"""


def _table(title: str, columns: tuple[str, ...], rows: Rows) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns) if any(columns) else ""
    body = []
    for row in rows:
        cls = ' class="failed"' if row and row[-1] == "FAILED" else ""
        cells = "".join(f'<td class="num">{html.escape(v)}</td>' if numeric(v) else f"<td>{html.escape(v)}</td>"
                        for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<h2>{html.escape(title)}</h2><table>{f'<tr>{head}</tr>' if head else ''}{''.join(body)}</table>"


def _img(fig: Any, alt: str) -> str:
    data = base64.b64encode(png_bytes(fig)).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _page(title: str, subtitle: str, parts: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class=\"meta\">{html.escape(subtitle)}</p>{''.join(parts)}</body></html>\n")


def run_page(data: Mapping[str, Any]) -> str:
    s = data["scenario"]
    parts = [f"<p>{html.escape(s['description'])}</p>"] if s.get("description") else []
    for name in available(data):
        parts.append(_img(figure(data, name), f"{name} plot"))
    parts.extend(_table(*section) for section in sections(data))
    v = data["versions"]
    return _page(s["name"], f"hyperplane {v['hyperplane']}, numpy {v['numpy']}, Python {v['python']}; "
                            f"report schema {data['schema']}", parts)


def sweep_page(data: Mapping[str, Any]) -> str:
    parts = [_table("Points", *sweep_rows(data))]
    errors = [(k, p["error"]) for k, p in enumerate(data["points"]) if p.get("error")]
    if errors:
        parts.append(_table("Errors", ("#", "error"), [(str(k), e) for k, e in errors]))
    rows = data["points"]
    keys, _ = swept(data)
    for metric in data["metrics"]:
        if keys and any(metric in p.get("values", {}) for p in rows):
            parts.append(_img(sweep_figure(rows, keys, metric), f"{metric} against {keys[0]}"))
    return _page(sweep_title(data), f"runner: {data['runner']}; seed {data['seed']}; report schema {data['schema']}", parts)
