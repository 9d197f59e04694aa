"""The lines part's typed keys on the aiohttp app."""

from aiohttp import web

from microq.jwt_auth import Verifier
from microq.lines.forward import Forwarder
from microq.lines.live import LiveHub
from microq.lines.store import LineStore

STORE = web.AppKey("lines_store", LineStore)
HUB = web.AppKey("lines_hub", LiveHub)
VERIFIER = web.AppKey("lines_jwt", Verifier)  #: bearer JWTs for admin calls (microq/jwt_auth.py)
FORWARDER = web.AppKey("lines_forwarder", Forwarder)  #: events to topics, the lines sweep
