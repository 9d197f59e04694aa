"""`microq doctor`, and the same checks as warnings when a node starts.

Each check reads Redis (INFO, CONFIG GET, CLUSTER INFO, TIME) and says ok, warn or error:

| check | error | warn |
| --- | --- | --- |
| version | below 6.2 (the scripts need it) | |
| persistence | | neither AOF nor RDB: a restart loses everything |
| eviction | maxmemory-policy other than noeviction: Redis may delete messages, lines and items | |
| cluster | cluster_state not ok, or slots not all covered | |
| clock | | Redis nodes' clocks (or this host's) more than 500 ms apart |

A node refuses to start on the eviction error unless MICROQ_ALLOW_EVICTION=1; the other
findings are logged as warnings. `microq doctor` prints them all and exits 0 (all ok),
1 (warnings) or 2 (errors), as monitoring plugins do.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from aiohttp import web
from redis.asyncio import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from microq.appkeys import REDIS, SETTINGS
from microq.embedded import EmbeddedRedis
from microq.redis_client import _safe, open_client
from microq.redis_compat import refresh_topology
from microq.settings import Settings

log = logging.getLogger(__name__)

MIN_VERSION = (6, 2)
MAX_SKEW_MS = 500
SLOTS = 16384


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  #: ok | warn | error
    message: str


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _config(redis: Any, name: str) -> str | None:
    """CONFIG GET name (on every primary of a Cluster: the worst answer counts), or None where CONFIG
    is disabled (some managed services rename it)."""
    try:
        if isinstance(redis, RedisCluster):
            replies = [await redis.config_get(name, target_nodes=node) for node in redis.get_primaries()]
        else:
            replies = [await redis.config_get(name)]
    except ResponseError:
        return None
    values = {_text(reply[name]) for reply in replies if isinstance(reply, dict) and name in reply}
    if not values:
        return None
    if len(values) > 1:  # primaries disagree: report the one that is not the safe choice
        return sorted(values, key=lambda v: v in ("noeviction", "yes"))[0]
    return values.pop()


async def check_version(redis: Any) -> Finding:
    if isinstance(redis, RedisCluster):
        info = await redis.info("server", target_nodes=redis.get_random_node())
    else:
        info = await redis.info("server")
    version = _text(info.get("redis_version", "0"))
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < MIN_VERSION:
        return Finding("version", "error", f"Redis {version}; MicroQ needs 6.2 or newer")
    return Finding("version", "ok", f"Redis {version}")


async def check_persistence(redis: Any) -> Finding:
    aof, save = await _config(redis, "appendonly"), await _config(redis, "save")
    if aof is None:
        return Finding("persistence", "warn", "CONFIG GET is not allowed here: check AOF or RDB persistence yourself")
    if aof == "yes":
        fsync = await _config(redis, "appendfsync")
        return Finding("persistence", "ok", f"AOF on (appendfsync {fsync})")
    if save:
        return Finding("persistence", "ok", f"RDB snapshots (save {save}); a crash loses the writes since the last "
                       "one: AOF (appendonly yes) keeps them")
    return Finding("persistence", "warn", "no persistence (appendonly no, save \"\"): a Redis restart loses every "
                   "message, line and item; set appendonly yes")


async def check_eviction(redis: Any) -> Finding:
    policy = await _config(redis, "maxmemory-policy")
    if policy is None:
        return Finding("eviction", "warn", "CONFIG GET is not allowed here: make sure maxmemory-policy is noeviction")
    if policy != "noeviction":
        return Finding("eviction", "error", f"maxmemory-policy is {policy}: Redis may delete MicroQ's keys when "
                       "memory is full; set maxmemory-policy noeviction (or MICROQ_ALLOW_EVICTION=1 to start anyway)")
    return Finding("eviction", "ok", "maxmemory-policy noeviction")


async def check_cluster(redis: Any) -> Finding:
    if not isinstance(redis, RedisCluster):
        info = await redis.info("cluster")
        if str(info.get("cluster_enabled", 0)) == "1":
            # open_client() makes a Cluster client for a Cluster node: only a hand-made client gets here
            return Finding("cluster", "error", "this Redis is a Cluster node but was used as a single Redis")
        return Finding("cluster", "ok", "single Redis (no Cluster)")
    info = await redis.cluster_info()
    state = _text(info.get("cluster_state", "?"))
    assigned, ok = int(info.get("cluster_slots_assigned", 0)), int(info.get("cluster_slots_ok", 0))
    primaries = len(redis.get_primaries())
    replicas = len(redis.get_replicas())
    summary = f"{primaries} primaries, {replicas} replicas, {ok}/{SLOTS} slots ok"
    if state != "ok" or assigned != SLOTS or ok != SLOTS:
        return Finding("cluster", "error", f"cluster_state {state}, {summary}")
    level = "ok" if replicas else "warn"
    tail = "" if replicas else "; no replicas: losing a primary loses its slots' data"
    return Finding("cluster", level, f"cluster_state ok, {summary}{tail}")


async def check_clock(redis: Any) -> Finding:
    """Redis TIME on every primary against this host's clock (the scripts take time from Redis)."""
    if isinstance(redis, RedisCluster):
        nodes = redis.get_primaries()
        replies = [await redis.execute_command("TIME", target_nodes=node) for node in nodes]
    else:
        replies = [await redis.time()]
    here = time.time() * 1000
    times = []
    for reply in replies:
        seconds, micros = (reply[0], reply[1]) if isinstance(reply, (list, tuple)) else reply
        times.append(int(seconds) * 1000 + int(micros) / 1000)
    between = max(times) - min(times)
    host = max(abs(t - here) for t in times)
    detail = f"Redis nodes within {between:.0f} ms of each other, this host {host:.0f} ms from Redis"
    if between > MAX_SKEW_MS or host > MAX_SKEW_MS:
        return Finding("clock", "warn", f"{detail} (over {MAX_SKEW_MS} ms: run NTP; ETAs, leases and delays drift)")
    return Finding("clock", "ok", detail)


CHECKS = (check_version, check_persistence, check_eviction, check_cluster, check_clock)


async def diagnose(redis: Any) -> list[Finding]:
    findings = []
    if isinstance(redis, RedisCluster):
        try:  # learn the nodes and slots before any check asks for them (from any seed that answers)
            await refresh_topology(redis)
        except (RedisClusterException, RedisError, OSError, asyncio.TimeoutError) as exc:
            return [Finding("cluster", "error", f"Redis unreachable: {exc or type(exc).__name__}")]
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            findings.append(await check(redis))
        except (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
            findings.append(Finding(name, "error", f"Redis unreachable: {exc or type(exc).__name__}"))
            break
        except ResponseError as exc:
            findings.append(Finding(name, "warn", f"could not check: {exc}"))
    return findings


def exit_code(findings: list[Finding]) -> int:
    levels = {f.level for f in findings}
    return 2 if "error" in levels else 1 if "warn" in levels else 0


def report(findings: list[Finding], where: str) -> str:
    marks = {"ok": "ok   ", "warn": "WARN ", "error": "ERROR"}
    lines = [f"microq doctor: Redis at {where}"]
    lines += [f"  {marks[f.level]} {f.check:<12} {f.message}" for f in findings]
    verdict = {0: "all checks passed", 1: "warnings: MicroQ runs, but read them", 2: "errors: fix them first"}
    lines.append(verdict[exit_code(findings)])
    return "\n".join(lines)


async def startup_ctx(app: web.Application) -> AsyncIterator[None]:
    """At start: log every finding that is not ok; refuse an evicting Redis unless allowed."""
    findings = await diagnose(app[REDIS])
    for finding in findings:
        if finding.level != "ok" and "unreachable" not in finding.message:  # redis_ctx already said so
            log.warning("doctor: %s: %s", finding.check, finding.message)
    evicting = [f for f in findings if f.check == "eviction" and f.level == "error"]
    if evicting and not app[SETTINGS].allow_eviction:
        raise RuntimeError(f"refusing to start: {evicting[0].message}")
    yield


def server_redis_url(settings: Settings) -> str:
    """The Redis a `microq serve` with these settings uses: REDIS_URL, or the embedded server of
    MICROQ_DATA_DIR, which must be running already. Commands run beside a server (doctor,
    api-key) never start an embedded Redis of their own: one started in the wrong folder would
    take keys that no server ever reads."""
    if settings.redis_url:
        return settings.redis_url
    embedded = EmbeddedRedis(settings.data_dir)
    if not _answers(embedded.url):
        raise ServerNotFound(
            f"no microq server is running on the data folder {embedded.data_dir} (its embedded Redis at "
            f"{embedded.socket_path} does not answer). Run this where `microq serve` runs, with the same "
            "MICROQ_DATA_DIR or REDIS_URL, while it runs.")
    return embedded.url


class ServerNotFound(RuntimeError):
    """No Redis of a running server to use."""


def _answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def run(settings: Settings) -> int:
    """`microq doctor`: the report on stdout; exit 0 ok, 1 warnings, 2 errors."""
    try:
        url = server_redis_url(settings)
    except ServerNotFound as exc:
        print(f"microq doctor: {exc}", file=sys.stderr)
        return 2

    async def diagnose_url() -> list[Finding]:
        client = await open_client(url, settings.redis_cluster)
        try:
            return await diagnose(client)
        finally:
            await client.aclose()

    findings = asyncio.run(diagnose_url())
    print(report(findings, _safe(url)))
    return exit_code(findings)
