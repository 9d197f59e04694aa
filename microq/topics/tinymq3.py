"""What TinyMQ 3's own clients need beyond seed 002: its admin API (admin.py), its streams
(sse.py, ws.py over streams.py) and its optional API key (auth.py)."""

from __future__ import annotations

from aiohttp import web

from microq.appkeys import SETTINGS
from microq.topics import admin, auth, sse, ws
from microq.topics.appkeys import STREAMS
from microq.topics.streams import StreamHub


def setup(app: web.Application) -> None:
    settings = app[SETTINGS]
    app.add_routes(admin.routes)
    app.add_routes(sse.routes)
    app.add_routes(ws.routes)
    hub = app[STREAMS] = StreamHub(settings.topics_max_streams)
    app.on_shutdown.append(lambda _app: hub.close_all())
    auth.setup(app, settings.topics_api_keys, settings.topics_dashboard_open)
