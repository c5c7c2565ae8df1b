"""What happens to live flows when an NLB target fails?

Three targets in one zone; 3,000 long-lived TCP clients send a segment every 10 s, and a
client whose flow is reset reconnects with a SYN. One target stops answering from
t = 10 s to t = 100 s; the health checks (every 30 s, unhealthy after 2 failures,
healthy after 5 passes) decide when the balancer reacts.

    python examples/nlb_target_failure.py
"""

from __future__ import annotations

import numpy as np

import hyperplane as hp
from hyperplane.health import Outage, health_changes

S = 1_000_000_000
CLIENTS, STEP_S, UNTIL_S = 3000, 10, 300


def step(t_s: int, syn: np.ndarray) -> np.ndarray:
    """Every client's packet at time t: a SYN for those (re)connecting, else a data segment."""
    pkts = hp.empty(CLIENTS)
    pkts["ts"] = t_s * S + np.arange(CLIENTS)
    pkts["src_ip"] = hp.ip("192.0.2.0") + np.arange(CLIENTS) // 100
    pkts["src_port"] = 20_000 + np.arange(CLIENTS) % 100
    pkts["dst_ip"], pkts["dst_port"], pkts["proto"], pkts["length"] = hp.ip("198.19.10.1"), 80, 6, 64
    pkts["tcp_flags"] = np.where(syn, int(hp.TcpFlag.SYN), int(hp.TcpFlag.PSH | hp.TcpFlag.ACK))
    pkts["seq"] = t_s  # a new connection's ISN differs: it may land on another target
    return pkts


def main() -> None:
    targets = [f"10.0.1.{i}:80" for i in range(1, 4)]
    nlb = hp.NetworkLoadBalancer([(80, "tcp")], [(t, "a") for t in targets], {"a": "198.19.10.1"}, seed=1)
    changes = health_changes([Outage(targets[0], 10 * S, 100 * S)], UNTIL_S * S)
    for c in changes:
        print(f"t = {c.ts_ns / S:4.0f} s  health checks mark {c.address} {'healthy' if c.healthy else 'unhealthy'}")
    print(f"\n{'t (s)':>6}  {'reset':>5}  {'SYNs':>5}  " + "  ".join(f"{t:>12}" for t in targets))
    syn = np.ones(CLIENTS, dtype=bool)
    for t_s in range(0, UNTIL_S + 1, STEP_S):
        for c in (c for c in changes if t_s * S - STEP_S * S < c.ts_ns <= t_s * S):
            nlb.set_health(c.address, c.healthy)
        _, verdict, _ = nlb.process(step(t_s, syn))
        reset = verdict == hp.Verdict.RESET
        flows = nlb.flows_per_target()
        if t_s % 30 == 0:
            print(f"{t_s:>6}  {int(reset.sum()):>5}  {int(syn.sum()):>5}  " + "  ".join(f"{flows[t]:>12}" for t in targets))
        syn = reset  # reset clients reconnect at the next step
    print("\nFlows stay on the failed target until the checks notice it (60 s); they are reset, their")
    print("clients reconnect to the healthy targets, and stay there after the target recovers (240 s):")
    print("Maglev sends only new flows to it, so load comes back as clients reconnect, not at once.")


if __name__ == "__main__":
    main()
