"""Rows read by a person: flows, connections and batches as rich tables and as pandas and Arrow
frames (``hyperplane.tables``), for every stage's listing, from the same field-name rules."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from rich.console import Console

import hyperplane as hp
from hyperplane import tables

CLIENT, SERVER = "198.51.100.7", "203.0.113.80"


def _conversation() -> hp.packets.Batch:
    """One TCP handshake and one UDP exchange between documentation-range addresses."""
    b = hp.empty(5)
    tcp, udp = int(hp.Proto.TCP), int(hp.Proto.UDP)
    c, s = hp.ip(CLIENT), hp.ip(SERVER)
    rows = [(c, s, 40000, 443, tcp, 0x02), (s, c, 443, 40000, tcp, 0x12), (c, s, 40000, 443, tcp, 0x10),
            (c, s, 5353, 53, udp, 0), (s, c, 53, 5353, udp, 0)]
    for i, (src, dst, sport, dport, proto, flags) in enumerate(rows):
        b[i] = (1_000_000_000 + i * 1000, src, dst, sport, dport, 60, proto, flags, 0, 0, 0, 0)
    return b


def _flows() -> np.ndarray:
    ct = hp.ConnTrack(capacity=64, seed=1, threads=1)
    ct.process(_conversation())
    return ct.flows()


def _render(table: object) -> str:
    console = Console(record=True, width=250, color_system=None, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_conntrack_flows_render_with_dotted_addresses_and_state_names() -> None:
    out = _render(tables.table(_flows(), title="flows"))
    assert f"{CLIENT}:40000" in out and f"{SERVER}:443" in out and f"{CLIENT}:5353" in out
    assert "ESTABLISHED" in out and "TCP" in out and "UDP" in out
    assert str(hp.ip(CLIENT)) not in out  # no address left as an integer
    assert "flows" in out and "2 rows" in out


def test_nat_connections_render_private_remote_and_public() -> None:
    nat = hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], seed=4, threads=1)
    nat.process(hp.traffic.many_to_one(3, seed=1, dst=SERVER, dst_port=443, client_cidr="10.1.0.0/16"))
    rows = nat.connections()
    out = _render(tables.table(rows))
    for r in rows:
        assert f"{hp.ip_str(r['private_ip'])}:{r['private_port']}" in out
        assert f"203.0.113.10:{r['public_port']}" in out
    assert f"{SERVER}:443" in out and "SYN_SENT" in out


def test_a_batch_with_its_verdicts_renders_flags_and_verdict_names() -> None:
    batch = _conversation()
    verdict = np.array([0, 0, 0, 5, 1], np.uint8)
    out = tables.text(tables.table(batch, verdict=verdict, fields=["ts", "src", "dst", "proto", "tcp_flags", "verdict"]))
    assert "SYN|ACK" in out and "DROP_UNSOLICITED" in out and "DROP_INVALID" in out
    assert "ts (s)" in out and "1.000000" in out and "mark" not in out  # only the fields asked for
    header = next(line for line in out.splitlines() if "src" in line)
    assert header.index("ts") < header.index("src") < header.index("verdict")


def test_limit_shows_the_first_rows_and_says_how_many() -> None:
    batch = hp.traffic.synthetic(flows=10, packets=100, seed=2)
    out = tables.text(tables.table(batch, limit=3))
    assert "first 3 of 100 rows" in out
    assert hp.ip_str(int(batch["src_ip"][0])) in out and out.count("│ TCP") + out.count("│ UDP") <= 3
    assert "100 rows" in tables.text(tables.table(batch, limit=None))


def test_an_address_is_never_cut() -> None:
    out = tables.text(tables.table(_flows()), width=80)  # narrower than the table
    assert f"{CLIENT}:40000" in out


def test_counts_table() -> None:
    out = tables.text(tables.counts({"FORWARD": 3, "DROP_NO_PORT": 1, "RESET": 0}))
    assert "FORWARD" in out and "75.0%" in out and "25.0%" in out and "RESET" not in out
    assert "RESET" in tables.text(tables.counts({"FORWARD": 3, "RESET": 0}, zeros=True))
    nat_counters = {"packets": 4, "forwarded": 3, "no_port": 1}
    assert "100.0%" in tables.text(tables.counts(nat_counters, total="packets"))
    with pytest.raises(ValueError, match="total"):
        tables.counts(nat_counters, total="nope")


def test_show_prints(capsys: pytest.CaptureFixture[str]) -> None:
    tables.show(_flows(), fields=["orig_src", "orig_dst", "state"])
    assert f"{CLIENT}:40000" in capsys.readouterr().out


# (description, call, error, message)
BAD = [
    ("not a structured array", lambda: tables.table(np.arange(3)), TypeError, "rows must be a structured"),
    ("not an array", lambda: tables.columns([1, 2]), TypeError, "rows must be a structured"),  # type: ignore[arg-type]
    ("2-D rows", lambda: tables.columns(np.zeros((2, 2), hp.PACKET_DTYPE)), ValueError, "rows must be 1-D"),
    ("a short extra column", lambda: tables.columns(hp.empty(3), verdict=np.zeros(2, np.uint8)), ValueError,
     "verdict must have one value per row \\(3\\)"),
    ("an unknown field", lambda: tables.table(hp.empty(1), fields=["nope"]), ValueError, "fields"),
    ("a negative limit", lambda: tables.table(hp.empty(1), limit=-1), ValueError, "limit"),
    ("a bad verdict", lambda: tables.columns(hp.empty(1), verdict=[99]), ValueError, "not a Verdict"),
]


@pytest.mark.parametrize(("what", "call", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(what: str, call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]


# --- frames ------------------------------------------------------------------------------


def test_columns_raw_are_the_fields() -> None:
    flows = _flows()
    raw = tables.columns(flows, readable=False)
    assert list(raw) == list(flows.dtype.names or ())
    for name in raw:
        assert np.array_equal(raw[name], flows[name]) and raw[name].dtype == flows[name].dtype


def test_pandas_round_trips_every_field() -> None:
    pd = pytest.importorskip("pandas")  # in the test extra; skips only where it is not installed
    flows = _flows()
    raw = tables.to_pandas(flows, readable=False)
    assert list(raw.columns) == list(flows.dtype.names or ())
    for name in raw.columns:
        assert raw[name].dtype == flows[name].dtype and np.array_equal(raw[name].to_numpy(), flows[name])
    readable = tables.to_pandas(flows)
    assert np.array_equal(hp.ip(readable["orig_src_ip"].to_numpy(dtype=str)), flows["orig_src_ip"])
    assert set(readable["state"]) <= {s.name for s in hp.TcpState} | {"-"}
    assert isinstance(readable["proto"].dtype, pd.CategoricalDtype)
    assert np.array_equal(readable["first_ts"].to_numpy().astype(np.uint64), flows["first_ts"])
    assert readable["replied"].dtype == bool


def test_arrow_round_trips_every_field() -> None:
    pa = pytest.importorskip("pyarrow")
    rows = hp.traffic.synthetic(flows=20, packets=200, seed=3)
    verdict = np.zeros(len(rows), np.uint8)
    raw = tables.to_arrow(rows, readable=False, verdict=verdict)
    assert raw.column_names == [*(rows.dtype.names or ()), "verdict"]
    for name in rows.dtype.names or ():
        assert np.array_equal(raw.column(name).to_numpy(), rows[name])
    readable = tables.to_arrow(rows, verdict=verdict)
    assert readable.schema.field("ts").type == pa.duration("ns")
    assert np.array_equal(readable.column("ts").to_numpy().astype(np.uint64), rows["ts"])
    assert np.array_equal(hp.ip(readable.column("dst_ip").to_pylist()), rows["dst_ip"])
    assert set(readable.column("verdict").to_pylist()) == {"FORWARD"}
    assert pa.types.is_dictionary(readable.schema.field("proto").type)


def test_empty_rows_make_empty_tables_and_frames() -> None:
    empty = hp.empty(0)
    assert "0 rows" in tables.text(tables.table(empty))
    pytest.importorskip("pandas")
    assert len(tables.to_pandas(empty)) == 0 and len(tables.to_pandas(hp.ConnTrack(8, seed=1).flows())) == 0


def test_frames_libraries_are_imported_only_when_asked() -> None:
    code = ("import sys, hyperplane as hp; hp.tables.columns(hp.empty(1));"
            "print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'rich')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_nlb_flows_list_client_node_and_target() -> None:
    targets = [("10.0.1.5:443", "a"), ("10.0.1.6:443", "a")]
    nlb = hp.NetworkLoadBalancer(listeners=[(443, "tcp")], targets=targets, zones={"a": SERVER}, seed=2,
                                 table_size=1009, preserve_client_ip=False, threads=1)
    clients = hp.traffic.many_to_one(40, seed=4, client_cidr="100.64.0.0/16", dst=SERVER)
    res = nlb.process(clients)
    flows = nlb.flows()
    assert flows.dtype == hp.nlb.FLOW_DTYPE and len(flows) == 40 == len(nlb)
    by_client = {(int(f["client_ip"]), int(f["client_port"])): f for f in flows}
    for p, target, out in zip(clients, res.target, res.packets):
        f = by_client[(int(p["src_ip"]), int(p["src_port"]))]
        assert f["target_index"] == target and f["node_ip"] == hp.ip(SERVER) and f["node_port"] == 443
        assert (f["target_ip"], f["target_port"]) == (out["dst_ip"], out["dst_port"])
        assert f["snat_port"] == out["src_port"] and f["state"] == hp.TcpState.SYN_SENT
    assert np.bincount(flows["target_index"], minlength=2).tolist() == list(nlb.flows_per_target().values())
    out = tables.text(tables.table(flows, limit=None))
    assert f"{SERVER}:443" in out and "10.0.1.5:443" in out and "10.0.1.6:443" in out and "SYN_SENT" in out
    assert hp.ip_str(int(flows["client_ip"][0])) in out


def test_the_results_page_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/results.md's examples, in order, and what they say they print."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "results.md").read_text()
    scope: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", page, flags=re.S):
        exec(compile(block, "docs/results.md", "exec"), scope)
    out = capsys.readouterr().out
    assert out.startswith("SYN_SENT\n") and "FORWARD" in out and "TIME_WAIT" in out


def test_metrics_read_as_a_row_per_minute() -> None:
    nat = hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], per_destination=100, seed=1, threads=1)
    nat.process(hp.traffic.many_to_one(300, seed=2, dst=SERVER, client_cidr="10.0.0.0/16", duration_s=90))
    metrics = nat.metrics
    out = tables.text(tables.table(**metrics, fields=["Timestamp", "ErrorPortAllocation", "ConnectionAttemptCount"]))
    assert "Timestamp (s)" in out and "60.000000" in out and "2 rows" in out
    frame = tables.to_arrow(**metrics)
    assert frame.num_rows == 2 and sum(frame.column("ErrorPortAllocation").to_pylist()) == 200
