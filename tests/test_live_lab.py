"""``hyperplane lab up/down``: a lab is made whole and removed whole, and never touches what it
did not make: namespaces that exist already stop ``up``, and ``down`` leaves a namespace with
an interface of someone else's alone (it says which)."""

from __future__ import annotations

import subprocess

import pytest

from hyperplane.cli import main
from hyperplane.live import lab
from tests.live_lab import skip_unless_able, tag

pytestmark = pytest.mark.live


def test_up_and_down_through_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    skip_unless_able()
    t = tag() + "c"
    try:
        assert main(["lab", "up", "nat", "--tag", t]) == 0
        out = capsys.readouterr().out
        assert f"hpl{t}-nat-gw" in out and "hyperplane live nat --inside in0" in out
        assert set(lab.hosts("nat", tag=t).values()) <= lab.existing_namespaces()
        assert main(["lab", "up", "nat", "--tag", t]) == 1  # already there: refused
        assert "exists already" in capsys.readouterr().err
    finally:
        assert main(["lab", "down", "nat", "--tag", t]) == 0
    assert not set(lab.hosts("nat", tag=t).values()) & lab.existing_namespaces()


def test_a_namespace_holding_a_foreign_interface_is_left_alone() -> None:
    skip_unless_able()
    t = tag() + "f"
    ns = lab.hosts("nat", tag=t)["client"]
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "theirs0", "type", "veth", "peer", "name", "theirs1"],
                       check=True, capture_output=True)
        with pytest.raises(lab.LabError, match="exists already"):
            lab.up("nat", tag=t)
        with pytest.raises(lab.LabError, match="holds theirs., theirs., which the lab did not make"):
            lab.down("nat", tag=t)
        assert ns in lab.existing_namespaces()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
