"""Which balancer for a service spread over three AZs? Every balancer on the same arrivals.

Two scenario files (examples/mesh/): nine api tasks over three AZs with a slow task and an AZ
outage, where locality-ewma beats P2C peak-EWMA on p99 and cross-AZ bytes; and a slow same-host
task alone in its zone, where it does not. Each prints one table and, with --plot DIR, draws p99
and cross-AZ share per balancer.

    python examples/mesh_locality.py                    # 20 simulated seconds each
    python examples/mesh_locality.py --seconds 60 --plot /tmp/mesh
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from hyperplane.mesh.scenario import load

HERE = Path(__file__).resolve().parent / "mesh"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="simulated seconds per run (the files say 60)")
    ap.add_argument("--plot", type=Path, help="directory for the p99 and cross-AZ plots (PNG)")
    args, _ = ap.parse_known_args()  # run by tests/test_docs.py under pytest's own arguments
    console = Console(width=170)
    for name in ("mesh_locality", "mesh_lone_slow"):
        sc = load(HERE / f"{name}.toml")
        cmp = sc.compare(seconds=args.seconds)
        console.print(cmp.table(title=f"{name}: {sc.description} ({args.seconds:g} s at {sc.run['rps']:,} rps)"))
        by = {r.balancer: r for r in cmp.results}
        p2c, loc = by["p2c-peak-ewma"], by["locality-ewma"]
        console.print(f"locality-ewma vs p2c-peak-ewma: p99 {loc.latency()['p99'] * 1e3:.2f} ms vs "
                      f"{p2c.latency()['p99'] * 1e3:.2f} ms, cross-AZ {loc.cross_az_bytes / 1e9:.2f} GB vs "
                      f"{p2c.cross_az_bytes / 1e9:.2f} GB (${loc.cross_az_usd_per_month:,.0f} vs "
                      f"${p2c.cross_az_usd_per_month:,.0f} a month at this rate)")
        if args.plot:
            args.plot.mkdir(parents=True, exist_ok=True)
            console.print(f"plot: {cmp.save_plot(args.plot / f'{name}.png')}")
        fastest = max(cmp.results, key=lambda r: r.requests_per_wall_second)
        console.print(f"engine: up to {fastest.requests_per_wall_second / 1e6:.1f}M simulated requests per second\n")


if __name__ == "__main__":
    main()
