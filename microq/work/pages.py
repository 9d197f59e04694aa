"""The work console (/work): a static page whose script calls the work API with the key the
user types in. The key stays in that browser tab (sessionStorage); the page itself is public
because it holds nothing."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from microq.errors import NotFound

routes = web.RouteTableDef()

_WEB = resources.files("microq") / "web"
_TYPES = {".js": "text/javascript", ".css": "text/css"}
_HEADERS = {"Cache-Control": "no-cache", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'"}


@routes.get("/work")
async def console(request: web.Request) -> web.Response:
    body = (_WEB / "templates" / "work_console.html").read_text(encoding="utf-8")
    return web.Response(text=body, content_type="text/html", headers=_HEADERS)


@routes.get(r"/static/{name:work_[a-z_]+\.(js|css)}")
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    path = _WEB / "static" / name
    if not path.is_file():
        raise NotFound("not found")
    return web.Response(body=path.read_bytes(), content_type=_TYPES[name[name.rindex("."):]],
                        headers={"Cache-Control": "public, max-age=300"})
