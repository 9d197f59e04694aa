"""The lines part's typed keys on the aiohttp app."""

from aiohttp import web

from microq.lines.live import LiveHub
from microq.lines.store import LineStore

STORE = web.AppKey("lines_store", LineStore)
HUB = web.AppKey("lines_hub", LiveHub)
