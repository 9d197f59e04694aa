"""Server-rendered pages: the public page, the kiosk view and the admin panel.

The server fills in only the line's ids and name (escaped); everything else comes from the
JSON API and its event streams in a few plain scripts, so there is no build step.
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template

from aiohttp import web

from microq.appkeys import SETTINGS
from microq.lines import names
from microq.lines.appkeys import STORE

routes = web.RouteTableDef()

_WEB = resources.files("microq") / "web"
_PAGES = ("public", "kiosk", "admin")


def _template(page: str) -> Template:
    return Template((_WEB / "templates" / f"lines_{page}.html").read_text(encoding="utf-8"))


_TEMPLATES = {page: _template(page) for page in _PAGES}


async def _render(request: web.Request, page: str) -> web.Response:
    tenant = names.tenant_id(request.match_info["tenant_id"])
    queue = names.queue_id(request.match_info["queue_id"])
    config = await request.app[STORE].get_queue(tenant, queue)
    title = config.name if config else queue
    # whether public screens show names beside tickets: read when the page loads
    show_names = "1" if config and config.show_names else "0"
    body = _TEMPLATES[page].substitute(tenant=tenant, queue=queue, title=html.escape(title), show_names=show_names)
    return web.Response(text=body, content_type="text/html", headers={
        "Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"})


@routes.get("/queue")
async def default_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    raise web.HTTPFound(f"/queue/{settings.default_tenant_id}/{settings.default_queue_id}")


@routes.get("/queue/{tenant_id}/{queue_id}")
async def public_page(request: web.Request) -> web.Response:
    return await _render(request, "public")


@routes.get("/queue/{tenant_id}/{queue_id}/kiosk")
async def kiosk_page(request: web.Request) -> web.Response:
    return await _render(request, "kiosk")


@routes.get("/queue/{tenant_id}/{queue_id}/admin")
async def admin_page(request: web.Request) -> web.Response:
    return await _render(request, "admin")
