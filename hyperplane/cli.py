"""The ``hyperplane`` command."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Sequence

from hyperplane import __version__, bench
from hyperplane.nat import PRIVATE_CIDRS
from hyperplane.replay import replay


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(_positive(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be positive integers separated by commas, not {text}") from None
    return sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperplane", description="A compiled packet engine.")
    parser.add_argument("--version", action="version", version=f"hyperplane {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="measure packet rates of every stage on one core")
    b.add_argument("--packets", type=_positive, default=4_000_000, help="packets in the trace (default 4,000,000)")
    b.add_argument("--flows", type=_positive, default=200_000, help="flows in the trace (default 200,000)")
    b.add_argument("--rounds", type=_positive, default=7, help="timed rounds; figures are medians (default 7)")
    b.add_argument("--lookups", type=_positive, default=4_000_000,
                   help="packets per round at each flow-table size (default 4,000,000)")
    b.add_argument("--sizes", type=_sizes, default=(1_000, 100_000, 1_000_000, 4_000_000),
                   help="live flows in the flow-table stages, comma-separated (default 1000,100000,1000000,4000000)")
    b.add_argument("--only", metavar="PATTERN", action="append",
                   help="run only stages whose name matches this glob (repeatable), e.g. 'conntrack.*'")
    b.add_argument("--seed", type=int, default=1, help="seed of the synthetic trace (default 1)")
    b.add_argument("--quick", action="store_true",
                   help="a small, fast run: 200,000 packets, 200,000 lookups, tables of 1k and 100k flows, 3 rounds")
    b.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH ('-' for stdout)")
    r = sub.add_parser("replay", help="run a pcap/pcapng capture through a NAT gateway and write what leaves it")
    r.add_argument("capture", help="the pcap or pcapng file to read")
    r.add_argument("--nat", metavar="ADDRESS", action="append", required=True,
                   help="a public IPv4 address of the gateway (repeatable; AWS allows up to 8)")
    r.add_argument("--private", metavar="CIDR", action="append",
                   help=f"a private network whose sources are translated (repeatable; default {', '.join(PRIVATE_CIDRS)})")
    r.add_argument("-o", "--output", required=True, help="where to write (pcapng if it ends in .pcapng, else pcap)")
    r.add_argument("--seed", type=int, default=1, help="seed of port choice (default 1)")
    r.add_argument("--idle-timeout", type=float, help="seconds a connection may idle (default AWS's 350)")
    r.add_argument("--batch", type=_positive, default=1_000_000, help="frames per batch (default 1,000,000)")
    return parser


def _replay(args: argparse.Namespace) -> int:
    try:
        report = replay(args.capture, args.output, args.nat, args.private or PRIVATE_CIDRS, seed=args.seed,
                        batch=args.batch, idle_timeout=args.idle_timeout)
    except (OSError, ValueError) as e:
        print(f"hyperplane replay: {e}", file=sys.stderr)
        return 2
    print(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    if args.command == "bench":
        if args.quick:
            args.packets, args.flows, args.rounds = 200_000, 10_000, 3
            args.lookups, args.sizes = 200_000, (1_000, 100_000)
        patterns = args.only or ["*"]
        progress = (lambda msg: print(f"... {msg}", file=sys.stderr, flush=True)) if sys.stderr.isatty() else None
        report = bench.run(packets=args.packets, flows=args.flows, rounds=args.rounds, seed=args.seed,
                           lookups=args.lookups, table_sizes=args.sizes,
                           select=lambda name: any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns),
                           progress=progress, command=" ".join(["hyperplane", *argv]))
        if args.json == "-":
            json.dump(report, sys.stdout, indent=2)
            print()
            return 0
        print(bench.format_table(report))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
