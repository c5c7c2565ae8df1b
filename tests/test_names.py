"""Codes read as names: verdicts, TCP states, protocols and flags, one element or a whole array,
and addresses as dotted text both ways. Table-driven: each row is a case a new user would try."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hyperplane as hp
from hyperplane.verdict import CodeEnum, FlagEnum

# (description, member, str(), f"{}" with a numeric spec, its result)
MEMBERS: list[tuple[str, Any, str, str, str]] = [
    ("a TCP state prints its name", hp.TcpState(1), "SYN_SENT", "d", "1"),
    ("a verdict prints its name", hp.Verdict(4), "DROP_NO_PORT", "03d", "004"),
    ("a protocol prints its name", hp.Proto(6), "TCP", "#x", "0x6"),
    ("combined TCP flags print joined", hp.TcpFlag.SYN | hp.TcpFlag.ACK, "SYN|ACK", "d", "18"),
    ("no flags print as a dash", hp.TcpFlag(0), "-", "d", "0"),
    ("a packet flag prints its name", hp.PacketFlag.FRAGMENT, "FRAGMENT", "d", "1"),
    ("an unnamed packet-flag bit prints in hex", hp.PacketFlag(0x81), "FRAGMENT|0x80", "d", "129"),
]


@pytest.mark.parametrize(("what", "member", "text", "spec", "formatted"), MEMBERS, ids=[m[0] for m in MEMBERS])
def test_member_reads_as_name(what: str, member: Any, text: str, spec: str, formatted: str) -> None:
    assert str(member) == text and f"{member}" == text
    assert format(member, spec) == formatted  # a numeric format still gives the number
    assert f"{member:>{len(text) + 2}}" == "  " + text  # a width pads the name


def test_repr_keeps_class_name_and_value() -> None:
    assert repr(hp.TcpState.ESTABLISHED) == "<TcpState.ESTABLISHED: 3>"
    assert hp.TcpState.ESTABLISHED == 3 and int(hp.Verdict.DROP_NO_PORT) == 4  # still integers


# (description, enum, codes, names)
ARRAYS: list[tuple[str, type[CodeEnum] | type[FlagEnum], Any, list[str]]] = [
    ("verdicts from a stage (uint8)", hp.Verdict, np.array([0, 4, 4, 2], np.uint8),
     ["FORWARD", "DROP_NO_PORT", "DROP_NO_PORT", "DROP_TABLE_FULL"]),
    ("the last verdict", hp.Verdict, np.array([len(hp.Verdict) - 1], np.uint8), [list(hp.Verdict)[-1].name]),
    ("a plain list of ints", hp.TcpState, [3, 7, 0], ["ESTABLISHED", "TIME_WAIT", "NONE"]),
    ("wider integer dtypes", hp.Proto, np.array([17, 1, 6], np.int64), ["UDP", "ICMP", "TCP"]),
    ("an empty array", hp.Verdict, np.array([], np.uint8), []),
    ("an empty list", hp.Verdict, [], []),
    ("TCP flags", hp.TcpFlag, np.array([0x02, 0x12, 0x11, 0], np.uint8), ["SYN", "SYN|ACK", "FIN|ACK", "-"]),
    ("a capture's frame kinds", hp.pcap.FrameKind, np.array([0, 2, 1], np.uint8), ["IPV4", "OTHER", "IPV6"]),
    ("link types", hp.pcap.LinkType, [1, 113, 276], ["ETHERNET", "LINUX_SLL", "LINUX_SLL2"]),
    ("packet flags", hp.PacketFlag, np.array([0, 1, 2, 3], np.uint8), ["-", "FRAGMENT", "ICMP_ERROR", "FRAGMENT|ICMP_ERROR"]),
]


@pytest.mark.parametrize(("what", "enum", "codes", "names"), ARRAYS, ids=[a[0] for a in ARRAYS])
def test_names_of_an_array(what: str, enum: Any, codes: Any, names: list[str]) -> None:
    out = enum.names(codes)
    assert isinstance(out, np.ndarray) and out.shape == np.shape(codes)
    assert out.tolist() == names


def test_names_keep_the_shape() -> None:
    assert hp.Verdict.names(np.array([[0, 1], [3, 0]])).tolist() == [["FORWARD", "DROP_INVALID"], ["RESET", "FORWARD"]]


def test_every_verdict_has_its_name() -> None:
    codes = np.arange(len(hp.Verdict), dtype=np.uint8)
    assert hp.Verdict.names(codes).tolist() == [v.name for v in hp.Verdict]


# (description, enum, codes, error, message)
BAD: list[tuple[str, Any, Any, type[Exception], str]] = [
    ("floats", hp.Verdict, np.array([0.0, 1.0]), TypeError, "codes must be integers"),
    ("booleans", hp.Verdict, np.array([True]), TypeError, "codes must be integers"),
    ("text", hp.TcpState, ["ESTABLISHED"], TypeError, "codes must be integers"),
    ("a value past the list", hp.Verdict, np.array([0, 200], np.uint8), ValueError, "200, which is not a Verdict"),
    ("a negative value", hp.TcpState, [-1], ValueError, "-1, which is not a TcpState"),
    ("a gap between protocols", hp.Proto, [6, 7], ValueError, "7, which is not a Proto"),
    ("flags wider than a byte", hp.TcpFlag, [256], ValueError, "256, which is not a TcpFlag"),
]


@pytest.mark.parametrize(("what", "enum", "codes", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_names_refuse_bad_codes(what: str, enum: Any, codes: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        enum.names(codes)


# (description, codes, summary)
SUMMARIES: list[tuple[str, Any, dict[str, int]]] = [
    ("counts by reason, in the list's order, zeros left out", np.array([4, 0, 4, 2, 0, 0], np.uint8),
     {"FORWARD": 3, "DROP_TABLE_FULL": 1, "DROP_NO_PORT": 2}),
    ("nothing", np.array([], np.uint8), {}),
    ("one reason", [3] * 5, {"RESET": 5}),
]


@pytest.mark.parametrize(("what", "codes", "summary"), SUMMARIES, ids=[s[0] for s in SUMMARIES])
def test_summary_by_reason(what: str, codes: Any, summary: dict[str, int]) -> None:
    out = hp.Verdict.summary(codes)
    assert out == summary and list(out) == list(summary)


def test_summary_of_a_stage_matches_its_counters() -> None:
    nat = hp.NatGateway(["203.0.113.10"], ["10.0.0.0/8"], per_destination=100, seed=1)
    verdict = nat.process(hp.traffic.many_to_one(300, seed=2, dst="198.51.100.7", client_cidr="10.0.0.0/16")).verdict
    summary = hp.Verdict.summary(verdict)
    assert summary == {"FORWARD": 100, "DROP_NO_PORT": 200}
    assert summary["DROP_NO_PORT"] == nat.counters["no_port"]


def test_summary_refuses_what_names_refuses() -> None:
    with pytest.raises(TypeError, match="codes"):
        hp.Verdict.summary(np.array([1.5]))
    with pytest.raises(ValueError, match="not a Verdict"):
        hp.Verdict.summary([99])


# --- addresses ---------------------------------------------------------------------------

# (description, address as given, dotted)
ADDRESSES: list[tuple[str, Any, str]] = [
    ("a Python int", 3221225985, "192.0.2.1"),
    ("a numpy uint32 scalar (a batch's field)", np.uint32(3221225985), "192.0.2.1"),
    ("the lowest address", 0, "0.0.0.0"),
    ("the highest address", 2**32 - 1, "255.255.255.255"),
    ("a 0-d array", np.array(167772161, np.uint32), "10.0.0.1"),
]


@pytest.mark.parametrize(("what", "address", "dotted"), ADDRESSES, ids=[a[0] for a in ADDRESSES])
def test_ip_str_of_one(what: str, address: Any, dotted: str) -> None:
    out = hp.ip_str(address)
    assert isinstance(out, str) and out == dotted
    assert hp.ip(dotted) == int(address)


# (description, addresses, dotted)
ADDRESS_ARRAYS: list[tuple[str, Any, list[str]]] = [
    ("uint32, the edges", np.array([0, 2**32 - 1, 3221225985], np.uint32), ["0.0.0.0", "255.255.255.255", "192.0.2.1"]),
    ("int64 in range", np.array([167772161, 16909060], np.int64), ["10.0.0.1", "1.2.3.4"]),
    ("a list of ints", [3325256704, 3405803776], ["198.51.100.0", "203.0.113.0"]),
    ("empty", np.array([], np.uint32), []),
    ("every octet boundary", np.array([0x01000000, 0x00010000, 0x00000100, 0x000000FF], np.uint32),
     ["1.0.0.0", "0.1.0.0", "0.0.1.0", "0.0.0.255"]),
]


@pytest.mark.parametrize(("what", "addresses", "dotted"), ADDRESS_ARRAYS, ids=[a[0] for a in ADDRESS_ARRAYS])
def test_ip_str_of_an_array(what: str, addresses: Any, dotted: list[str]) -> None:
    out = hp.ip_str(addresses)
    assert isinstance(out, np.ndarray) and out.shape == np.shape(addresses)
    assert out.tolist() == dotted
    back = hp.ip(dotted)
    assert back.dtype == np.uint32 and back.tolist() == [int(a) for a in addresses]


def test_ip_str_matches_ipaddress_on_random_addresses() -> None:
    import ipaddress

    addresses = np.random.default_rng(7).integers(0, 2**32, 5_000, dtype=np.uint32)
    assert hp.ip_str(addresses).tolist() == [str(ipaddress.IPv4Address(int(a))) for a in addresses]
    assert np.array_equal(hp.ip(hp.ip_str(addresses)), addresses)


def test_ip_str_of_a_batch_column_keeps_shape() -> None:
    batch = hp.traffic.synthetic(flows=5, packets=40, seed=1)
    dotted = hp.ip_str(batch["src_ip"])
    assert dotted.shape == (40,) and dotted[0] == hp.ip_str(int(batch["src_ip"][0]))
    assert hp.ip_str(np.array([[0, 1]], np.uint32)).tolist() == [["0.0.0.0", "0.0.0.1"]]


# (description, address, error, message)
BAD_ADDRESSES: list[tuple[str, Any, type[Exception], str]] = [
    ("a float array", np.array([1.0]), TypeError, "address must be an integer"),
    ("a float", 1.5, TypeError, "address must be an integer"),
    ("a bool", True, TypeError, "address must be an integer"),
    ("text to ip_str", np.array(["10.0.0.1"]), TypeError, "address must be an integer"),
    ("a negative int", -1, ValueError, "address must be in 0..2\\*\\*32-1"),
    ("past 32 bits", 2**32, ValueError, "address must be in 0..2\\*\\*32-1"),
    ("an array past 32 bits", np.array([0, 2**32], np.int64), ValueError, "address must hold values in 0..2\\*\\*32-1"),
]


@pytest.mark.parametrize(("what", "address", "error", "message"), BAD_ADDRESSES, ids=[b[0] for b in BAD_ADDRESSES])
def test_ip_str_refuses(what: str, address: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        hp.ip_str(address)


@pytest.mark.parametrize(("address", "error"), [("10.0.0.256", ValueError), (["10.0.0.1", "nope"], ValueError),
                                                (np.array([1, 2]), TypeError)])
def test_ip_refuses(address: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="address"):
        hp.ip(address)
