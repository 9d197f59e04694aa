"""Brute-force protection: the address a ban applies to, and the policy's script arguments.

The counting and the ban itself happen in security_admit, atomically with the key check,
so two nodes seeing failures at once still ban at exactly the threshold.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from typing import Callable

from aiohttp import web

from microq.settings import Settings

log = logging.getLogger(__name__)

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
        self._networks = []
        for proxy in trusted_proxies:
            try:
                self._networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
            except ValueError:
                log.warning("MICROQ_TRUSTED_PROXIES: %r is not an address or network; ignored", proxy)
        # peers repeat (a proxy, keep-alive clients): parse and look each up once
        self._peer: Callable[[str], tuple[str, bool]] = functools.lru_cache(maxsize=4096)(self._classify)

    def _trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self._networks)

    def _classify(self, text: str) -> tuple[str, bool]:
        address = parse_address(text)
        return _token(text, address), self._trusted(address)

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


@dataclass(frozen=True)
class BanPolicy:
    threshold: int  #: failed attempts within the window that ban the address
    window_ms: int
    duration_ms: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BanPolicy:
        # at least 1 ms: Redis refuses PX 0 (a failure would be a 500) and PEXPIRE 0 deletes the count at once
        return cls(settings.ban_threshold, max(1, round(settings.ban_window * 1000)),
                   max(1, round(settings.ban_duration * 1000)))
