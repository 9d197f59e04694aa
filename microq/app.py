"""create_app(): one aiohttp application serving lines, work and topics."""

from __future__ import annotations

from pathlib import Path

import aiohttp_cors
from aiohttp import web

from microq import health, lines, topics, work
from microq.appkeys import CLIENT_ADDRESS, SETTINGS
from microq.browser import page_headers, refuse_cross_site
from microq.connections import Limits, body_deadline
from microq.http import ClientAddress
from microq.middleware import error_middleware
from microq.redis_client import redis_ctx
from microq.settings import Settings


STATIC = Path(__file__).resolve().parent / "web" / "static"  #: every part's page scripts and styles


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    # outermost first: errors become JSON; cross-site writes are refused before their body is read
    middlewares = [error_middleware, refuse_cross_site, body_deadline(Limits.from_settings(settings))]
    app = web.Application(middlewares=middlewares, client_max_size=settings.topic_max_payload_bytes)
    app[SETTINGS] = settings
    app[CLIENT_ADDRESS] = ClientAddress(settings.trusted_proxies)
    app.cleanup_ctx.append(redis_ctx)
    app.add_routes(health.routes)
    app.router.add_static("/static/", STATIC)
    # fixed paths (/api/queue, /api/topics, ...) before the lines API's /api/{tenant_id}/... patterns
    work.setup(app)
    topics.setup(app)
    lines.setup(app)
    _allow_origins(app, settings.cors_origins)
    app.on_response_prepare.append(page_headers)
    return app


def _allow_origins(app: web.Application, origins: tuple[str, ...]) -> None:
    """Browser clients on other origins (kiosk apps, widgets), as configured."""
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(allow_headers="*", expose_headers="*", allow_methods="*")
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in origins})
    for route in list(app.router.routes()):
        cors.add(route)
