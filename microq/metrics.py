"""`GET /metrics`: Prometheus text format.

Two kinds of numbers:

- **Process counters** (requests by route template and status, latency, errors by cause, Redis
  round trips and their batch sizes) count what this process did. With `microq serve --workers N`
  the CLI points prometheus-client's multiprocess mode at one folder (PROMETHEUS_MULTIPROC_DIR),
  so any worker that answers a scrape reports the sum over all workers of that serve.
- **State** (topic depths, people waiting, work items by status, active bans) is read from Redis
  by each part's reader, so every node, whatever it did itself, reports the same cluster-wide
  truth. A part registers its reader with `add_state_reader`; the foundation never imports a
  part. Label cardinality is bounded: each reader labels only the largest MICROQ_METRICS_TOP_N
  entities and reports totals over all of them. A read costs work in proportion to what exists,
  so scrapes share one snapshot of it, renewed once per MICROQ_METRICS_STATE_TTL for the whole
  cluster (microq/metrics_snapshot.py).

Readers read in bounded batches (`read_many`) that yield the event loop between round trips, and
find their entities in the parts' own indexes, never by SCAN of the keyspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import time
from typing import Any, AsyncIterator, Awaitable, Callable

import hiredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from microq.appkeys import KEYSPACE, SCRIPTS, SETTINGS
from microq.metrics_snapshot import SNAPSHOT, StateSnapshot
from microq.redis_compat import Connections
from microq.scripts import Scripts

log = logging.getLogger(__name__)

#: a part's reader: (app, top_n) -> metric families read from Redis now
StateReader = Callable[[web.Application, int], Awaitable[list[Metric]]]
STATE_READERS = web.AppKey("metrics_state_readers", list)
BATCH = 1000  #: commands per round trip of read_many: about 1 ms of packing and parsing between yields

UNMATCHED = "(unmatched)"  #: the route label of a request no route matched (404s), so raw paths never become labels

REQUESTS = Counter("microq_http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("microq_http_request_duration_seconds", "Time to answer, by route template",
                    ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
ERRORS = Counter("microq_http_errors_total", "Error answers (4xx and 5xx) by cause", ["cause"])
ROUND_TRIPS = Counter("microq_redis_round_trips_total", "Round trips to Redis made by the script runner")
BATCH_SIZES = Histogram("microq_redis_batch_commands", "Commands sent together in one round trip",
                  buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
STATE_SECONDS = Histogram("microq_metrics_state_read_seconds", "Time to read the state gauges from Redis")

#: HTTP status -> the cause label of microq_http_errors_total
CAUSES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large", 415: "unsupported_media_type",
          422: "unprocessable",
          429: "rate_limited", 500: "internal", 503: "unavailable"}


def add_state_reader(app: web.Application, reader: StateReader) -> None:
    """Register a part's reader; called by app.py for each part."""
    if STATE_READERS not in app:
        app[STATE_READERS] = []
    app[STATE_READERS].append(reader)


def route_label(request: web.Request) -> str:
    """The route template (/api/{tenant_id}/queues), never the raw path: bounded cardinality."""
    route = request.match_info.route
    resource = getattr(route, "resource", None)
    if resource is None or request.match_info.http_exception is not None:
        return UNMATCHED
    return resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects pass through the error middleware as exceptions
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away (nginx's code for it)
        raise
    finally:
        route, method = route_label(request), request.method
        REQUESTS.labels(method, route, str(status)).inc()
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
        if status >= 400 and status != 499:
            ERRORS.labels(CAUSES.get(status, f"http_{status}")).inc()


def count_round_trips(scripts: Any) -> None:
    """Count the script runner's round trips and their batch sizes (its on_round_trip hook)."""
    def observed(commands: int) -> None:
        ROUND_TRIPS.inc()
        BATCH_SIZES.observe(commands)

    scripts.on_round_trip = observed


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """After redis_ctx: hook the script runner for round-trip counts; the shared state snapshot."""
    count_round_trips(app[SCRIPTS])
    snapshot = app[SNAPSHOT] = StateSnapshot(app[SCRIPTS], app[KEYSPACE], app[SETTINGS].metrics_state_ttl,
                                             lambda: read_state(app))
    yield
    await snapshot.close()


def process_registry() -> CollectorRegistry:
    """This process's counters, or every worker's summed in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


async def read_state(app: web.Application) -> list[Metric]:
    top_n = app[SETTINGS].metrics_top_n
    families: list[Metric] = []
    ok = GaugeMetricFamily("microq_state_up", "1 when every state reader answered, 0 when Redis failed one",
                           labels=["part"])
    with STATE_SECONDS.time():
        for reader in app.get(STATE_READERS, []):
            part = getattr(reader, "part", reader.__module__)
            try:
                families.extend(await reader(app, top_n))
                ok.add_metric([part], 1)
            except Exception as exc:  # noqa: BLE001 - a scrape reports what it can; the gauge says what failed
                log.warning("metrics: reading %s state failed: %s", part, exc)
                ok.add_metric([part], 0)
    return [*families, ok]


routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    state = await request.app[SNAPSHOT].text()
    # formatting the counters (every worker's files in multiprocess mode) takes a few ms: in a
    # thread, which lets the event loop run every switch interval (5 ms)
    process = await asyncio.to_thread(generate_latest, process_registry())
    return web.Response(body=process + state, headers={"Content-Type": CONTENT_TYPE_LATEST})


def top(counts: dict[str, int], n: int) -> list[str]:
    """The n entities with the largest counts (ties by name), for bounded labels: O(len · log n)."""
    return heapq.nsmallest(n, counts, key=lambda name: (-counts[name], name))


class Largest:
    """The n entities with the largest sizes, fed one slice at a time (ties by name), so that no
    single step walks every entity: each `offer` costs O(slice · log n)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._best: dict[str, int] = {}

    def offer(self, sizes: dict[str, int]) -> None:
        pool = {**self._best, **sizes}
        self._best = {name: pool[name] for name in top(pool, self.n)}

    def names(self) -> list[str]:
        """Largest first."""
        return list(self._best)


async def scan_keys(redis: Any, pattern: str, type_: str | None = None) -> list[str]:
    """Every key matching `pattern`, on every primary of a Cluster; 10,000 keys examined per round trip
    (a few ms of Redis time each).

    Only for a part's one-time backfill of an index (microq/name_index.py): SCAN walks the whole
    keyspace, so its cost grows with every key stored, and no scrape may pay that.
    """
    found = []
    async for key in redis.scan_iter(match=pattern, count=10000, _type=type_):
        found.append(key.decode() if isinstance(key, bytes) else key)
        if len(found) % 1000 == 0:
            await asyncio.sleep(0)
    return found


def tag_of(key: str) -> str:
    """The text between the first `{` and the next `}` of a key: the entity's hash tag."""
    start = key.index("{") + 1
    return key[start:key.index("}", start)]


def unescape_tag(tag: str) -> str:
    """Undo microq.keys.escape_tag."""
    return tag.replace("%7D", "}").replace("%7B", "{").replace("%25", "%")


async def read_many(scripts: Scripts, commands: list[tuple[Any, ...]], batch: int = BATCH) -> list[Any]:
    """Replies to read-only commands (each `(NAME, key, ...)`), in order; an error reply comes back
    as a value (hiredis.ReplyError), never raised. Unavailable (raised) when a server cannot be read.

    Sent `batch` per round trip on each server (every primary of a Cluster, at once), the event
    loop yielded between round trips; replies are parsed by hiredis in one call per socket read,
    where redis-py would spend about 90 µs of Python on each. A command whose slot moved (MOVED,
    ASK) is sent again through the script runner, which follows the redirection.
    """
    replies: list[Any] = [None] * len(commands)
    servers = await scripts.servers()  # also makes sure a Cluster's slot map is known
    if not scripts.cluster:
        groups = {servers[0].name: (servers[0], list(range(len(commands))))}
    else:
        groups = {}
        for i, command in enumerate(commands):
            node = scripts.redis.get_node_from_key(command[1])
            if node.name not in groups:
                groups[node.name] = (Connections(node), [])
            groups[node.name][1].append(i)
            if i % batch == batch - 1:
                await asyncio.sleep(0)

    async def read_server(connections: Connections, positions: list[int]) -> None:
        for start in range(0, len(positions), batch):
            chunk = positions[start:start + batch]
            answers = await _round_trip(connections, [commands[i] for i in chunk])
            for i, answer in zip(chunk, answers):
                replies[i] = answer
            await asyncio.sleep(0)

    outcomes = await asyncio.gather(*(read_server(c, positions) for c, positions in groups.values()),
                                    return_exceptions=True)  # every server's read ends before any error is raised
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    for i, reply in enumerate(replies):
        if isinstance(reply, hiredis.ReplyError) and str(reply).startswith(("MOVED ", "ASK ")):
            replies[i] = await scripts.execute(*commands[i])
    return replies


async def _round_trip(connections: Connections, commands: list[tuple[Any, ...]]) -> list[Any]:
    # redis-py's public reply path parses each reply in Python; its connection's socket reader is
    # private, used here only (tested at both ends of the pinned redis-py range with the suite)
    connection = await connections.acquire()
    try:
        async with asyncio.timeout(connections.timeout):
            await connection.send_packed_command(b"".join(map(hiredis.pack_command, commands)), check_health=False)
            reader, replies = hiredis.Reader(), []
            while len(replies) < len(commands):
                data = await connection._reader.read(1 << 17)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                reader.feed(data)
                while (reply := reader.gets()) is not False:
                    replies.append(reply)
    except BaseException as exc:
        # a half-read reply would desynchronise the connection's next user: drop it
        with contextlib.suppress(Exception):
            await connection.disconnect(nowait=True)
        if isinstance(exc, (OSError, TimeoutError)):
            raise ConnectionError(f"{connections.name}: {exc or 'timed out'}") from exc
        raise
    finally:
        await connections.release(connection)
    return replies
