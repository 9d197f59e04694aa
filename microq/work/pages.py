"""The work console (/work): a static page whose script calls the work API with the key the
user types in. The key stays in that browser tab (sessionStorage); the page itself is public
because it holds nothing."""

from __future__ import annotations

from importlib import resources

from aiohttp import web


routes = web.RouteTableDef()

_WEB = resources.files("microq") / "web"
_HEADERS = {"Cache-Control": "no-cache", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'"}


@routes.get("/work")
async def console(request: web.Request) -> web.Response:
    body = (_WEB / "templates" / "work_console.html").read_text(encoding="utf-8")
    return web.Response(text=body, content_type="text/html", headers=_HEADERS)
