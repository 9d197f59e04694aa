"""The error family every part raises, and the one map from Redis's and Lua's errors to it.

A script fails with `redis.error_reply("CODE detail")`; `from_lua` turns that into the
matching MicroQError, whose `.status` the error middleware sends. `from_redis` does the same
for everything Redis itself can answer or fail with: a Redis that is unreachable, slow,
loading, out of memory, read-only, or a Cluster that is down or resharding is 503 with
Retry-After, whatever redis-py version raised it and however it classed it. Nothing else
maps errors to HTTP statuses.
"""

from __future__ import annotations

import asyncio
import re

from redis.exceptions import (AskError, BusyLoadingError, ClusterDownError, MovedError, OutOfMemoryError,
                              ReadOnlyError, RedisClusterException, ResponseError, TryAgainError)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class MicroQError(Exception):
    status = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}

    @property
    def public(self) -> str:
        """What a client is told; str() is what the log says."""
        return str(self)


class BadRequest(MicroQError):
    status = 400


class Unauthorized(MicroQError):
    status = 401


class Forbidden(MicroQError):
    status = 403


class NotFound(MicroQError):
    status = 404


class Conflict(MicroQError):
    status = 409


class Gone(MicroQError):
    status = 410


class PayloadTooLarge(MicroQError):
    status = 413


class Unprocessable(MicroQError):
    status = 422


class TooManyRequests(MicroQError):
    status = 429


class Unavailable(MicroQError):
    status = 503


class RedisAway(Unavailable):
    """Redis unreachable or refusing for now (503): what a long-lived stream waits out instead of ending.
    A client is told only the kind of failure: the servers' addresses and what they said are the log's."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(f"redis unavailable, try again shortly ({reason})", headers={"Retry-After": RETRY_AFTER})
        self.kind = kind

    @property
    def public(self) -> str:
        return f"redis unavailable, try again shortly ({self.kind})"


#: Redis unreachable: as the script runner says it (RedisAway), or as a raw redis-py call does
REDIS_AWAY = (RedisAway, RedisConnectionError, RedisTimeoutError, OSError)
REDIS_AWAY_RETRY = 1.0  #: seconds between a long-lived stream's looks while Redis is away: the stream stays open


#: the first word of a Lua error reply -> the error it becomes
LUA_CODES: dict[str, type[MicroQError]] = {
    "INVALID": BadRequest,
    "UNAUTHORIZED": Unauthorized,
    "FORBIDDEN": Forbidden,
    "NOTFOUND": NotFound,
    "CONFLICT": Conflict,
    "GONE": Gone,
    "TOOLARGE": PayloadTooLarge,
    "FULL": TooManyRequests,
    "UNPROCESSABLE": Unprocessable,
}


RETRY_AFTER = "1"  #: seconds a client is asked to wait after a 503 from Redis

#: error codes with which Redis says "not now" (it ran nothing, or nothing it will keep):
#: CLUSTERDOWN, TRYAGAIN (a slot is moving), MOVED/ASK (redirections left over after MicroQ
#: followed them), LOADING (a restart reads its AOF), BUSY (a script or module runs too long),
#: READONLY (a failover turned the node into a replica), MASTERDOWN, OOM (maxmemory), MISCONF
#: (it cannot persist), NOREPLICAS (min-replicas-to-write)
UNAVAILABLE_CODES = frozenset({"CLUSTERDOWN", "TRYAGAIN", "MOVED", "ASK", "LOADING", "BUSY", "READONLY",
                               "MASTERDOWN", "OOM", "MISCONF", "NOREPLICAS"})
#: redis-py strips the code from the message of the errors it has a class for
_CODE_OF_CLASS: tuple[tuple[type[Exception], str], ...] = (
    (ClusterDownError, "CLUSTERDOWN"), (TryAgainError, "TRYAGAIN"), (MovedError, "MOVED"), (AskError, "ASK"),
    (BusyLoadingError, "LOADING"), (ReadOnlyError, "READONLY"), (OutOfMemoryError, "OOM"))


#: Redis 6.2 wraps an error a command inside a script met: "Error running script (...): @user_script:45:
#: @user_script: 45: -OOM command not allowed ..." (Redis 7 starts the message with the code itself)
_INSIDE_SCRIPT = re.compile(r"^(?:ERR )?Error running script .*?: -([A-Z]+) ")


def redis_code(exc: ResponseError) -> str:
    """The error code of a Redis error reply ("MOVED", "NOTFOUND", ...), however redis-py classed it."""
    for kind, code in _CODE_OF_CLASS:
        if isinstance(exc, kind):
            return code
    text = str(exc)
    inside = _INSIDE_SCRIPT.match(text)
    return inside.group(1) if inside else text.partition(" ")[0]


def unavailable(reason: str, kind: str | None = None) -> RedisAway:
    """503 for a Redis that cannot answer now: `reason` for the log, `kind` (default: `reason`,
    when it names no server) for the client."""
    return RedisAway(reason, kind or reason)


def from_lua(exc: ResponseError) -> Exception:
    """The MicroQError a script's error reply names; else what `from_redis` makes of it."""
    code, _, detail = str(exc).partition(" ")
    kind = LUA_CODES.get(code)
    return kind(detail or code.lower()) if kind else from_redis(exc)


def from_redis(exc: BaseException) -> BaseException:
    """Unavailable (503) for every way Redis can be unreachable or refuse for now; `exc` itself
    for anything else (a Lua runtime error or a CROSSSLOT is a bug in MicroQ: 500)."""
    if isinstance(exc, MicroQError):
        return exc
    if isinstance(exc, ResponseError):  # before ConnectionError: ClusterDownError is both in some versions
        code = redis_code(exc)
        return unavailable(code) if code in UNAVAILABLE_CODES else exc
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, RedisClusterException)):
        # BusyLoadingError (LOADING) and MaxConnectionsError are ConnectionErrors; RedisClusterException
        # covers "no seed node reachable" and a slot no primary serves
        return unavailable(reason(exc), _kind(exc))
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):  # the runner's own deadline on a round trip
        return unavailable("timed out")
    return exc


def _kind(exc: BaseException) -> str:
    """A connection failure as a client may hear of it: redis-py's messages name the server."""
    if isinstance(exc, BusyLoadingError):
        return "LOADING"
    if isinstance(exc, RedisTimeoutError):
        return "timed out"
    if isinstance(exc, RedisClusterException):
        return "no Redis Cluster node answers"
    return "connection failed"


def reason(exc: BaseException) -> str:
    """An error's first line, short enough for a log line or an error body."""
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
