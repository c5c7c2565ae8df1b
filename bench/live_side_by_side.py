"""The live engine against Linux doing the same job, in the same labs, measured in one run.

usage: python bench/live_side_by_side.py [--rounds 2] [--seconds 3] [--only nat|nlb]   (root)

For each lab (``hyperplane lab up nat`` / ``nlb``), rounds alternate between the engine
(``hyperplane live nat|nlb`` in the gateway namespace, on TPACKET_V3 and on V2 rings) and Linux (``hyperplane.live.linux``:
forwarding and nftables masquerade, or nftables jhash DNAT for the balancer), so both see the
same machine load; each figure is the median over its rounds. Throughput: iperf3 through the
NAT gateway (one TCP stream, client to server); through the balancer, one TCP stream from a
target to the client (iperf3 opens two connections, which a balancer may send to different
targets). Connection rate: a loop opening and closing TCP connections (the server closes
each at once) for ``--seconds``. A program, not a test: machines differ and neighbours add
noise; the ratio in one run is what to read (DESIGN.md section 5).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from hyperplane.live import lab, linux

PATH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])
ENV = os.environ | {"PATH": PATH}
TAG = "bench"

# One server per address: a connection's first byte asks for a bulk stream ("b") or nothing ("r": closed at once).
SERVE = r"""
import socket, sys, threading
def one(c):
    try:
        if c.recv(1) == b"b":
            block = bytes(1 << 16)
            while True: c.sendall(block)
    except OSError: pass
    finally: c.close()
def serve(address):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, int(sys.argv[1]))); s.listen(1024)
    while True:
        c, _ = s.accept(); threading.Thread(target=one, args=(c,), daemon=True).start()
for a in sys.argv[2:]:
    threading.Thread(target=serve, args=(a,), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
"""

RATE = r"""
import socket, sys, time
end, n = time.monotonic() + float(sys.argv[3]), 0
while time.monotonic() < end:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
        s.sendall(b"r"); s.recv(1)
    n += 1
print(n / float(sys.argv[3]))
"""

RECEIVE = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"b")
end, got = time.monotonic() + float(sys.argv[3]), 0
buf = bytearray(1 << 20)
while time.monotonic() < end:
    got += s.recv_into(buf)
print(got * 8 / float(sys.argv[3]))
"""


def in_ns(ns: str, *cmd: str, timeout: float = 60) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=timeout,
                          check=True, env=ENV).stdout


@contextmanager
def process(ns: str | None, *cmd: str, ready: Callable[[str], bool]) -> Iterator[subprocess.Popen[str]]:
    argv = ["ip", "netns", "exec", ns, *cmd] if ns else list(cmd)
    # From "/": `-c` puts the working directory first on sys.path, and a checkout's hyperplane/
    # may have no built core.
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd="/")
    try:
        stream = p.stdout if ns else p.stderr
        assert stream is not None
        line = stream.readline()
        if not ready(line):
            raise RuntimeError(f"{' '.join(cmd[:3])} did not start: {line}{p.stderr.read() if p.stderr else ''}")
        yield p
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()


def engine(name: str, ring: str, seed: int) -> list[str]:
    gw = lab.hosts(name, tag=TAG)["gw"]
    spec = lab.lab(name).engine
    return [sys.executable, "-c", "import sys; from hyperplane.cli import main; sys.exit(main())", *spec,
            "--netns", gw, "--seed", str(seed), "--ring", ring]


def measure(name: str, seconds: float) -> tuple[float, float]:
    """(bits/s, connections/s) through the lab's gateway, whichever runs it."""
    h = lab.hosts(name, tag=TAG)
    if name == "nat":
        out = json.loads(in_ns(h["client"], "iperf3", "-c", "192.0.2.2", "-t", str(seconds), "-J"))
        bps = float(out["end"]["sum_received"]["bits_per_second"])
        rate = float(in_ns(h["client"], sys.executable, "-c", RATE, "192.0.2.2", "9000", str(seconds)))
    else:
        bps = float(in_ns(h["client"], sys.executable, "-c", RECEIVE, "192.0.2.80", "80", str(seconds)))
        rate = float(in_ns(h["client"], sys.executable, "-c", RATE, "192.0.2.80", "80", str(seconds)))
    return bps, rate


def run_lab(name: str, rounds: int, seconds: float) -> dict[str, tuple[float, float]]:
    lab.down(name, tag=TAG)
    lab.up(name, tag=TAG)
    h = lab.hosts(name, tag=TAG)
    results: dict[str, list[tuple[float, float]]] = {"v3": [], "v2": [], "linux": []}
    try:
        with ExitStack() as servers:
            if name == "nat":
                servers.enter_context(process(h["server"], "iperf3", "-s", "-B", "192.0.2.2", "--forceflush",
                                              ready=lambda s: "-----" in s))
                servers.enter_context(process(h["server"], sys.executable, "-c", SERVE, "9000", "192.0.2.2",
                                              ready=lambda s: "listening" in s))
            else:
                servers.enter_context(process(h["targets"], sys.executable, "-c", SERVE, "80", "10.20.0.2",
                                              "10.20.0.3", "10.20.0.4", ready=lambda s: "listening" in s))
            for r in range(rounds):
                for ring in ("v3", "v2"):
                    # A seed of its own each run: a run repeating another's public ports would meet the
                    # server's TIME_WAIT sockets of the same tuples (PAWS then refuses the new SYNs).
                    with process(None, *engine(name, ring, 10 * r + int(ring[1])), ready=lambda s: "running on" in s):
                        results[ring].append(measure(name, seconds))
                linux.enable(name, tag=TAG)
                try:
                    results["linux"].append(measure(name, seconds))
                finally:
                    linux.disable(name, tag=TAG)
    finally:
        lab.down(name, tag=TAG)
    return {k: (statistics.median(b for b, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", choices=["nat", "nlb"])
    args = parser.parse_args()
    rows = []
    for name in [args.only] if args.only else ["nat", "nlb"]:
        r = run_lab(name, args.rounds, args.seconds)
        lb, lc = r["linux"]
        for ring in ("v3", "v2"):
            eb, ec = r[ring]
            rows.append(f"| {name} | engine, TPACKET_{ring.upper()} | {eb / 1e9:.2f} | {eb / lb:.2f} | {ec:,.0f} | "
                        f"{ec / lc:.2f} |")
        rows.append(f"| {name} | Linux (nftables) | {lb / 1e9:.2f} | 1 | {lc:,.0f} | 1 |")
    print(f"rounds {args.rounds}, {args.seconds:g} s each, medians")
    print("| lab | gateway | Gbit/s | vs Linux | connections/s | vs Linux |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
