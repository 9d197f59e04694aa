"""The one place where failures become HTTP answers: always `{"error": "..."}`, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisClusterException, RedisError

from microq.errors import MicroQError, from_redis

try:  # aiohttp >= 3.10: what the transport raises when the client hung up
    from aiohttp import ClientConnectionResetError
except ImportError:  # pragma: no cover - older aiohttp raises ConnectionResetError itself
    ClientConnectionResetError = ConnectionResetError
try:
    from aiohttp.web_protocol import RequestPayloadError
except ImportError:  # pragma: no cover
    from aiohttp.http_exceptions import PayloadEncodingError as RequestPayloadError
from aiohttp.http_exceptions import BadHttpMessage

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REASONS = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _REASONS.get(exc.status) or exc.reason.lower()
        if exc.status == 413:
            message = f"request body too large (limit {request.client_max_size} bytes)"
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return web.json_response({"error": message}, status=exc.status, headers=headers)
    except MicroQError as exc:
        if exc.status == 503 and request.path != "/readyz":  # a probe every few seconds would flood the log
            log.warning("%s %s: %s", request.method, request.path, exc)
        return web.json_response({"error": exc.public}, status=exc.status, headers=exc.headers)
    except (RedisError, RedisClusterException) as exc:  # one that reached here past the runner
        mapped = from_redis(exc)
        if not isinstance(mapped, MicroQError):
            log.exception("unhandled Redis error in %s %s", request.method, request.path)
            return web.json_response({"error": "internal error"}, status=500)
        log.warning("%s %s: %s", request.method, request.path, mapped)
        return web.json_response({"error": mapped.public}, status=mapped.status, headers=mapped.headers)
    except (RequestPayloadError, BadHttpMessage) as exc:  # e.g. a gzip body that is not gzip
        return web.json_response({"error": f"unreadable request body: {exc}"}, status=400)
    except (ClientConnectionResetError, ConnectionResetError) as exc:
        # the client hung up (mid-body, or before the answer): nobody reads this, and Redis is fine
        log.debug("client went away during %s %s: %s", request.method, request.path, exc)
        return web.json_response({"error": "connection closed by the client"}, status=400)
    except (TimeoutError, asyncio.TimeoutError):
        log.warning("timed out: %s %s", request.method, request.path)
        return web.json_response({"error": "timed out, try again shortly"}, status=503,
                                 headers={"Retry-After": "1"})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)
