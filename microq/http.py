"""Request helpers every part uses: JSON bodies, the client's address, the public base URL."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from typing import Any, Callable

from aiohttp import web

from microq.errors import BadRequest


JSON_TYPES = ("application/json",)  #: and every application/*+json


async def read_json(request: web.Request, *, empty: Any = None) -> Any:
    """The body as JSON; BadRequest when it is not JSON. An empty body gives `empty`.
    From a browser (Origin or Sec-Fetch-* sent) the body must be labelled JSON: a form or a
    no-cors fetch can only send text/plain or form types, so this keeps such pages out even
    where the cross-site rule lets them in (a configured origin). Other clients (curl -d, SDKs)
    may send any content type, as before."""
    body = await request.read()
    if not body.strip():
        if empty is None:
            raise BadRequest("request body must be JSON")
        return empty
    if _from_browser(request) and not _labelled_json(request.content_type):
        raise web.HTTPUnsupportedMediaType(
            reason=f"a JSON body from a browser needs Content-Type: application/json, not {request.content_type[:80]}")
    try:
        return json.loads(body, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep
        raise BadRequest("request body is not valid JSON") from None


def _from_browser(request: web.Request) -> bool:
    return any(name in request.headers for name in ("Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode"))


def _labelled_json(content_type: str) -> bool:
    return content_type in JSON_TYPES or (content_type.startswith("application/") and content_type.endswith("+json"))


def _not_json(constant: str) -> None:
    # Python's json reads NaN and Infinity, which no JSON parser elsewhere accepts back
    raise ValueError(f"{constant} is not JSON")


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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """An IP from a peer or X-Forwarded-For hop, also with a port (`1.2.3.4:80`, `[::1]:80`);
    an IPv4-mapped IPv6 address becomes its IPv4 address, so one client has one form. None if not an IP."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if text.startswith("["):
            host, closed, port = text[1:].partition("]")
            if not closed or (port and not (port[:1] == ":" and port[1:].isascii() and port[1:].isdigit())):
                return None
        else:
            host, colon, port = text.partition(":")
            if not colon or not (port.isascii() and port.isdigit()):
                return None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _token(text: str, address: IPAddress | None) -> str:
    """The address's form in key names; anything that is not an IP becomes a short digest."""
    if address is not None:
        return address.compressed
    return "other:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class ClientAddress:
    """The client address of a request, as a key-name token: the peer address, or, when the
    peer is a trusted proxy (MICROQ_TRUSTED_PROXIES), the nearest X-Forwarded-For hop that
    is not a trusted proxy. Every X-Forwarded-For header line counts, in order, so a forged
    line sent before the one the proxy adds cannot stand in for the client."""

    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        # Settings has checked every entry, so a bad one cannot get here
        self._networks = [ipaddress.ip_network(proxy.strip(), strict=False) for proxy in trusted_proxies]
        # peers repeat (a proxy, keep-alive clients): parse and look each up once
        self._peer: Callable[[str], tuple[str, bool]] = functools.lru_cache(maxsize=4096)(self._classify)

    def _trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self._networks)

    def _classify(self, text: str) -> tuple[str, bool]:
        address = parse_address(text)
        return _token(text, address), self._trusted(address)

    def via_trusted_proxy(self, request: web.Request) -> bool:
        return self._peer(request.remote or "unknown")[1]

    def __call__(self, request: web.Request) -> str:
        token, trusted = self._peer(request.remote or "unknown")
        if not trusted:
            return token
        hops = [hop.strip() for line in request.headers.getall("X-Forwarded-For", ()) for hop in line.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):  # walk back past our own proxies to the first address we did not add
            hop_token, hop_trusted = self._peer(hop)
            if not hop_trusted:
                return hop_token
        return self._peer(hops[0])[0] if hops else token


def public_base_url(request: web.Request, public_url: str, client_address: ClientAddress) -> str:
    """MICROQ_PUBLIC_URL, else scheme and host of the request (forwarded ones only via a trusted proxy)."""
    if public_url:
        return public_url
    scheme, host = request.scheme, request.host
    if client_address.via_trusted_proxy(request):
        # the last value: a proxy that appends instead of overwriting leaves the client's own first
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[-1].strip() or scheme
        host = request.headers.get("X-Forwarded-Host", host).split(",")[-1].strip() or host
    return f"{scheme}://{host}"
