"""`GET /`: a page linking everything a person can open on a node, and the version."""

from __future__ import annotations

import html
from importlib import resources
from string import Template

from aiohttp import web

from microq import __version__
from microq.appkeys import SETTINGS

routes = web.RouteTableDef()

_PAGE = Template((resources.files("microq") / "web" / "templates" / "index.html").read_text(encoding="utf-8"))


def page_paths(tenant: str, queue: str) -> list[tuple[str, str]]:
    """(path, what it is) of every page; the lines pages of the default tenant and queue."""
    line = f"/queue/{tenant}/{queue}"
    return [
        (line, f"Lines: public page of {tenant}/{queue}"),
        (f"{line}/kiosk", "Lines: kiosk view"),
        (f"{line}/admin", "Lines: admin panel"),
        ("/work", "Work: console"),
        ("/dashboard", "Topics: dashboard"),
        ("/docs", "API documentation (OpenAPI, interactive)"),
        ("/openapi.json", "OpenAPI 3.1 document"),
        ("/metrics", "Prometheus metrics"),
        ("/healthz", "Health (liveness)"),
        ("/readyz", "Readiness (Redis and scripts)"),
    ]


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    items = "\n".join(f'        <li><a href="{html.escape(path)}">{html.escape(path)}</a> <span>{html.escape(what)}</span></li>'
                      for path, what in page_paths(settings.default_tenant_id, settings.default_queue_id))
    body = _PAGE.substitute(version=html.escape(__version__), links=items)
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-cache"})
