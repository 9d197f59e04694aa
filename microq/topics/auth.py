"""The topics API's optional key (TinyMQ 3's TINYMQ_API_KEY), off unless MICROQ_TOPICS_API_KEYS is set.

A request to any topics handler shows the key the three ways TinyMQ 3 accepts it:
`Authorization: Bearer <key>` (its SDK and `tmq`), HTTP Basic with the key as password (its
dashboard; the user name is ignored) or `?token=<key>` (its WebSocket client, which cannot set
headers). The keys are kept only as digests (microq/key_digests.py, as the work API's).
Handlers of other parts, /healthz, /readyz and /static are never asked; /dashboard only when
MICROQ_TOPICS_DASHBOARD_OPEN is false.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from microq.errors import Unauthorized
from microq.key_digests import EnvKeys, digest
from microq.middleware import Handler

_TOPICS = "microq.topics."
_DASHBOARD = "microq.topics.dashboard"
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="MicroQ topics"'}
_KEY_MAX = 512  #: longer candidates are not hashed: no key is that long


def setup(app: web.Application, keys: tuple[str, ...], dashboard_open: bool) -> None:
    """Ask for a key in front of the topics handlers; nothing at all when no key is configured."""
    if keys:
        app.middlewares.append(_middleware(EnvKeys(keys), dashboard_open))


def presented_keys(request: web.Request) -> list[str]:
    """The candidate keys a request carries, in TinyMQ 3's order: Bearer, Basic password, ?token=."""
    found = []
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        found.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8", "surrogateescape")
        except (binascii.Error, ValueError):
            decoded = ""
        found.append(decoded.partition(":")[2])
    token = request.query.get("token")
    if token:
        found.append(token)
    return [key for key in found if 0 < len(key) <= _KEY_MAX]


def _middleware(keys: EnvKeys, dashboard_open: bool):
    @web.middleware
    async def topics_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        module = getattr(request.match_info.handler, "__module__", "") or ""
        guarded = module.startswith(_TOPICS) and not (dashboard_open and module == _DASHBOARD)
        if guarded and not any(keys.matches(digest(key)) for key in presented_keys(request)):
            raise Unauthorized("unauthorized: this topics API needs its key (Authorization: Bearer <key>)",
                               headers=dict(_CHALLENGE))
        return await handler(request)

    return topics_key
