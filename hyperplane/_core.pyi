"""hyperplane's C++ packet engine (stubs checked by mypy.stubtest)."""

from typing import Any

import numpy as np
import numpy.typing as npt

PACKET_DTYPE: np.dtype[np.void]

def toeplitz(key: bytes, data: bytes) -> int: ...
def toeplitz_impls() -> list[str]: ...

class Rss:
    def __init__(self, key: bytes, indirection: npt.ArrayLike) -> None: ...
    def hash(
        self, batch: npt.NDArray[np.void], out: npt.NDArray[np.uint32] | None = None, impl: str = "table"
    ) -> npt.NDArray[np.uint32]: ...
    def queue(self, batch: npt.NDArray[np.void], out: npt.NDArray[np.uint16] | None = None) -> npt.NDArray[np.uint16]: ...
    @property
    def key(self) -> bytes: ...
    @property
    def indirection(self) -> npt.NDArray[np.uint16]: ...
    @indirection.setter
    def indirection(self, table: npt.ArrayLike) -> None: ...

FLOW_DTYPE: np.dtype[np.void]
FLOW_RECORD_BYTES: int
STATE_DTYPE: np.dtype[np.void]

class StageConfig:
    capacity: int
    queues: int
    seed: int
    @property
    def timeouts_ns(self) -> list[int]: ...
    @timeouts_ns.setter
    def timeouts_ns(self, value: npt.ArrayLike) -> None: ...
    hash_key: bytes
    def __init__(self) -> None: ...

class _ShardedStage:
    """What def_sharded binds on every sharded stage (csrc/bindings/stage.hpp); no such class at run time."""
    def expire(self, now_ns: int) -> None: ...
    def verdict_values(self) -> list[int]: ...
    def __len__(self) -> int: ...
    @property
    def queues(self) -> int: ...
    @property
    def start_minute(self) -> int: ...
    def export_state(self) -> npt.NDArray[np.void]: ...
    def import_state(self, state: npt.NDArray[np.void]) -> tuple[int, int, int, int]: ...
    def restore_verdicts(self, values: list[int]) -> None: ...
    def restore_start(self, start_minute: int) -> None: ...

class _MeteredStage(_ShardedStage):
    """A sharded stage with CloudWatch-style metrics per minute (def_metrics)."""
    def metric_values(self) -> npt.NDArray[np.uint64]: ...
    def shard_metric_values(self, shard: int) -> npt.NDArray[np.uint64]: ...
    def restore_metrics(self, shard: int, values: npt.NDArray[np.uint64]) -> None: ...
    def minute_positions(self) -> list[int]: ...
    def resume_minutes(self, positions: list[int]) -> None: ...

class ConnTrackConfig(StageConfig):
    loose: bool
    early_drop: bool
    def __init__(self) -> None: ...

def flow_hash(
    batch: npt.NDArray[np.void], key: bytes, out: npt.NDArray[np.uint64] | None = None
) -> npt.NDArray[np.uint64]: ...

class ConnTrack(_ShardedStage):
    def __init__(self, config: ConnTrackConfig) -> None: ...
    def process(
        self,
        batch: npt.NDArray[np.void],
        out: npt.NDArray[np.void] | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        threads: int = 1,
    ) -> tuple[npt.NDArray[np.void], npt.NDArray[np.uint8]]: ...
    def flows(self) -> npt.NDArray[np.void]: ...
    def counter_values(self) -> tuple[list[int], list[int]]: ...
    def restore_events(self, values: list[int]) -> None: ...
    def shard_of(self, batch: npt.NDArray[np.void]) -> npt.NDArray[np.uint16]: ...
    @property
    def capacity(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...

def random_read_seconds(bytes: int, reads: int, seed: int = 1) -> tuple[float, int]: ...

def xxh64(data: bytes, seed: int = 0) -> int: ...
def maglev_table(backends: list[str], weights: npt.ArrayLike, size: int) -> npt.NDArray[np.uint32]: ...
def maglev_table_from_permutations(
    offsets: npt.ArrayLike, skips: npt.ArrayLike, weights: npt.ArrayLike, size: int
) -> npt.NDArray[np.uint32]: ...
def maglev_lookup(
    table: npt.NDArray[np.uint32],
    hashes: npt.NDArray[np.uint32] | npt.NDArray[np.uint64],
    out: npt.NDArray[np.uint32] | None = None,
) -> npt.NDArray[np.uint32]: ...

NAT_CONNECTION_DTYPE: np.dtype[np.void]

class NatConfig(StageConfig):
    public_ips: list[int]
    private_networks: list[tuple[int, int]]
    per_destination: int
    port_slice: int
    port_slices: int
    base_pps: float
    max_pps: float
    base_bps: float
    max_bps: float
    def __init__(self) -> None: ...

class NatGateway(_MeteredStage):
    def __init__(self, config: NatConfig) -> None: ...
    def process(
        self,
        batch: npt.NDArray[np.void],
        out: npt.NDArray[np.void] | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        threads: int = 1,
    ) -> tuple[npt.NDArray[np.void], npt.NDArray[np.uint8]]: ...
    def connections(self) -> npt.NDArray[np.void]: ...

NLB_FLOW_DTYPE: np.dtype[np.void]

class NlbConfig(StageConfig):
    nodes: list[int]
    listeners: list[tuple[int, int]]
    flow_key: bytes
    preserve_client_ip: bool
    terminate_unhealthy: bool
    terminate_deregistered: bool
    per_target: int
    def __init__(self) -> None: ...

class NetworkLoadBalancer(_MeteredStage):
    def __init__(self, config: NlbConfig) -> None: ...
    def set_targets(
        self, ips: list[int], ports: list[int], healthy: list[bool], registered: list[bool], drain_deadline: list[int]
    ) -> None: ...
    def set_table(self, node: int, table: list[int]) -> None: ...
    def set_fail_open(self, fail_open: bool) -> None: ...
    def process(
        self,
        batch: npt.NDArray[np.void],
        out: npt.NDArray[np.void] | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        target_out: npt.NDArray[np.uint32] | None = None,
        threads: int = 1,
    ) -> tuple[npt.NDArray[np.void], npt.NDArray[np.uint8], npt.NDArray[np.uint32]]: ...
    def process_replies(
        self,
        batch: npt.NDArray[np.void],
        out: npt.NDArray[np.void] | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        target_out: npt.NDArray[np.uint32] | None = None,
    ) -> tuple[npt.NDArray[np.void], npt.NDArray[np.uint8], npt.NDArray[np.uint32]]: ...
    def flows_per_target(self) -> list[int]: ...
    def flow_targets(self, batch: npt.NDArray[np.void], out: npt.NDArray[np.uint32] | None = None) -> npt.NDArray[np.uint32]: ...
    def flows(self) -> npt.NDArray[np.void]: ...

class EnaConfig:
    queues: int
    rss_key: bytes
    direction: str
    instance: list[tuple[int, int]]
    link_local: list[tuple[int, int]]
    pps: int
    baseline_bps: int
    burst_bps: int
    credit_ns: int
    initial_credits: float
    flow_bps: int
    link_local_pps: int
    window_ns: int
    mtu: int
    queue_depth: int
    conntrack: int
    latency_ns: int
    latency_seed: int
    flow_slots: int
    @property
    def timeouts_ns(self) -> list[int]: ...
    @timeouts_ns.setter
    def timeouts_ns(self, value: npt.ArrayLike) -> None: ...
    hash_key: bytes
    def __init__(self) -> None: ...

class EnaInterface:
    def __init__(self, config: EnaConfig) -> None: ...
    def share_pps(self, other: EnaInterface) -> None: ...
    def process(
        self,
        batch: npt.NDArray[np.void],
        out: npt.NDArray[np.void] | None = None,
        verdict_out: npt.NDArray[np.uint8] | None = None,
        delay_out: npt.NDArray[np.uint64] | None = None,
    ) -> tuple[npt.NDArray[np.void], npt.NDArray[np.uint8], npt.NDArray[np.uint64]]: ...
    def queue(self, batch: npt.NDArray[np.void], out: npt.NDArray[np.uint16] | None = None) -> npt.NDArray[np.uint16]: ...
    def latencies(self, batch: npt.NDArray[np.void], out: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.uint64]: ...
    def expire(self, now_ns: int) -> None: ...
    def counter_values(self) -> dict[str, int]: ...
    def verdict_values(self) -> list[int]: ...
    def queue_values(self) -> npt.NDArray[np.uint64]: ...
    def latency_quantile(self, q: float) -> int: ...
    def latency_max(self) -> int: ...
    def credits_bits(self, inbound: bool) -> float: ...
    @property
    def forwarded(self) -> int: ...
    @property
    def delayed(self) -> int: ...
    @property
    def flow_evictions(self) -> int: ...
    @property
    def connections(self) -> int: ...

class CaptureReader:
    def __init__(self, path: str) -> None: ...
    def next(
        self, n: int
    ) -> tuple[
        npt.NDArray[np.void],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint16],
        npt.NDArray[np.uint8],
    ]: ...
    def rewind(self) -> None: ...
    def stats(self) -> dict[str, object]: ...
    @property
    def format(self) -> str: ...
    @property
    def bytes(self) -> npt.NDArray[np.uint8]: ...

class CaptureWriter:
    def __init__(self, path: str, format: str) -> None: ...
    def write(
        self,
        bytes: npt.NDArray[np.uint8],
        offsets: npt.NDArray[np.uint64],
        lengths: npt.NDArray[np.uint32],
        wire_lengths: npt.NDArray[np.uint32],
        linktypes: npt.NDArray[np.uint16],
        packets: npt.NDArray[np.void],
        keep: npt.NDArray[np.bool_] | npt.NDArray[np.uint8] | None = None,
        verdict: npt.NDArray[np.uint8] | None = None,
    ) -> None: ...
    def close(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    @property
    def format(self) -> str: ...

# The packet path's hop dispatch and address nodes (csrc/topology/, csrc/bindings/path.cpp).

def path_order(parts: list[npt.NDArray[np.int64]], ordered: list[bool], ts: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]: ...
def path_dispatch(
    idx: npt.NDArray[np.int64],
    v: npt.NDArray[np.uint8],
    nxt: npt.NDArray[np.int64] | int,
    indirect: bool,
    hop: int,
    nodes: int,
    ts: npt.NDArray[np.uint64],
    ordered: bool,
    verdict: npt.NDArray[np.uint8],
    hop_out: npt.NDArray[np.int32],
    counts: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]: ...
def path_gather(packets: npt.NDArray[np.void], idx: npt.NDArray[np.int64]) -> npt.NDArray[np.void]: ...
def path_scatter(packets: npt.NDArray[np.void], idx: npt.NDArray[np.int64], batch: npt.NDArray[np.void]) -> None: ...
def path_move_on(
    packets: npt.NDArray[np.void],
    ts: npt.NDArray[np.uint64],
    delay: npt.NDArray[np.uint64],
    idx: npt.NDArray[np.int64],
    d: npt.NDArray[np.uint64],
    gathered: npt.NDArray[np.void] | None = None,
) -> None: ...
def path_destinations(
    batch: npt.NDArray[np.void], local_base: list[int], local_mask: list[int], inside_base: list[int], inside_mask: list[int]
) -> npt.NDArray[np.uint8]: ...

class PathAddresses:
    keys: list[int]
    next: list[int]
    then: list[int]
    subnet: list[int]
    start: list[int]
    gateway: list[int]
    rewrite: list[int]
    nat: list[int]
    def __init__(self) -> None: ...

class PathRoute:
    base: int
    mask: int
    local: bool
    verdict: int
    next: int
    then: int
    subnet: int
    def __init__(self) -> None: ...

class PathTables:
    priv: PathAddresses
    lb_nodes: PathAddresses
    pub: PathAddresses
    eip: PathAddresses
    lb_node_next: list[int]
    lb_node_then: list[int]
    lb_node_subnet: list[int]
    vpc_base: list[int]
    vpc_mask: list[int]
    subnet_zone: list[int]
    internet: int
    max_lookups: int
    drop_not_routed: int
    drop_unreachable: int
    drop_no_public_ip: int
    drop_loop: int
    drop_no_route: int
    def __init__(self) -> None: ...
    def check(self) -> None: ...

def path_source(
    tables: PathTables,
    idx: npt.NDArray[np.int64],
    packets: npt.NDArray[np.void],
    then: npt.NDArray[np.int64],
    from_subnet: npt.NDArray[np.int64],
    lookups: npt.NDArray[np.uint8],
    leaving: npt.NDArray[np.bool_],
    entering: npt.NDArray[np.bool_],
    via: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]: ...
def path_internet(
    tables: PathTables,
    idx: npt.NDArray[np.int64],
    packets: npt.NDArray[np.void],
    then: npt.NDArray[np.int64],
    from_subnet: npt.NDArray[np.int64],
    lookups: npt.NDArray[np.uint8],
    leaving: npt.NDArray[np.bool_],
    entering: npt.NDArray[np.bool_],
    via: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]: ...
def path_internet_gateway(
    tables: PathTables,
    idx: npt.NDArray[np.int64],
    packets: npt.NDArray[np.void],
    then: npt.NDArray[np.int64],
    from_subnet: npt.NDArray[np.int64],
    lookups: npt.NDArray[np.uint8],
    leaving: npt.NDArray[np.bool_],
    entering: npt.NDArray[np.bool_],
    via: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]: ...
def path_route(
    tables: PathTables,
    routes: list[PathRoute],
    me: int,
    idx: npt.NDArray[np.int64],
    packets: npt.NDArray[np.void],
    then: npt.NDArray[np.int64],
    from_subnet: npt.NDArray[np.int64],
    lookups: npt.NDArray[np.uint8],
    leaving: npt.NDArray[np.bool_],
    entering: npt.NDArray[np.bool_],
    via: npt.NDArray[np.int64],
    zone_packets: npt.NDArray[np.uint64],
    zone_bytes: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]: ...

# ---- mesh (csrc/mesh): request balancing between services, a discrete-event simulation ----
def mesh_simulate(
    clients: list[tuple[int, int]],
    endpoints: list[tuple[int, int, float, float, float, int, int]],
    one_way_ns: tuple[float, float, float],
    jitter_sigma: float,
    balancer: dict[str, object],
    load: dict[str, object],
    down: list[tuple[int, bool, int, int]],
) -> dict[str, Any]: ...

class MeshBalancer:
    def __init__(
        self,
        clients: list[tuple[int, int]],
        endpoints: list[tuple[int, int]],
        one_way_ns: tuple[float, float, float],
        balancer: dict[str, object],
        seed: int,
    ) -> None: ...
    def set_health(self, endpoints: list[bool], clients: list[bool]) -> None: ...
    def rediscover(self, endpoint: int, now_ns: int) -> None: ...
    def pick(self, client: int, now_ns: int) -> int: ...
    def sent(self, client: int, endpoint: int) -> None: ...
    def done(self, client: int, endpoint: int, sent_ns: int, now_ns: int) -> None: ...
    def cost(self, client: int, endpoint: int, now_ns: int) -> float: ...
    def estimate(self, client: int, endpoint: int) -> float: ...
    def pending(self, client: int, endpoint: int) -> int: ...
    def last_candidates(self) -> list[int]: ...
    def zone_mode(self, client: int) -> int: ...
    def zone_local_share(self, client: int) -> int: ...
class LiveRouter:
    def __init__(
        self, links: list[tuple[str, int, int, list[int], int]], local: list[int], batch: int = 256, ring: int = 3
    ) -> None: ...
    def receive(self, out: npt.NDArray[np.void], timeout_ms: int) -> int: ...
    def transmit(self, packets: npt.NDArray[np.void], verdict: npt.NDArray[np.uint8]) -> None: ...
    def counters(self) -> dict[str, int]: ...
    def ingress(self) -> npt.NDArray[np.uint32]: ...
    @property
    def links(self) -> list[tuple[str, str]]: ...

def enter_network_namespace(fd: int) -> None: ...
class FleetRouter:
    def __init__(self) -> None: ...
    def add_tenant(self, base: int, slots: int, kind: int) -> None: ...
    def add_address(self, address: int, tenant: int, from_too: bool) -> None: ...
    def add_network(self, base: int, prefix: int, tenant: int) -> None: ...
    def route(
        self, batch: npt.NDArray[np.void]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint64]]: ...
    @staticmethod
    def group(slot: npt.ArrayLike, slots: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]: ...
    @staticmethod
    def permute(batch: npt.NDArray[np.void], order: npt.NDArray[np.uint32], back: bool) -> npt.NDArray[np.void]: ...
