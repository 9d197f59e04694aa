"""The node's Redis connection: owned by a cleanup context, embedded server included."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from typing import Any, AsyncIterator
from urllib.parse import urlparse

from aiohttp import web
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from microq.appkeys import KEYSPACE, REDIS, REDIS_URL, SCRIPTS, SETTINGS, SUBSCRIBER
from microq.embedded import EmbeddedRedis
from microq.errors import MicroQError
from microq.keys import Keyspace
from microq.pubsub import Subscriber
from microq.redis_compat import PROTOCOL
from microq.scripts import Scripts

log = logging.getLogger(__name__)


def seeds(url: str) -> list[str]:
    """REDIS_URL's comma-separated URLs: one Redis, or seed nodes of one Redis Cluster."""
    return [part.strip() for part in url.split(",") if part.strip()]


def connect(url: str, cluster: bool = False, **overrides: Any) -> Redis | RedisCluster:
    """A client that fails fast: short timeouts and no retry on any path, because a resent
    EVALSHA that had reached Redis applies its script twice.

    With `cluster` (or several comma-separated seed URLs), a Redis Cluster client that learns
    the slot map from the first seed that answers; the other seeds take the same options
    (password, TLS) as the first. MOVED and ASK redirections are still followed: Redis ran
    nothing. Replies are RESP2 on every redis-py version (redis_compat.PROTOCOL).
    """
    urls = seeds(url)
    if not urls:
        raise ValueError("no Redis URL")
    options: dict[str, Any] = dict(socket_connect_timeout=2.0, socket_timeout=5.0, max_connections=256,
                                   protocol=PROTOCOL, retry=Retry(NoBackoff(), 0), health_check_interval=0)
    options.update(overrides)
    if urls[0].startswith("unix://"):  # TCP keepalive has no meaning on a unix socket, and redis-py refuses it there
        options.pop("socket_keepalive", None)
    if not cluster and len(urls) == 1:
        return Redis.from_url(urls[0], **options)
    accepted = inspect.signature(RedisCluster.__init__).parameters
    for name in ("cluster_error_retry_attempts", "connection_error_retry_attempts"):  # the latter is 5.x only
        if name in accepted:
            options.setdefault(name, 0)
    others = []
    for other in urls[1:]:
        parsed = urlparse(other)
        others.append(ClusterNode(parsed.hostname or "127.0.0.1", parsed.port or 6379))
    # a slot map with a dead primary in it is still a map: the live primaries serve their slots
    options.setdefault("require_full_coverage", False)
    return RedisCluster.from_url(urls[0], startup_nodes=others or None, **options)


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await asyncio.to_thread(embedded.attach)
    else:
        log.info("using Redis at %s", _safe(url))
    client = await open_client(url, settings.redis_cluster)
    scripts = Scripts(client)
    try:
        await scripts.preload()
    except MicroQError as exc:  # no seed reachable: serve anyway, /readyz says 503 until Redis is back
        log.warning("Redis unreachable at start (%s); /readyz answers 503 until it is back", exc)
    subscriber = Subscriber(scripts)
    app[REDIS_URL] = url
    app[REDIS] = client
    app[SCRIPTS] = scripts
    app[SUBSCRIBER] = subscriber
    app[KEYSPACE] = Keyspace(settings.key_prefix)
    listening = asyncio.create_task(subscriber.run(), name="redis-pubsub")
    try:
        yield
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await client.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.release)


async def open_client(url: str, cluster: bool) -> Redis | RedisCluster:
    """connect(), and a Cluster client when the one URL turns out to name a Cluster node: as a
    single Redis it would answer MOVED for every key of the other primaries' slots."""
    client = connect(url, cluster=cluster)
    if not cluster and len(seeds(url)) == 1 and await _is_cluster_node(client):
        log.info("REDIS_URL names a Redis Cluster node: using the Cluster (MICROQ_REDIS_CLUSTER implied)")
        await client.aclose()
        client = connect(url, cluster=True)
    return client


async def _is_cluster_node(client: Redis | RedisCluster) -> bool:
    """Whether a single-Redis client's server has cluster mode on; False when it cannot be asked
    (Redis down at start: the node serves as configured and `microq doctor` says what it finds)."""
    try:
        info = await client.info("cluster")
    except (RedisError, OSError):
        return False
    return str(info.get("cluster_enabled", 0)) == "1"


def _safe(url: str) -> str:
    """The URLs without their passwords, for logs."""
    out = []
    for one in seeds(url):
        if "@" in one:
            scheme, _, rest = one.partition("://")
            one = f"{scheme}://***@{rest.rpartition('@')[2]}"
        out.append(one)
    return ",".join(out)
