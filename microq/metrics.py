"""`GET /metrics`: Prometheus text format.

Two kinds of numbers:

- **Process counters** (requests by route template and status, latency, errors by cause, Redis
  round trips and their batch sizes) count what this process did. With `microq serve --workers N`
  the CLI points prometheus-client's multiprocess mode at one folder (PROMETHEUS_MULTIPROC_DIR),
  so any worker that answers a scrape reports the sum over all workers of that serve.
- **State** (topic depths, people waiting, work items by status, active bans) is read from Redis
  at scrape time by each part's reader, so every node, whatever it did itself, reports the same
  cluster-wide truth. A part registers its reader with `add_state_reader`; the foundation never
  imports a part. Label cardinality is bounded: each reader labels only the largest
  MICROQ_METRICS_TOP_N entities and reports totals over all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable

import hiredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from redis.asyncio import RedisCluster

from microq.appkeys import SCRIPTS, SETTINGS

log = logging.getLogger(__name__)

#: a part's reader: (app, top_n) -> metric families read from Redis now
StateReader = Callable[[web.Application, int], Awaitable[list[Metric]]]
STATE_READERS = web.AppKey("metrics_state_readers", list)
_SCRAPE = web.AppKey("metrics_scrape_lock", asyncio.Lock)

UNMATCHED = "(unmatched)"  #: the route label of a request no route matched (404s), so raw paths never become labels

REQUESTS = Counter("microq_http_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("microq_http_request_duration_seconds", "Time to answer, by route template",
                    ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
ERRORS = Counter("microq_http_errors_total", "Error answers (4xx and 5xx) by cause", ["cause"])
ROUND_TRIPS = Counter("microq_redis_round_trips_total", "Round trips to Redis made by the script runner")
BATCH = Histogram("microq_redis_batch_commands", "Commands sent together in one round trip",
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
        BATCH.observe(commands)

    scripts.on_round_trip = observed


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """After redis_ctx: hook the script runner for round-trip counts."""
    app[_SCRAPE] = asyncio.Lock()
    count_round_trips(app[SCRIPTS])
    yield


class _Static:
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


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
    async with request.app[_SCRAPE]:  # concurrent scrapes of one node wait for one read at a time
        state = await read_state(request.app)
    process = generate_latest(process_registry())
    registry = CollectorRegistry()
    registry.register(_Static(state))
    body = process + generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def top(counts: dict[str, int], n: int) -> list[str]:
    """The n entities with the largest counts (ties by name), for bounded labels: O(len · log n)."""
    return heapq.nsmallest(n, counts, key=lambda name: (-counts[name], name))


async def chunked(items: list[Any], size: int = 500) -> AsyncIterator[list[Any]]:
    """Slices of `items`, yielding to the event loop between them (a scrape of 10k topics must not
    hold the loop while it builds and parses pipelines)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
        await asyncio.sleep(0)


async def scan_keys(redis: Any, pattern: str, type_: str | None = None) -> list[str]:
    """Every key matching `pattern`, on every primary of a Cluster; 10,000 keys examined per round trip
    (a few ms of Redis time each).

    For parts that keep no registry of their entities. SCAN walks the whole keyspace, so its cost
    grows with every key stored; bench/bench_metrics.py measures it.
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


async def pipelined(redis: Any, commands: list[tuple[Any, ...]], size: int = 5000) -> list[Any]:
    """Replies to read-only commands, `size` per round trip, yielding the loop between round trips.
    An error reply comes back as a value, never raised.

    redis-py spends about 90 µs of Python per reply, which at 50,000 replies (10k topics) holds
    the event loop for seconds; on a single Redis the replies are parsed by hiredis in one call
    per read instead. A Cluster client routes each command by slot, so there it is redis-py's
    (slower) cluster pipeline.
    """
    replies: list[Any] = []
    async for chunk in chunked(commands, size):
        if isinstance(redis, RedisCluster):
            pipe = redis.pipeline(transaction=False)
            for command in chunk:
                pipe.execute_command(*command)
            replies.extend(await pipe.execute(raise_on_error=False))
        else:
            replies.extend(await _round_trip(redis, chunk))
    return replies


async def _round_trip(redis: Any, commands: list[tuple[Any, ...]]) -> list[Any]:
    pool = redis.connection_pool
    connection = await pool.get_connection()
    try:
        async with asyncio.timeout(pool.connection_kwargs.get("socket_timeout") or 5.0):
            await connection.send_packed_command(b"".join(hiredis.pack_command(c) for c in commands),
                                                 check_health=False)
            reader, replies = hiredis.Reader(), []
            while len(replies) < len(commands):
                data = await connection._reader.read(1 << 17)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                reader.feed(data)
                while (reply := reader.gets()) is not False:
                    replies.append(reply)
    except BaseException:
        # a half-read reply would desynchronise the connection's next user: drop it
        with contextlib.suppress(Exception):
            await connection.disconnect(nowait=True)
        raise
    finally:
        await pool.release(connection)
    return replies
