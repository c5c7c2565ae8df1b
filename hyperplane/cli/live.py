"""``hyperplane live nat|nlb``: the engine on live frames between real interfaces.

Each subcommand opens its interfaces (in ``--netns`` or the current namespace), says on
stderr that it runs, and prints the stage's report when it stops: Ctrl-C or SIGTERM,
``--duration`` or ``--packets``.
"""

from __future__ import annotations

from typing import Any

import click

from hyperplane import units
from hyperplane.cli.options import BadInput, Count
from hyperplane.live.dataplane import Dataplane
from hyperplane.nat import PRIVATE_CIDRS


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A duration with its unit (``350s``, ``2s``, ``500ms``, ``5min``)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return units.seconds(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def ready(what: str) -> Any:
    """The line that says the engine is up (tests and scripts wait for it)."""

    def say(plane: Dataplane) -> None:
        links = ", ".join(f"{name} ({mac})" for name, mac in plane.links)
        click.echo(f"hyperplane live {what}: running on {links}; Ctrl-C stops", err=True)

    return say


def running(command: Any) -> Any:
    """The options every live command takes: when to stop, where its interfaces are, how it reads them."""
    for option in reversed((
        click.option("--duration", type=Duration(), help="stop after this long (default: at Ctrl-C or SIGTERM)"),
        click.option("--packets", type=Count(), help="stop after this many packets"),
        click.option("--netns", metavar="NAME", help="open the interfaces in this network namespace (ip netns)"),
        click.option("--batch", type=Count(), default=256, show_default=True, help="frames per batch at most"),
        click.option("--ring", type=click.Choice(["v3", "v2"]), default="v3", show_default=True,
                     help="receive rings: TPACKET_V3 blocks (bursts), or V2 frame by frame (no 1 ms block timer)"),
    )):
        command = option(command)
    return command


@click.group()
def live() -> None:
    """Run the engine on live frames: AF_PACKET rings on real interfaces, ARP answered, the
    stage's verdicts carried out (RESET as a real TCP RST). See docs/live.md; `hyperplane lab up`
    makes namespaces to run it in."""


@live.command("nat")
@click.option("--inside", required=True, metavar="IFACE", help="the interface toward the private network")
@click.option("--inside-address", required=True, metavar="ADDRESS/PREFIX",
              help="the engine's address there (the hosts' default gateway; ARP answered)")
@click.option("--outside", required=True, metavar="IFACE", help="the interface toward the destinations")
@click.option("--public-ip", "public_ips", multiple=True, required=True, metavar="ADDRESS[/PREFIX]",
              help="a public address (repeatable, up to 8; the first carries the outside network's prefix)")
@click.option("--private", "private", multiple=True, metavar="CIDR",
              help=f"a private network to translate (repeatable; default {', '.join(PRIVATE_CIDRS)})")
@click.option("--idle-timeout", type=Duration(), default="350s", show_default=True,
              help="a connection idle this long is gone (AWS: 350 s); its next TCP segment gets an RST")
@click.option("--outside-gateway", metavar="ADDRESS", help="the next hop for destinations off the outside network")
@click.option("--seed", type=int, help="seed of the port choice (default: drawn, and printed)")
@running
def nat(inside: str, inside_address: str, outside: str, public_ips: tuple[str, ...], private: tuple[str, ...],
        idle_timeout: float, outside_gateway: str | None, duration: float | None, packets: int | None,
        seed: int | None, netns: str | None, batch: int, ring: str) -> None:
    """A NAT gateway between two interfaces.

    \b
    Examples:
      hyperplane live nat --inside in0 --inside-address 10.10.0.1/24 --outside out0 \\
          --public-ip 192.0.2.1/24 --private 10.10.0.0/24 --idle-timeout 350s
      hyperplane live nat --netns hpl-nat-gw ... --duration 60s
    """
    from hyperplane.live.nat import run_nat

    try:
        report = run_nat(inside, inside_address, outside, list(public_ips), list(private) or list(PRIVATE_CIDRS),
                         idle_timeout=idle_timeout, outside_gateway=outside_gateway, duration=duration,
                         packets=packets, seed=seed, netns=netns, batch=batch, on_ready=ready("nat"), ring=ring)
    except (OSError, ValueError) as e:
        raise BadInput(str(e)) from None
    click.echo(str(report))


@live.command("nlb")
@click.option("--front", required=True, metavar="IFACE", help="the interface toward the clients")
@click.option("--front-address", required=True, metavar="ADDRESS/PREFIX", help="the engine's own address there")
@click.option("--listen", required=True, metavar="ADDRESS:PORT/PROTO",
              help="the listener (the load balancer node's address, answered by ARP on the front link)")
@click.option("--back", required=True, metavar="IFACE", help="the interface toward the targets")
@click.option("--back-address", required=True, metavar="ADDRESS/PREFIX",
              help="the engine's address there (the targets' default gateway)")
@click.option("--targets", required=True, metavar="ADDRESS:PORT,...", help="the registered targets")
@click.option("--back-gateway", metavar="ADDRESS", help="the next hop for destinations on no link")
@click.option("--idle-timeout", type=Duration(), help="TCP idle timeout (default AWS's 350 s; 60 s to 6000 s)")
@click.option("--health-file", type=click.Path(dir_okay=False),
              help="a file of 'ADDRESS:PORT healthy|unhealthy' lines, applied whenever it changes")
@click.option("--seed", type=int, help="seed of the flow hash's key (default: drawn, and printed)")
@running
def nlb(front: str, front_address: str, listen: str, back: str, back_address: str, targets: str,
        back_gateway: str | None, idle_timeout: float | None, health_file: str | None, duration: float | None,
        packets: int | None, seed: int | None, netns: str | None, batch: int, ring: str) -> None:
    """A Network Load Balancer: clients' flows to targets by the flow hash, replies back from the listener.

    \b
    Examples:
      hyperplane live nlb --front in0 --front-address 192.0.2.1/24 --listen 192.0.2.80:80/tcp \\
          --back out0 --back-address 10.20.0.1/24 --targets 10.20.0.2:80,10.20.0.3:80
    """
    from hyperplane.live.nlb import run_nlb

    try:
        report = run_nlb(front, front_address, listen, back, back_address, [t for t in targets.split(",") if t],
                         back_gateway=back_gateway, idle_timeout=idle_timeout, health_file=health_file,
                         duration=duration, packets=packets, seed=seed, netns=netns, batch=batch,
                         on_ready=ready("nlb"), ring=ring)
    except (OSError, ValueError) as e:
        raise BadInput(str(e)) from None
    click.echo(str(report))
