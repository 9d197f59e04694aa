"""Request ids and the JSON access log (MICROQ_ACCESS_LOG=json).

Every request gets an id: the client's or proxy's `X-Request-Id` when it is sane (1-128 of
`A-Z a-z 0-9 . _ : -`), else a new one. It is echoed on the response, also on streams (set when
the response is prepared) and error answers, so a line in nginx's log, the client's and ours can
be matched. With MICROQ_ACCESS_LOG=json each request is one JSON object on stdout when it ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import uuid
from typing import Callable

from aiohttp import web

from microq.appkeys import CLIENT_ADDRESS, SETTINGS
from microq.metrics import route_label

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUEST_ID = web.RequestKey("request_id", str)  #: the id, for handlers and logs

access = logging.getLogger("microq.access")


def request_id(request: web.Request) -> str:
    found = request.get(REQUEST_ID)
    if found is None:
        offered = request.headers.get(HEADER, "")
        found = request[REQUEST_ID] = offered if _SANE.fullmatch(offered) else uuid.uuid4().hex
    return found


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer carries the id, streams and errors included."""
    response.headers[HEADER] = request_id(request)


@web.middleware
async def access_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    request_id(request)
    if request.app[SETTINGS].access_log != "json":
        return await handler(request)
    started = time.time()
    status, size = 500, 0
    try:
        response = await handler(request)
        status, size = response.status, response.body_length
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client hung up first
        raise
    finally:
        access.info(json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + f".{int(started * 1000) % 1000:03d}Z",
            "request_id": request[REQUEST_ID],
            "remote": request.app[CLIENT_ADDRESS](request) if CLIENT_ADDRESS in request.app else request.remote,
            "method": request.method,
            "path": request.path,
            "route": route_label(request),
            "status": status,
            "bytes": size,
            "duration_ms": round((time.time() - started) * 1000, 3),
            "user_agent": request.headers.get("User-Agent", ""),
        }, ensure_ascii=False))


def configure(settings) -> None:
    """JSON lines go to stdout, one object per line, without the log's own prefix."""
    if settings.access_log != "json" or access.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
