"""GET /dashboard: the operator's page (plain HTML and JS reading the JSON API)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from microq.errors import NotFound

routes = web.RouteTableDef()

WEB = Path(__file__).resolve().parent.parent / "web"
_ASSETS = {"topics_dashboard.js": "application/javascript", "topics_dashboard.css": "text/css"}


@routes.get("/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    page = (WEB / "templates" / "topics_dashboard.html").read_text()
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


@routes.get("/dashboard/assets/{name}")
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise NotFound("not found")
    return web.Response(text=(WEB / "static" / name).read_text(), content_type=_ASSETS[name],
                        headers={"Cache-Control": "no-cache"})
