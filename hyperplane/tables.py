"""Results a person can read: the engine's rows as tables (rich) and frames (pandas, Arrow).

The engine answers in numpy structured arrays — a batch, ``ct.flows()``, ``nat.connections()``
— exact and fast, and bare numbers to a reader. Their fields are named alike in every dtype, so
one reader serves every stage, by field name: ``*_ip`` is an address (dotted), ``proto`` a
:class:`~hyperplane.packets.Proto`, ``state`` a :class:`~hyperplane.conntrack.TcpState` (TCP
rows; ``-`` for the others), ``tcp_flags`` and ``flags`` their flag names, ``verdict`` a
:class:`~hyperplane.verdict.Verdict`, ``ts`` and ``*_ts`` packet time in ns, ``replied`` and
``stream`` yes/no; ``Timestamp`` (a stage's ``metrics``) packet time too. Each column is
converted whole (lookup tables, no loop per row). Columns may also come as keywords alone:
``hp.tables.table(**nat.metrics)`` is the CloudWatch metrics, a row per minute.

rich, pandas and pyarrow are imported only when a table or a frame is asked for: reading
results is optional, the engine is not (``pip install "hyperplane[frames]"`` for the frames).

>>> import hyperplane as hp
>>> ct = hp.ConnTrack(capacity=1024, seed=1)
>>> _ = ct.process(hp.traffic.synthetic(flows=10, packets=100, seed=1))
>>> hp.tables.show(ct.flows(), limit=3)           # doctest: +SKIP
>>> hp.tables.to_pandas(ct.flows()).columns[:4].tolist()
['first_ts', 'last_ts', 'bytes_orig', 'bytes_reply']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hyperplane.conntrack import TcpState
from hyperplane.packets import PacketFlag, Proto, TcpFlag, ip_str
from hyperplane.verdict import Verdict

if TYPE_CHECKING:
    import pandas
    import pyarrow
    from rich.table import Table

Rows = npt.NDArray[np.void]
"""A 1-D structured array: a batch of ``PACKET_DTYPE``, ``FLOW_DTYPE`` or ``CONNECTION_DTYPE`` rows."""

_BOOLS = frozenset({"replied", "stream"})
_LABELS = ("port", "shard", "target", "index", "seq", "mark")
"""Integer fields that name or number something rather than count it: no thousands separators."""
_NUMERIC = frozenset("iuf")


def _is_address(name: str) -> bool:
    return name.endswith("_ip")


def _is_time(name: str) -> bool:
    return name in ("ts", "Timestamp") or name.endswith("_ts")


def _raw(rows: Rows | None, extra: Mapping[str, npt.ArrayLike]) -> dict[str, npt.NDArray[Any]]:
    """The fields of ``rows`` then the ``extra`` columns, each 1-D and of one length."""
    out: dict[str, npt.NDArray[Any]] = {}
    if rows is not None:
        if not isinstance(rows, np.ndarray) or rows.dtype.names is None:
            raise TypeError(f"rows must be a structured numpy array (a batch, flows or connections), not {type(rows).__name__}")
        if rows.ndim != 1:
            raise ValueError(f"rows must be 1-D, not {rows.ndim}-D")
        out = {name: rows[name] for name in rows.dtype.names}
    length = len(rows) if rows is not None else None
    for name, values in extra.items():
        column = np.asarray(values)
        if column.ndim != 1:
            raise ValueError(f"{name} must be a 1-D column, not {column.ndim}-D")
        if length is None:
            length = len(column)
        if len(column) != length:
            raise ValueError(f"{name} must have one value per row ({length}), not {len(column)}")
        out[name] = column
    return out


def _readable(name: str, column: npt.NDArray[Any], proto: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
    """One column as a reader wants it (names, dotted addresses); time stays in ns."""
    if column.dtype.kind not in _NUMERIC:
        return column
    if _is_address(name):
        return ip_str(column)
    if name == "proto" and column.size and int(column.max()) < 256:
        return Proto.name_table(256)[column.astype(np.intp)]
    if name == "state":
        states = TcpState.names(column)
        return states if proto is None else np.where(proto == int(Proto.TCP), states, "-")
    if name == "tcp_flags":
        return TcpFlag.names(column)
    if name == "flags":
        return PacketFlag.names(column)
    if name == "verdict":
        return Verdict.names(column)
    if name in _BOOLS:
        return column.astype(bool)
    return column


def columns(rows: Rows | None = None, *, readable: bool = True, **extra: npt.ArrayLike) -> dict[str, npt.NDArray[Any]]:
    """The fields of ``rows`` as named columns, then any ``extra`` ones of the same length
    (``columns(batch, verdict=result.verdict, target=result.target)``).

    ``readable`` (default) turns addresses into dotted text, protocols, TCP states, flags and
    verdicts into names and ``replied``/``stream`` into booleans; time stays integer ns.
    ``readable=False`` gives the fields as they are. Without ``rows``, only the extra columns."""
    raw = _raw(rows, extra)
    if not readable:
        return raw
    proto = raw.get("proto")
    return {name: _readable(name, column, proto) for name, column in raw.items()}


def _cell(name: str, value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, np.integer) and _is_time(name):
        return f"{int(value) / 1e9:.6f}"
    if isinstance(value, np.integer) and not name.endswith(_LABELS):
        return f"{int(value):,}"
    if isinstance(value, np.floating):
        return f"{float(value):,.6g}"
    return str(value)


def _endpoints(cols: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    """Each ``X_ip`` with its ``X_port`` as one ``X`` column of ``ip:port`` text, where the ip was
    (unless a column is already called ``X``)."""
    joined = {name.removesuffix("_ip") for name in cols
              if _is_address(name) and f"{name.removesuffix('_ip')}_port" in cols and name.removesuffix("_ip") not in cols}
    out: dict[str, npt.NDArray[Any]] = {}
    for name, column in cols.items():
        stem = name.removesuffix("_ip")
        if _is_address(name) and stem in joined:
            out[stem] = np.char.add(np.char.add(column, ":"), cols[f"{stem}_port"].astype(str))
        elif not (name.endswith("_port") and name.removesuffix("_port") in joined):
            out[name] = column
    return out


def table(
    rows: Rows | None = None,
    *,
    title: str | None = None,
    limit: int | None = 20,
    fields: Sequence[str] | None = None,
    **extra: npt.ArrayLike,
) -> Table:
    """``rows`` (and ``extra`` columns, as :func:`columns`) as a rich ``Table`` of readable cells:
    each address with its port as ``ip:port`` (``src_ip`` and ``src_port`` read as ``src``), names
    of protocols, states, flags and verdicts, packet time in seconds (headed ``(s)``), counts with
    thousands separators. ``fields`` picks and orders the columns, by those names (default: all).
    Only the first ``limit`` rows are shown (``None``: all); the caption says how many there are."""
    from rich.table import Table

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a number of rows >= 0 or None, not {limit!r}")
    cols = _endpoints(columns(rows, readable=True, **extra))
    if fields is not None:
        unknown = [f for f in fields if f not in cols]
        if isinstance(fields, str) or unknown:
            raise ValueError(f"fields: {unknown if unknown else fields!r} not among the columns {list(cols)}")
        cols = {f: cols[f] for f in fields}
    n = len(next(iter(cols.values()))) if cols else 0
    shown = n if limit is None else min(n, limit)
    caption = f"first {shown:,} of {n:,} rows" if shown < n else f"{n:,} rows"
    out = Table(title=title, caption=caption)
    cells = {name: [_cell(name, column[i]) for i in range(shown)] for name, column in cols.items()}
    for name, column in cols.items():
        numeric = column.dtype.kind in _NUMERIC
        widest = max((len(c) for c in cells[name]), default=1)
        header = f"{name} (s)" if _is_time(name) and numeric else name
        # A cell is never cut (an address must read whole); a header may wrap.
        out.add_column(header, justify="right" if numeric else "left", min_width=widest, no_wrap=True)
    for i in range(shown):  # at most ``limit`` rows: a table is for reading, not for the whole trace
        out.add_row(*(cells[name][i] for name in cols))
    return out


def counts(
    values: Mapping[str, int], *, title: str | None = None, total: str | None = None, zeros: bool = False
) -> Table:
    """Counts by name (``hp.Verdict.summary(v)``, a stage's ``counters``) as a rich ``Table`` with
    each one's share of ``total`` (a key of ``values``, e.g. ``"packets"``; default: their sum).
    Names counted 0 are left out unless ``zeros``."""
    from rich.table import Table

    if total is not None and total not in values:
        raise ValueError(f"total: {total!r} is not one of the names counted")
    whole = values[total] if total is not None else sum(values.values())
    out = Table(title=title)
    out.add_column("name")
    out.add_column("count", justify="right")
    out.add_column("share", justify="right")
    for name, count in values.items():
        if count or zeros:
            out.add_row(name, f"{count:,}", f"{count / whole:.1%}" if whole else "-")
    return out


def show(
    rows: Rows | None = None,
    *,
    title: str | None = None,
    limit: int | None = 20,
    fields: Sequence[str] | None = None,
    **extra: npt.ArrayLike,
) -> None:
    """Print :func:`table` of ``rows`` to the terminal (to a pipe or file: at the table's full width)."""
    from rich.console import Console

    rendered = table(rows, title=title, limit=limit, fields=fields, **extra)
    console = Console()
    if not console.is_terminal:
        console = Console(width=_width(rendered))
    console.print(rendered)


def _width(rich_table: Table) -> int:
    """The width ``rich_table`` takes when nothing narrows it."""
    import io

    from rich.console import Console
    from rich.measure import Measurement

    probe = Console(width=10_000, file=io.StringIO())
    return Measurement.get(probe, probe.options, rich_table).maximum


def text(rich_table: Table, *, width: int | None = None) -> str:
    """A rich table as plain text (for logs, files and tests), ``width`` characters wide
    (default: as wide as the table needs)."""
    import io

    from rich.console import Console

    console = Console(record=True, width=_width(rich_table) if width is None else width, file=io.StringIO(), color_system=None)
    console.print(rich_table)
    return console.export_text()


def to_pandas(rows: Rows | None = None, *, readable: bool = True, **extra: npt.ArrayLike) -> pandas.DataFrame:
    """:func:`columns` as a pandas ``DataFrame`` (needs ``pandas``: ``pip install "hyperplane[frames]"``).
    With ``readable``, time columns are ``timedelta64[ns]`` of packet time and names are
    categories; ``readable=False`` keeps every field's own dtype."""
    pd = _optional("pandas")
    cols = columns(rows, readable=readable, **extra)
    if readable:
        cols = {name: _frame_column(pd, name, column) for name, column in cols.items()}
    return pd.DataFrame(cols)


def _frame_column(pd: Any, name: str, column: npt.NDArray[Any]) -> Any:
    if _is_time(name) and column.dtype.kind in "iu":
        return column.astype("timedelta64[ns]")
    if column.dtype.kind == "U" and not _is_address(name):
        return pd.Categorical(column)
    return column


def to_arrow(rows: Rows | None = None, *, readable: bool = True, **extra: npt.ArrayLike) -> pyarrow.Table:
    """:func:`columns` as an Arrow ``Table`` (needs ``pyarrow``: ``pip install "hyperplane[frames]"``).
    With ``readable``, time columns are ``duration[ns]`` of packet time and names are
    dictionary-encoded strings; ``readable=False`` keeps every field's own type."""
    pa = _optional("pyarrow")
    cols = columns(rows, readable=readable, **extra)
    arrays = {}
    for name, column in cols.items():
        if readable and _is_time(name) and column.dtype.kind in "iu":
            arrays[name] = pa.array(column.astype(np.int64), type=pa.duration("ns"))
        elif readable and column.dtype.kind == "U" and not _is_address(name):
            arrays[name] = pa.array(column).dictionary_encode()
        else:
            arrays[name] = pa.array(column)
    return pa.table(arrays)


def _optional(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{module} is needed for this: pip install \"hyperplane[frames]\" (or {module} alone)") from None
