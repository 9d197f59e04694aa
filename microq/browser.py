"""What browsers need from every answer: refusing cross-site writes, and the page headers.

Cross-site writes. A page on another origin can make a browser send a POST without asking
(a form, or `fetch(..., {mode: "no-cors"})` with a text/plain body): no preflight, the
request arrives, only the answer is hidden. So every state-changing request (any method but
GET, HEAD and OPTIONS) that a browser marks as coming from elsewhere is refused with 403
before it reaches a handler. The rule is Go's `net/http.CrossOriginProtection`:
  1. `Sec-Fetch-Site` present (every current browser): allowed when `same-origin` or `none`
     (typed in, bookmark); otherwise allowed only when `Origin` is in MICROQ_CORS_ORIGINS.
  2. No `Sec-Fetch-Site` and no `Origin`: not a browser (curl, SDKs, servers): allowed.
  3. `Origin` only (older browsers): allowed when its host is the request's own host (or the
     host of MICROQ_PUBLIC_URL / a trusted proxy's X-Forwarded-Host), or it is configured.
It applies to every route, the authenticated ones too (they need a custom header, which a
cross-site page cannot send without a preflight the CORS setup refuses, but one blanket rule
is simpler to trust than a list).

Page headers. Every HTML answer gets a Content-Security-Policy (a page's own is kept, and
given `frame-ancestors` when it lacks one), X-Frame-Options, Referrer-Policy; every answer gets
`X-Content-Type-Options: nosniff`, and, when MICROQ_CORS_ORIGINS is set, `Vary: Origin` (an
answer differs by Origin, so a cache must not hand one origin's answer to another).
"""

from __future__ import annotations

from typing import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from microq.appkeys import CLIENT_ADDRESS, SETTINGS
from microq.errors import Forbidden
from microq.http import public_base_url

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _host(origin: str) -> str:
    try:
        return (urlsplit(origin).netloc or "").lower()
    except ValueError:
        return ""


def cross_site(request: web.Request) -> str | None:
    """Why a state-changing request is refused as cross-site, or None when it is not."""
    origin = request.headers.get("Origin")
    settings = request.app[SETTINGS]
    if origin is not None and origin in settings.cors_origins:
        return None
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.lower() in ("same-origin", "none"):
            return None
        return f"cross-site request refused (Sec-Fetch-Site: {site[:40]})"
    if origin is None:
        return None
    own = {request.host.lower(),
           _host(public_base_url(request, settings.public_url, request.app[CLIENT_ADDRESS]))}
    if _host(origin) in own - {""}:
        return None
    return f"cross-site request refused (Origin {origin[:100]} is not this server's; see MICROQ_CORS_ORIGINS)"


@web.middleware
async def refuse_cross_site(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS:
        reason = cross_site(request)
        if reason is not None:
            raise Forbidden(reason)
    return await handler(request)


async def page_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the headers above, added where a part did not set its own."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.app[SETTINGS].cors_origins:
        vary = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
        if not any(v.lower() == "origin" or v == "*" for v in vary):
            headers["Vary"] = ", ".join([*vary, "Origin"])
    if response.content_type != "text/html":
        return
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    csp = headers.get("Content-Security-Policy")
    if csp is None:
        headers["Content-Security-Policy"] = PAGE_CSP
    elif "frame-ancestors" not in csp:
        ancestors = "'self'" if headers["X-Frame-Options"].upper() == "SAMEORIGIN" else "'none'"
        headers["Content-Security-Policy"] = f"{csp.rstrip('; ')}; frame-ancestors {ancestors}"
