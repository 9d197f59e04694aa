"""Liveness and readiness, for load balancers and orchestrators."""

from aiohttp import web

from microq.appkeys import REDIS, SCRIPTS
from microq.errors import Unavailable

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    redis, scripts = request.app[REDIS], request.app[SCRIPTS]
    try:
        await redis.ping()
        shas = [s.sha for s in scripts.by_name.values()]
        if not all(await redis.script_exists(*shas)):  # a restarted or flushed Redis: load them again
            await scripts.preload()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not ready", never a 500
        raise Unavailable(f"not ready: {type(exc).__name__}: {exc}") from None
    return web.json_response({"status": "ready"})
