"""GET /dashboard: the operator's page (plain HTML and JS reading the JSON API)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

routes = web.RouteTableDef()

WEB = Path(__file__).resolve().parent.parent / "web"


@routes.get("/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    page = (WEB / "templates" / "topics_dashboard.html").read_text()
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})
