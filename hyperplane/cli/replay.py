"""``hyperplane replay``: a pcap or pcapng capture through a NAT gateway, written back out."""

from __future__ import annotations

import click

from hyperplane.cli.options import BadInput, Count
from hyperplane.nat import PRIVATE_CIDRS
from hyperplane.replay import replay as replay_capture


@click.command()
@click.argument("capture", type=click.Path(dir_okay=False))
@click.option("--nat", "public_ips", multiple=True, required=True, metavar="ADDRESS",
              help="a public IPv4 address of the gateway (repeatable; AWS allows up to 8)")
@click.option("--private", "private_cidrs", multiple=True, metavar="CIDR",
              help=f"a private network whose sources are translated (repeatable; default {', '.join(PRIVATE_CIDRS)})")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="where to write (pcapng if it ends in .pcapng, else pcap)")
@click.option("--seed", type=int, help="seed of the port choice (default: one drawn, and printed to replay it)")
@click.option("--idle-timeout", type=float, help="seconds a connection may idle (default AWS's 350)")
@click.option("--batch", type=Count(), default=1_000_000, show_default=True, help="frames per batch")
def replay(capture: str, public_ips: tuple[str, ...], private_cidrs: tuple[str, ...], output: str, seed: int | None,
           idle_timeout: float | None, batch: int) -> None:
    """Run a capture through a NAT gateway and write what leaves it.

    \b
    Examples:
      hyperplane replay trace.pcap --nat 203.0.113.10 -o out.pcapng
    """
    try:
        summary = replay_capture(capture, output, list(public_ips), list(private_cidrs) or PRIVATE_CIDRS, seed=seed,
                                 batch=batch, idle_timeout=idle_timeout)
    except (OSError, ValueError) as e:
        raise BadInput(str(e)) from None
    click.echo(str(summary))
