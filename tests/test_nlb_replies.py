"""The NLB's return direction (``NetworkLoadBalancer.process_replies``), packet by packet.

What the live balancer needs (docs/live.md): a target's reply to a live flow leaves from the
listener the client connected to, addressed to the client (AWS: with client IP preservation
the target sees the client's address, so it answers the client; without it, the node's),
keeps the flow alive, and counts in ``ProcessedPackets``/``ProcessedBytes`` ("The total number
of bytes processed by the load balancer, including TCP/IP headers"); a reply matching no flow
is dropped; the target's RST ends the flow.
"""

from __future__ import annotations

import numpy as np

import hyperplane as hp

NODE, CLIENT = "198.51.100.80", "203.0.113.7"
TARGETS = [("10.0.1.5:8080", "a"), ("10.0.1.6:8080", "a")]
SYN, SYNACK, ACK, RST = 0x02, 0x12, 0x10, 0x04


def _pkt(ts: int, src: str, sport: int, dst: str, dport: int, flags: int) -> hp.packets.Batch:
    b = hp.empty(1)
    b["ts"], b["src_ip"], b["src_port"], b["dst_ip"], b["dst_port"] = ts, hp.ip(src), sport, hp.ip(dst), dport
    b["proto"], b["tcp_flags"], b["length"], b["seq"] = hp.Proto.TCP, flags, 40, 1000
    return b


def _balancer(**kw: object) -> hp.NetworkLoadBalancer:
    return hp.NetworkLoadBalancer([(80, "tcp")], TARGETS, {"a": NODE}, seed=3, **kw)  # type: ignore[arg-type]


def test_a_targets_reply_leaves_from_the_listener_to_the_client() -> None:
    nlb = _balancer()
    out, v, t = nlb.process(_pkt(1_000, CLIENT, 40000, NODE, 80, SYN))
    assert v[0] == hp.Verdict.FORWARD and out["src_ip"][0] == hp.ip(CLIENT)  # client IP preserved
    assert nlb.flows()[0]["state"] == 1  # SYN_SENT
    target_ip, target_port = int(out["dst_ip"][0]), int(out["dst_port"][0])
    reply = _pkt(2_000, hp.ip_str(target_ip), target_port, CLIENT, 40000, SYNACK)
    rout, rv, rt = nlb.process_replies(reply)
    assert rv[0] == hp.Verdict.FORWARD and rt[0] == t[0]
    assert (hp.ip_str(int(rout["src_ip"][0])), int(rout["src_port"][0])) == (NODE, 80)
    assert (hp.ip_str(int(rout["dst_ip"][0])), int(rout["dst_port"][0])) == (CLIENT, 40000)
    flow = nlb.flows()[0]
    assert flow["state"] == 3  # ESTABLISHED, by the target's SYN-ACK
    assert nlb.metrics["ProcessedPackets"].sum() == 2 and nlb.metrics["ProcessedBytes"].sum() == 80
    assert nlb.counters["packets"] == nlb.counters["forwarded"] == 2


def test_a_reply_without_a_flow_or_from_another_target_is_dropped() -> None:
    nlb = _balancer()
    out, _, _ = nlb.process(_pkt(1_000, CLIENT, 40000, NODE, 80, SYN))
    other = next(a for a, _ in TARGETS if hp.ip(a.split(":")[0]) != int(out["dst_ip"][0])).split(":")[0]
    stray = np.concatenate([_pkt(2_000, other, 8080, CLIENT, 40000, SYNACK),
                            _pkt(2_001, hp.ip_str(int(out["dst_ip"][0])), 8080, CLIENT, 40001, SYNACK)])
    _, v, t = nlb.process_replies(stray)
    assert list(v) == [hp.Verdict.DROP_UNSOLICITED] * 2 and list(t) == [0xFFFFFFFF] * 2
    assert nlb.counters["unsolicited"] == 2


def test_the_targets_rst_ends_the_flow() -> None:
    nlb = _balancer()
    out, _, _ = nlb.process(_pkt(1_000, CLIENT, 40000, NODE, 80, SYN))
    target = hp.ip_str(int(out["dst_ip"][0]))
    _, v, _ = nlb.process_replies(_pkt(2_000, target, 8080, CLIENT, 40000, RST))
    assert v[0] == hp.Verdict.FORWARD and len(nlb.flows()) == 0
    _, v, _ = nlb.process(_pkt(3_000, CLIENT, 40000, NODE, 80, ACK))
    assert v[0] == hp.Verdict.RESET  # the flow is gone: the client's next segment is reset


def test_with_source_nat_the_reply_to_the_nodes_port_goes_back_to_the_client() -> None:
    nlb = _balancer(preserve_client_ip=False)
    out, v, _ = nlb.process(_pkt(1_000, CLIENT, 40000, NODE, 80, SYN))
    assert v[0] == hp.Verdict.FORWARD and out["src_ip"][0] == hp.ip(NODE)
    reply = _pkt(2_000, hp.ip_str(int(out["dst_ip"][0])), int(out["dst_port"][0]), NODE, int(out["src_port"][0]),
                 SYNACK)
    rout, rv, _ = nlb.process_replies(reply)
    assert rv[0] == hp.Verdict.FORWARD
    assert (hp.ip_str(int(rout["src_ip"][0])), int(rout["src_port"][0])) == (NODE, 80)
    assert (hp.ip_str(int(rout["dst_ip"][0])), int(rout["dst_port"][0])) == (CLIENT, 40000)
