"""The node's Redis connection: owned by a cleanup context, embedded server included."""

from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis, RedisCluster
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from microq.appkeys import KEYSPACE, REDIS, REDIS_URL, SCRIPTS, SETTINGS
from microq.embedded import EmbeddedRedis
from microq.keys import Keyspace
from microq.scripts import Scripts

log = logging.getLogger(__name__)


def connect(url: str, cluster: bool = False, **overrides) -> Redis:
    """A client that fails fast: no silent retries (a retried script could apply twice), short timeouts.

    With `cluster`, a Redis Cluster client that routes each command by its keys' slot; it
    follows MOVED and ASK redirections, which are safe to retry because Redis ran nothing.
    """
    options = dict(socket_connect_timeout=2.0, socket_timeout=5.0, max_connections=256)
    options.update(overrides)
    if url.startswith("unix://"):  # TCP keepalive has no meaning on a unix socket, and redis-py refuses it there
        options.pop("socket_keepalive", None)
    if cluster:
        return RedisCluster.from_url(url, **options)
    options.setdefault("retry", Retry(NoBackoff(), 0))
    options.setdefault("health_check_interval", 0)
    return Redis.from_url(url, **options)


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await asyncio.to_thread(embedded.attach)
    else:
        log.info("using Redis at %s", _safe(url))
    client = connect(url, cluster=settings.redis_cluster)
    scripts = Scripts(client)
    try:
        await scripts.preload()
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        log.warning("Redis unreachable at start (%s); /readyz answers 503 until it is back", exc)
    app[REDIS_URL] = url
    app[REDIS] = client
    app[SCRIPTS] = scripts
    app[KEYSPACE] = Keyspace(settings.key_prefix)
    try:
        yield
    finally:
        await client.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.release)


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url
