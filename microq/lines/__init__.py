"""lines: waiting lines of people (seed 000). Routes in api.py and pages.py, scripts in store.py."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from microq.appkeys import KEYSPACE, SCRIPTS, SETTINGS, SUBSCRIBER
from microq.lines import api, pages
from microq.lines.appkeys import HUB, STORE
from microq.lines.live import hub_ctx
from microq.lines.store import LineStore


async def _lines_ctx(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = LineStore(app[SCRIPTS], app[KEYSPACE], app[SETTINGS])
    async for _ in hub_ctx(app, HUB, app[SUBSCRIBER]):
        yield


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
