"""Request helpers every part uses: JSON bodies, the client's address, the public base URL."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from aiohttp import web

from microq.errors import BadRequest


async def read_json(request: web.Request, *, empty: Any = None) -> Any:
    """The body as JSON; BadRequest when it is not JSON. An empty body gives `empty`."""
    body = await request.read()
    if not body.strip():
        if empty is None:
            raise BadRequest("request body must be JSON")
        return empty
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        raise BadRequest("request body is not valid JSON") from None


async def read_object(request: web.Request, *, empty_ok: bool = True) -> dict[str, Any]:
    """The body as a JSON object (an empty body is {} when empty_ok)."""
    data = await read_json(request, empty={} if empty_ok else None)
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def string_field(data: dict[str, Any], field: str, *, required: bool) -> str | None:
    """data[field] as a string; None when absent or null and not required; BadRequest otherwise."""
    value = data.get(field)
    if value is None:
        if required:
            raise BadRequest(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string")
    return value


def _trusted(peer: str | None, proxies: tuple[str, ...]) -> bool:
    if not peer or not proxies:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if address in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str:
    """The peer address, or the nearest untrusted X-Forwarded-For hop when the peer is a trusted proxy."""
    peer = request.remote or "unknown"
    if not _trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):  # walk back past our own proxies to the first address we did not add
        if not _trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def public_base_url(request: web.Request, public_url: str, trusted_proxies: tuple[str, ...]) -> str:
    """MICROQ_PUBLIC_URL, else scheme and host of the request (forwarded ones only via a trusted proxy)."""
    if public_url:
        return public_url
    scheme, host = request.scheme, request.host
    if _trusted(request.remote, trusted_proxies):
        # the last value: a proxy that appends instead of overwriting leaves the client's own first
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[-1].strip() or scheme
        host = request.headers.get("X-Forwarded-Host", host).split(",")[-1].strip() or host
    return f"{scheme}://{host}"
