"""lines: waiting lines of people (seed 000). Routes in api.py and pages.py, scripts in store.py."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from aiohttp import web

from microq.appkeys import KEYSPACE, SCRIPTS, SETTINGS, SUBSCRIBER
from microq.lines import api, pages
from microq.jwt_auth import Verifier
from microq.lines.appkeys import FORWARDER, HUB, STORE, VERIFIER
from microq.lines.forward import Forwarder
from microq.lines.live import hub_ctx
from microq.lines.store import LineStore


async def _lines_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[STORE] = LineStore(app[SCRIPTS], app[KEYSPACE], settings)
    app[VERIFIER] = Verifier(settings.jwt_secret, settings.jwt_public_key, settings.jwt_jwks, settings.jwt_audience,
                             settings.jwt_issuer)
    app[FORWARDER] = forwarder = Forwarder(app, app[STORE])
    sweep = asyncio.create_task(forwarder.run(), name="lines-sweep")
    try:
        async for _ in hub_ctx(app, HUB, app[SUBSCRIBER]):
            yield
    finally:
        sweep.cancel()
        await asyncio.gather(sweep, return_exceptions=True)
        await forwarder.stop()


async def _end_streams(app: web.Application) -> None:
    """On shutdown, end open SSE streams at once so the node drains fast (browsers reconnect)."""
    if HUB in app:
        app[HUB].closing.set()


def setup(app: web.Application) -> None:
    """Add the lines routes, pages and live-update subscriber to app."""
    app.cleanup_ctx.append(_lines_ctx)
    app.on_shutdown.append(_end_streams)
    app.add_routes(api.routes)
    app.add_routes(pages.routes)
