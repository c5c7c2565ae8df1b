"""The whole-batch matchers of security-group rules, network-ACL entries and routes against
straightforward per-packet references (hypothesis): the vectorised forms must decide every packet
exactly as reading the rules one by one does.

AWS's words for what the references do: ACLs — "Rules are evaluated starting with the lowest
numbered rule. As soon as a rule matches traffic, it's applied regardless of any higher-numbered
rule that might contradict it"; routes — "we direct traffic using the most specific route that
matches the traffic. This is known as the longest prefix match."
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperplane.topology.addresses import Cidr
from hyperplane.topology.rules import AclEntry, Match, SgMatch, acl_decide, first_match, longest_prefix

PROTOS = [-1, 1, 6, 17]
# Addresses from a small space so that rules and packets meet often.
addr = st.integers(0, 255).map(lambda x: (10 << 24) | (x << 4))


@st.composite
def matches(draw: st.DrawFn) -> Match:
    proto = draw(st.sampled_from(PROTOS))
    lo = draw(st.integers(0, 70))
    hi = draw(st.integers(lo, 80))
    if draw(st.booleans()):
        lo, hi = 0, 65535
    prefix = draw(st.integers(0, 32))
    base = draw(addr) & ((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF)
    return Match(proto, lo, hi, Cidr(base, prefix))


@st.composite
def packets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    proto = np.array(draw(st.lists(st.sampled_from([1, 6, 17, 47]), min_size=n, max_size=n)), dtype=np.uint8)
    port = np.array(draw(st.lists(st.integers(0, 90), min_size=n, max_size=n)), dtype=np.uint16)
    peer = np.array(draw(st.lists(addr | st.integers(0, 2**32 - 1), min_size=n, max_size=n)), dtype=np.uint32)
    return proto, port, peer


def matches_one(m: Match, proto: int, port: int, peer: int) -> bool:
    if (peer & m.cidr.mask) != m.cidr.base:
        return False
    if m.proto != -1 and m.proto != proto:
        return False
    if m.proto in (6, 17) and not m.lo <= port <= m.hi:
        return False
    return True


@settings(max_examples=200)
@given(st.lists(st.tuples(matches(), st.booleans()), max_size=8), packets())
def test_acl_first_matching_rule_by_number(rules: list[tuple[Match, bool]], pk: tuple[np.ndarray, ...]) -> None:
    entries = [AclEntry(100 + 10 * k, m, allow) for k, (m, allow) in enumerate(rules)]
    decided, allow = acl_decide(entries, *pk)
    for i, (proto, port, peer) in enumerate(zip(*pk)):
        want = next((k for k, e in enumerate(entries) if matches_one(e.match, int(proto), int(port), int(peer))), -1)
        assert decided[i] == want
        assert allow[i] == (want >= 0 and entries[want].allow)  # the default rule * denies


@settings(max_examples=200)
@given(st.lists(matches(), max_size=8), st.lists(addr, max_size=4), packets())
def test_security_group_first_allowing_rule(rules: list[Match], members: list[int], pk: tuple[np.ndarray, ...]) -> None:
    group = np.unique(np.array(members, dtype=np.uint32))
    compiled = [SgMatch(m, group if k % 3 == 2 else None) for k, m in enumerate(rules)]
    found, anywhere = first_match(compiled, *pk)
    for i, (proto, port, peer) in enumerate(zip(*pk)):
        hits = []
        for r in compiled:
            if r.members is None:
                hits.append(matches_one(r.rule, int(proto), int(port), int(peer)))
            else:
                any_peer = Match(r.rule.proto, r.rule.lo, r.rule.hi, Cidr(0, 0))
                hits.append(int(peer) in set(int(x) for x in group) and matches_one(any_peer, int(proto), int(port), int(peer)))
        assert found[i] == next((k for k, h in enumerate(hits) if h), -1)
        assert anywhere[i] == any(h and r.members is None and r.rule.cidr == Cidr(0, 0) for h, r in zip(hits, compiled))


@settings(max_examples=200)
@given(st.lists(matches(), max_size=10, unique_by=lambda m: m.cidr), packets())
def test_longest_prefix(rules: list[Match], pk: tuple[np.ndarray, ...]) -> None:
    routes = [m.cidr for m in rules]
    got = longest_prefix(routes, pk[2])
    for i, dst in enumerate(pk[2]):
        fits = [k for k, c in enumerate(routes) if (int(dst) & c.mask) == c.base]
        assert got[i] == (max(fits, key=lambda k: routes[k].prefix) if fits else -1)
