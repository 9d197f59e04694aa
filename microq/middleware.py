"""The one place where failures become HTTP answers: always `{"error": "..."}`, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from microq.errors import MicroQError

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
        return web.json_response({"error": str(exc)}, status=exc.status, headers=exc.headers)
    except (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError, asyncio.TimeoutError) as exc:
        log.warning("redis unavailable during %s %s: %s", request.method, request.path, exc)
        return web.json_response({"error": "redis unavailable, try again shortly"}, status=503)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)
