"""The Network Load Balancer on live frames, both directions, judged by Linux's TCP stacks.

A lab (``hyperplane lab up nlb``: client 192.0.2.10 ↔ engine ↔ targets 10.20.0.2-4) runs the
balancer in this process (a thread; its interfaces opened in the lab's gateway namespace)
so that the test can read its flows and set targets' health as it runs. Each target's HTTP
server answers with its own address and the client's address it sees.

AWS: "Each individual TCP connection is routed to a single target for the life of the
connection" (chosen by a flow hash over "the protocol, source IP address, source port,
destination IP address, destination port, and TCP sequence number"); with client IP
preservation the target sees the client's address; and when a target becomes unhealthy the
load balancer "sends a TCP RST for packets received on the client connections associated
with the target" (``target_health_state.unhealthy.connection_termination.enabled``, default
true) and routes new connections to healthy targets.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

import hyperplane as hp
from hyperplane.live import lab
from hyperplane.live.nlb import LiveNlb, live_nlb
from tests.live_lab import TOOLS_ENV, background, py_in_ns, skip_unless_able, tag

pytestmark = pytest.mark.live

LISTENER, CLIENT = "192.0.2.80", "192.0.2.10"
TARGETS = ["10.20.0.2:80", "10.20.0.3:80", "10.20.0.4:80"]

SERVE = r"""
import threading
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Who(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = f"{self.server.server_address[0]} {self.client_address[0]}".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True
    def server_bind(self):  # HTTPServer's own would look the name up in DNS: no DNS in a lab
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
servers = [Server((f"10.20.0.{i}", 80), Who) for i in (2, 3, 4)]
for s in servers: threading.Thread(target=s.serve_forever, daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"""

# One connection per line of output: its local port and what the target said.
MANY = r"""
import socket, sys
for _ in range(int(sys.argv[2])):
    with socket.create_connection((sys.argv[1], 80), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        print(s.getsockname()[1], data.split(b"\r\n\r\n", 1)[1].decode(), flush=True)
"""

# One kept-alive connection; each line on stdin asks once more: prints the answer or "reset".
KEEP = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
for _ in sys.stdin:
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1].count(b" "):
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionResetError
            data += chunk
        print(data.split(b"\r\n\r\n", 1)[1].decode(), flush=True)
    except (ConnectionResetError, BrokenPipeError):
        print("reset", flush=True)
        break
"""


@pytest.fixture(scope="module")
def nlb_lab() -> Iterator[tuple[dict[str, str], LiveNlb]]:
    skip_unless_able()
    t = tag()
    hosts = lab.hosts("nlb", tag=t)
    lab.down("nlb", tag=t)
    lab.up("nlb", tag=t)
    try:
        with background(hosts["targets"], SERVE):
            lb = live_nlb("in0", "192.0.2.1/24", f"{LISTENER}:80/tcp", "out0", "10.20.0.1/24", TARGETS, seed=11,
                          netns=hosts["gw"])
            stop = threading.Event()
            runner = threading.Thread(target=lb.run, kwargs={"stop": stop}, daemon=True)
            runner.start()
            try:
                yield hosts, lb
            finally:
                stop.set()
                runner.join(timeout=10)
    finally:
        lab.down("nlb", tag=t)


class Keeper:
    """The KEEP script in the client's namespace."""

    def __init__(self, ns: str) -> None:
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", KEEP, LISTENER], env=TOOLS_ENV,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self) -> str:
        assert self.p.stdin and self.p.stdout
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self) -> None:
        self.p.kill()
        self.p.wait(timeout=10)
        for f in (self.p.stdin, self.p.stdout):
            if f:
                f.close()


def test_flows_spread_by_the_flow_hash_and_the_client_ip_is_preserved(nlb_lab: tuple[dict[str, str], LiveNlb]) -> None:
    hosts, lb = nlb_lab
    lines = [line.split() for line in py_in_ns(hosts["client"], MANY, LISTENER, "45").splitlines()]
    assert len(lines) == 45
    seen = {int(port): target for port, target, _ in lines}
    assert {client for _, _, client in lines} == {CLIENT}  # the target saw the client itself
    assert set(Counter(seen.values())) == {t.split(":")[0] for t in TARGETS}  # all three used
    flows = lb.nlb.flows()
    chosen = {int(f["client_port"]): hp.ip_str(int(f["target_ip"])) for f in flows if f["client_port"] in seen}
    assert chosen == seen  # each connection went where the stage's flow hash sent it


def test_a_connection_stays_on_its_target_when_the_table_changes(nlb_lab: tuple[dict[str, str], LiveNlb]) -> None:
    hosts, lb = nlb_lab
    k = Keeper(hosts["client"])
    try:
        first = k.ask().split()[0]
        other = next(t for t in TARGETS if not t.startswith(first + ":"))
        lb.nlb.set_health(other, False)  # new Maglev tables; the live flow keeps its target
        try:
            assert [k.ask().split()[0] for _ in range(5)] == [first] * 5
        finally:
            lb.nlb.set_health(other, True)
    finally:
        k.close()


def test_an_unhealthy_targets_flows_are_reset_and_new_ones_go_elsewhere(nlb_lab: tuple[dict[str, str], LiveNlb]) -> None:
    hosts, lb = nlb_lab
    k = Keeper(hosts["client"])
    try:
        target = k.ask().split()[0]
        lb.nlb.set_health(f"{target}:80", False)
        try:
            assert k.ask() == "reset"
            lines = py_in_ns(hosts["client"], MANY, LISTENER, "20").splitlines()
            assert len(lines) == 20 and target not in {line.split()[1] for line in lines}
        finally:
            lb.nlb.set_health(f"{target}:80", True)
    finally:
        k.close()
    assert lb.nlb.counters["reset"] >= 1
