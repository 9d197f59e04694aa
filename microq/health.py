"""Liveness and readiness, for load balancers and orchestrators."""

import time

from aiohttp import web

from microq import __version__
from microq.appkeys import SCRIPTS, STARTED, SUBSCRIBER

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """200 while the process runs; it asks nothing of Redis (that is /readyz). The fields after
    "status" are TinyMQ 3's (`tmq doctor` and its dashboard read them): MicroQ has no leader
    election, every node serves every request from the shared Redis, so each one is a "leader"
    in term 0, as /api/cluster/status says too."""
    return web.json_response({
        "status": "ok", "version": __version__,
        "uptime_seconds": int(time.monotonic() - request.app.get(STARTED, time.monotonic())),
        "cluster_role": "leader", "cluster_term": 0,
    })


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 while Redis answers (on a Cluster: at least one primary; the others are listed as
    unreachable, and only their slots fail); 503 with Retry-After while none does. Scripts a
    restart or SCRIPT FLUSH lost are loaded again on the way."""
    servers = await request.app[SCRIPTS].ready()  # Unavailable (503) when no server answers
    subscriber = request.app[SUBSCRIBER].state
    return web.json_response({"status": "ready", **servers, "pubsub": subscriber.server or None})
