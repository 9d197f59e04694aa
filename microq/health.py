"""Liveness and readiness, for load balancers and orchestrators."""

from aiohttp import web

from microq.appkeys import SCRIPTS, SUBSCRIBER

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 while Redis answers (on a Cluster: at least one primary; the others are listed as
    unreachable, and only their slots fail); 503 with Retry-After while none does. Scripts a
    restart or SCRIPT FLUSH lost are loaded again on the way."""
    servers = await request.app[SCRIPTS].ready()  # Unavailable (503) when no server answers
    subscriber = request.app[SUBSCRIBER].state
    return web.json_response({"status": "ready", **servers, "pubsub": subscriber.server or None})
