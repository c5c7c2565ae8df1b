"""The NAT gateway on live frames, judged by Linux's own TCP/IP stacks (issue 14's judges).

A lab of three namespaces (``hyperplane lab up nat``: client 10.10.0.2 ↔ engine ↔ server
192.0.2.2) runs ``hyperplane live nat`` in the gateway's namespace with a 2 s idle timeout.
curl reaches a Python HTTP server, which sees the public address; 200 parallel connections
complete; ping comes back (its echo identifier translated both ways); a connection idle past
the timeout gets an RST on its next segment, as AWS documents: "If a connection that's using
a NAT gateway is idle for 350 seconds or more, the connection times out. When a connection
times out, a NAT gateway returns an RST packet to any resources behind the NAT gateway that
attempt to continue the connection (it does not send a FIN packet)."; and a connection
attempt from the server to the public address gets no answer at all, neither from the
engine nor from its namespace's kernel.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hyperplane.live import lab
from tests.live_lab import Engine, background, engine, in_ns, py_in_ns, skip_unless_able, tag

pytestmark = pytest.mark.live

PUBLIC, SERVER = "192.0.2.1", "192.0.2.2"

SERVE = r"""
import sys
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Who(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the idle test reuses its connection
    def do_GET(self):
        body = self.client_address[0].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
class Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
    def server_bind(self):  # HTTPServer's own would look the name up in DNS: no DNS in a lab
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
s = Server((sys.argv[1], 8080), Who)
print("listening", flush=True)
s.serve_forever()
"""

PARALLEL = r"""
import socket, sys, threading
n, ok, errors = int(sys.argv[2]), [], []
start = threading.Barrier(n)
def one():
    try:
        start.wait()
        with socket.create_connection((sys.argv[1], 8080), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        ok.append(data.startswith(b"HTTP/1.1 200") and data.endswith(b"192.0.2.1"))
    except OSError as e:
        errors.append(repr(e))
threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(ok), len(errors), errors[:3])
"""

IDLE = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=5)
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
s.sendall(req)
first = b""
while not first.endswith(b"192.0.2.1"):  # the whole answer: headers and body may come apart
    first += s.recv(4096)
time.sleep(float(sys.argv[2]))
try:
    s.sendall(req)
    again = s.recv(4096)
    print("answered" if again else "closed", first.startswith(b"HTTP/1.1 200"))
except ConnectionResetError:
    print("reset", first.startswith(b"HTTP/1.1 200"))
except socket.timeout:
    print("timeout", first.startswith(b"HTTP/1.1 200"))
"""

UNSOLICITED = r"""
import socket, sys
s = socket.socket(); s.settimeout(1.5)
try:
    s.connect((sys.argv[1], 8080)); print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("no answer")
"""


@pytest.fixture(scope="module")
def nat_lab() -> Iterator[tuple[dict[str, str], Engine]]:
    skip_unless_able("curl", "ping")
    t = tag()
    hosts = lab.hosts("nat", tag=t)
    lab.down("nat", tag=t)  # a lab this process's pid left behind
    lab.up("nat", tag=t)
    try:
        with background(hosts["server"], SERVE, SERVER), engine(
            ["live", "nat", "--netns", hosts["gw"], "--inside", "in0", "--inside-address", "10.10.0.1/24",
             "--outside", "out0", "--public-ip", f"{PUBLIC}/24", "--private", "10.10.0.0/24",
             "--idle-timeout", "2s", "--seed", "7"]) as e:
            yield hosts, e
            e.stop()
    finally:
        lab.down("nat", tag=t)


def test_curl_reaches_the_server_which_sees_the_public_ip(nat_lab: tuple[dict[str, str], Engine]) -> None:
    hosts, _ = nat_lab
    r = in_ns(hosts["client"], "curl", "-sS", "-m", "5", f"http://{SERVER}:8080/")
    assert r.stdout == PUBLIC


def test_200_parallel_connections_complete(nat_lab: tuple[dict[str, str], Engine]) -> None:
    hosts, _ = nat_lab
    ok, errors, first = py_in_ns(hosts["client"], PARALLEL, SERVER, "200", timeout=60).split(" ", 2)
    assert (int(ok), int(errors)) == (200, 0), first


def test_ping_crosses_with_its_identifier_translated(nat_lab: tuple[dict[str, str], Engine]) -> None:
    hosts, _ = nat_lab
    r = in_ns(hosts["client"], "ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER, check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout


def test_a_connection_idle_past_the_timeout_is_reset(nat_lab: tuple[dict[str, str], Engine]) -> None:
    hosts, _ = nat_lab
    assert py_in_ns(hosts["client"], IDLE, SERVER, "2.6").split() == ["reset", "True"]


def test_unsolicited_inbound_gets_no_answer(nat_lab: tuple[dict[str, str], Engine]) -> None:
    hosts, _ = nat_lab
    assert py_in_ns(hosts["server"], UNSOLICITED, PUBLIC).strip() == "no answer"


def test_the_stop_prints_the_gateways_counters_and_metrics(nat_lab: tuple[dict[str, str], Engine]) -> None:
    _, e = nat_lab
    in_ns(nat_lab[0]["client"], "curl", "-sS", "-m", "5", f"http://{SERVER}:8080/")
    report = e.stop()
    assert "stopped by signal" in report, e.stderr
    assert "IdleTimeoutCount" in report and "ConnectionEstablishedCount" in report
    stage = next(line for line in report.splitlines() if line.startswith("stage"))
    assert "reset" in stage and "unsolicited" in stage, stage
