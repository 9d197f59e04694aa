"""create_app(): one aiohttp application serving lines, work and topics."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp_cors
from aiohttp import web

from microq import access_log, doctor, health, index, lines, metrics, openapi, topics, work
from microq.appkeys import CLIENT_ADDRESS, SETTINGS, STARTED
from microq.browser import page_headers, refuse_cross_site
from microq.connections import Limits, body_deadline
from microq.http import ClientAddress
from microq.lines.metrics import read_state as lines_state
from microq.middleware import error_middleware
from microq.redis_client import redis_ctx
from microq.security.metrics import read_state as security_state
from microq.settings import Settings
from microq.topics.metrics import read_state as topics_state
from microq.work.metrics import read_state as work_state


STATIC = Path(__file__).resolve().parent / "web" / "static"  #: every part's page scripts and styles


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    # outermost first: request ids and metrics see every answer; errors become JSON; cross-site
    # writes are refused before their body is read
    middlewares = [access_log.access_middleware, metrics.metrics_middleware, error_middleware, refuse_cross_site,
                   body_deadline(Limits.from_settings(settings))]
    app = web.Application(middlewares=middlewares, client_max_size=settings.topic_max_payload_bytes)
    app[SETTINGS] = settings
    app[STARTED] = time.monotonic()
    app[CLIENT_ADDRESS] = ClientAddress(settings.trusted_proxies)
    app.cleanup_ctx.append(redis_ctx)
    app.cleanup_ctx.append(doctor.startup_ctx)
    app.cleanup_ctx.append(metrics.metrics_ctx)
    app.on_response_prepare.append(access_log.echo_request_id)
    app.add_routes(health.routes)
    app.add_routes(index.routes)
    app.add_routes(metrics.routes)
    openapi.setup(app)
    app.router.add_static("/static/", STATIC)
    # fixed paths (/api/queue, /api/topics, ...) before the lines API's /api/{tenant_id}/... patterns
    work.setup(app)
    topics.setup(app)
    lines.setup(app)
    for read_state in (lines_state, topics_state, work_state, security_state):  # each part's gauges, read at scrape time
        metrics.add_state_reader(app, read_state)
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
