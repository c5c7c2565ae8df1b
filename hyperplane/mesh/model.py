"""A service mesh: services and where their tasks run (host, AZ), the network between them, each
service's service time and queue, slow tasks and outages; ``simulate`` runs one balancer over it
in the C++ engine and ``hyperplane.mesh.compare`` runs several on the same arrivals.

The placement comes from the ECS model (``Mesh(cluster)``: each service's running tasks, on their
container instance or Fargate host, in its AZ; tasks RunTask started outside a service are left
out) or from a plain list (``Mesh.from_placement``).
Hosts are shared between services: a client task and a server task on one container instance are
"same host". Defaults marked estimate are not published by AWS; set them from your own measurements.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperplane import _core
from hyperplane.mesh.balancers import Balancer, balancer
from hyperplane.mesh.distributions import Lognormal, duration, jitter, service_time
from hyperplane.mesh.result import MeshResult

if TYPE_CHECKING:
    from hyperplane.ecs import Cluster

DEFAULT_LATENCY = {"same_host": "50us", "same_az": "250us", "cross_az": "1.2ms"}
"""One-way medians by placement: estimates (AWS publishes no figure), the issue's example values."""
DEFAULT_JITTER = "lognormal:0.3"
DEFAULT_SERVICE_TIME = "lognormal:median=2ms,sigma=0.5"
"""An estimate of a small API call's service time."""
DEFAULT_CONCURRENCY = 16
DEFAULT_QUEUE = 1000


@dataclass(frozen=True)
class Task:
    """One task of a service: its label, host and AZ."""

    label: str
    host: str
    az: str


@dataclass
class _Service:
    tasks: list[Task]
    time: Lognormal
    concurrency: int
    queue: int
    slow: dict[int, float]


def _check_name(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: must be a non-empty string, not {value!r}")
    return value


def _whole(value: object, field: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{field}: must be an integer >= {lo}, not {value!r}")
    return value


class Mesh:
    """Services and their tasks' placement; see the module's docstring."""

    def __init__(self, cluster: Cluster) -> None:
        from hyperplane.ecs import Cluster

        if not isinstance(cluster, Cluster):
            raise TypeError(f"cluster must be a hyperplane.ecs.Cluster, not {type(cluster).__name__}")
        placement: dict[str, list[tuple[str, str]]] = {}
        for name, svc in cluster.services.items():
            placement[name] = [(_host_of(t), t.az) for t in svc.tasks]
        self._init(placement)

    @classmethod
    def from_placement(cls, placement: Mapping[str, Sequence[tuple[str, str]]]) -> Mesh:
        """Services by name, each a list of (host, AZ) of its tasks."""
        mesh = cls.__new__(cls)
        mesh._init(placement)
        return mesh

    def _init(self, placement: Mapping[str, Sequence[tuple[str, str]]]) -> None:
        if not isinstance(placement, Mapping) or not placement:
            raise ValueError("placement: needs at least one service, as {name: [(host, az), ...]}")
        self._services: dict[str, _Service] = {}
        for name, tasks in placement.items():
            _check_name(name, "placement")
            rows = []
            for k, row in enumerate(tasks):
                if not (isinstance(row, (tuple, list)) and len(row) == 2):
                    raise ValueError(f"placement[{name!r}][{k}]: must be (host, az), not {row!r}")
                host, az = (_check_name(v, f"placement[{name!r}][{k}]") for v in row)
                rows.append(Task(f"{name}/{k}", host, az))
            if not rows:
                raise ValueError(f"placement[{name!r}]: the service has no tasks")
            self._services[name] = _Service(rows, service_time(DEFAULT_SERVICE_TIME), DEFAULT_CONCURRENCY,
                                            DEFAULT_QUEUE, {})
        self._one_way = {k: duration(v, k) for k, v in DEFAULT_LATENCY.items()}
        self._jitter = jitter(DEFAULT_JITTER)
        self._outages: list[tuple[str, int, float, float]] = []

    # ---- configuration ---------------------------------------------------------------------

    @property
    def services(self) -> dict[str, list[Task]]:
        return {name: list(s.tasks) for name, s in self._services.items()}

    def _service(self, name: object, field: str = "service") -> _Service:
        if not isinstance(name, str) or name not in self._services:
            raise ValueError(f"{field}: no service {name!r}; services: {', '.join(self._services)}")
        return self._services[name]

    def latency(self, *, same_host: str | None = None, same_az: str | None = None, cross_az: str | None = None,
                jitter: str | float | None = None) -> Mesh:
        """One-way network delay medians by placement, and their lognormal jitter."""
        from hyperplane.mesh.distributions import jitter as parse_jitter

        for key, value in (("same_host", same_host), ("same_az", same_az), ("cross_az", cross_az)):
            if value is not None:
                self._one_way[key] = duration(value, key)
        if jitter is not None:
            self._jitter = parse_jitter(jitter)
        return self

    def service_time(self, service: str, distribution: str, *, concurrency: int | None = None,
                     queue: int | None = None) -> Mesh:
        """A service's time per request, its tasks' concurrency limit and queue length."""
        s = self._service(service)
        s.time = service_time(distribution)
        if concurrency is not None:
            s.concurrency = _whole(concurrency, "concurrency", 1)
        if queue is not None:
            s.queue = _whole(queue, "queue", 0)
        return self

    def slow(self, service: str, *, task: int, factor: float) -> Mesh:
        """Task ``task`` of ``service`` takes ``factor`` times as long per request."""
        s = self._service(service)
        _whole(task, "task", 0)
        if task >= len(s.tasks):
            raise ValueError(f"task: {service} has tasks 0..{len(s.tasks) - 1}, not {task}")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor <= 0:
            raise ValueError(f"factor: must be a finite number > 0, not {factor!r}")
        s.slow[task] = float(factor)
        return self

    def outage(self, *, start: str, end: str, az: str | None = None, service: str | None = None,
               task: int | None = None) -> Mesh:
        """Tasks down from ``start`` to ``end`` (durations from the run's start): every task of every
        service in ``az``, or task ``task`` of ``service``."""
        t0, t1 = duration(start, "start"), duration(end, "end")
        if t1 <= t0:
            raise ValueError(f"end: must be after start ({start} .. {end})")
        if az is not None:
            _check_name(az, "az")
            hit = [(name, k) for name, s in self._services.items() for k, t in enumerate(s.tasks) if t.az == az]
            if not hit:
                raise ValueError(f"az: no task runs in {az!r}")
        elif service is not None and task is not None:
            s = self._service(service)
            _whole(task, "task", 0)
            if task >= len(s.tasks):
                raise ValueError(f"task: {service} has tasks 0..{len(s.tasks) - 1}, not {task}")
            hit = [(service, task)]
        else:
            raise ValueError("outage: give az=, or service= and task=")
        self._outages += [(name, k, t0, t1) for name, k in hit]
        return self

    # ---- running ---------------------------------------------------------------------------

    def engine_args(self, client: str, server: str, b: Balancer, load: dict[str, Any]) -> dict[str, Any]:
        """What ``_core.mesh_simulate`` is given (for tests and the benchmark)."""
        cs, ss = self._service(client, "client"), self._service(server, "server")
        hosts: dict[str, int] = {}
        azs: dict[str, int] = {}

        def place(t: Task) -> tuple[int, int]:
            return hosts.setdefault(t.host, len(hosts)), azs.setdefault(t.az, len(azs))

        clients = [place(t) for t in cs.tasks]
        endpoints = [(*place(t), ss.time.median_s * 1e9, ss.time.sigma, ss.slow.get(k, 1.0), ss.concurrency, ss.queue)
                     for k, t in enumerate(ss.tasks)]
        down = []
        for name, k, t0, t1 in self._outages:
            if name == server:
                down.append((k, False, round(t0 * 1e9), round(t1 * 1e9)))
            if name == client:
                down.append((k, True, round(t0 * 1e9), round(t1 * 1e9)))
        one_way = (self._one_way["same_host"] * 1e9, self._one_way["same_az"] * 1e9, self._one_way["cross_az"] * 1e9)
        return {"clients": clients, "endpoints": endpoints, "one_way_ns": one_way, "jitter_sigma": self._jitter,
                "balancer": b.spec(), "load": load, "down": down}

    def simulate(self, *, client: str, server: str, rps: float, seconds: float | str, balancer: str | Balancer = "p2c-peak-ewma",
                 seed: int = 1, timeout: str = "1s", retries: int = 2, request_bytes: int = 1024,
                 response_bytes: int = 4096, health_delay: str = "5s", down: str = "drop") -> MeshResult:
        """Requests from ``client``'s tasks to ``server``'s at ``rps`` (Poisson) for ``seconds``.

        ``timeout`` is per attempt; ``retries`` further attempts follow a timed-out or failed one.
        ``health_delay`` (an estimate: a few health-check intervals) is how long the balancers take
        to see a task go down or come back. A down task drops requests (``down="drop"``: they time
        out) or refuses them at once (``"refuse"``). Request and response sizes (1 KiB, 4 KiB) are
        estimates and only set the cross-AZ bytes."""
        b = balancer if isinstance(balancer, Balancer) else _balancer(balancer)
        if isinstance(rps, bool) or not isinstance(rps, (int, float)) or not math.isfinite(rps) or rps <= 0:
            raise ValueError(f"rps: must be a finite number > 0, not {rps!r}")
        secs = duration(seconds, "seconds") if isinstance(seconds, str) else float(seconds)
        if not math.isfinite(secs) or secs <= 0:
            raise ValueError(f"seconds: must be > 0, not {seconds!r}")
        if down not in ("drop", "refuse"):
            raise ValueError(f"down: must be 'drop' or 'refuse', not {down!r}")
        to = duration(timeout, "timeout")
        if to <= 0:
            raise ValueError(f"timeout: must be > 0, not {timeout!r}")
        load = {"rps": float(rps), "duration_ns": round(secs * 1e9), "seed": _whole(seed, "seed", 0),
                "timeout_ns": round(to * 1e9), "retries": _whole(retries, "retries", 0),
                "request_bytes": _whole(request_bytes, "request_bytes", 0),
                "response_bytes": _whole(response_bytes, "response_bytes", 0),
                "health_delay_ns": round(duration(health_delay, "health_delay") * 1e9), "refuse_when_down": down == "refuse"}
        args = self.engine_args(client, server, b, load)
        start = time.perf_counter()
        raw = _core.mesh_simulate(**args)
        wall = time.perf_counter() - start
        lat = np.asarray(raw.pop("latency_s"), dtype=np.float64)
        return MeshResult(b.label, [t.label for t in self._services[server].tasks], lat, raw, wall, secs)

    def __repr__(self) -> str:
        return "Mesh(" + ", ".join(f"{n}: {len(s.tasks)} tasks" for n, s in self._services.items()) + ")"


def _balancer(value: str | Balancer) -> Balancer:
    return balancer(value)


def _host_of(task: Any) -> str:
    """An ECS task's host: its container instance, else (Fargate) its own host's id."""
    if task.container_instance is not None:
        return str(task.container_instance.id)
    if task.host is not None:
        return str(task.host.id)
    return str(task.arn)
