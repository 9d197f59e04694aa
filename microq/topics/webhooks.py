"""Webhook URLs and their delivery: each claimed delivery is POSTed by exactly one node.

Deliveries wait in a per-topic zset (see topics_hookclaim); a node leases a few, POSTs
them, and reports each outcome (topics_hookdone), which retries with exponential backoff
and finally copies the message to the dead-letter topic. A node that dies mid-POST loses
its lease and another node delivers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import time
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from yarl import URL

from microq.errors import BadRequest
from microq.settings import Settings
from microq.topics.store import HookDelivery, TopicStore

log = logging.getLogger(__name__)

POLL = 0.25  #: seconds between looks for due retries when no publish wakes the loop
CLAIM = 32  #: deliveries claimed per topic per look
LEASE_MS = 60_000  #: longer than POST_TIMEOUT, so a slow POST is never delivered twice
POST_TIMEOUT = 10.0
BACKOFF_MS = 500  #: first retry delay; doubles per attempt


_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")  #: as sent on the wire (IDNA), not %-escaped


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _public(host: str) -> bool:
    host = host.split("%")[0]
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    try:  # the shorthand IPv4 forms connect() also takes (127.1, 2130706433, 0177.0.0.1, 0x7f.1):
        # aiohttp sends the all-digit ones straight to connect(), past PublicResolver
        return ipaddress.IPv4Address(socket.inet_aton(host)).is_global
    except OSError:
        return True  # a name: checked when it resolves


def check_webhook_url(url: Any, allow_private: bool) -> str:
    if not isinstance(url, str) or not url.strip():
        raise BadRequest("missing url")
    url = url.strip()
    if len(url) > 2048:
        raise BadRequest("invalid url: at most 2048 characters")
    # spaces, control characters and lone surrogates: never a URL anyone can POST to (and a
    # surrogate cannot even be hashed into the webhook id)
    if any(c.isspace() or not c.isprintable() for c in url):
        raise BadRequest("invalid url: spaces and control characters are not allowed")
    try:
        parsed = URL(url)
        host = parsed.host  # decoding an IDNA name (xn--) may fail here, not when parsing
        port = parsed.port
    except (ValueError, TypeError):
        raise BadRequest("invalid url") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise BadRequest("invalid url: expected an absolute http:// or https:// URL")
    if not port or not (_HOSTNAME.fullmatch(parsed.raw_host or "") or _is_ip(host)):
        raise BadRequest("invalid url: expected a host name or IP address and a port from 1 to 65535")
    host = host.lower()
    if not allow_private and (host == "localhost" or host.endswith(".localhost") or not _public(host)):
        raise BadRequest("invalid url: loopback and private addresses are refused "
                         "(set MICROQ_WEBHOOK_ALLOW_PRIVATE=1 to allow them)")
    return url


class PublicResolver(AbstractResolver):
    """Resolves names and refuses any that lead to a loopback or private address (DNS rebinding)."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        found = await self._resolver.resolve(host, port, family)
        if any(not _public(entry["host"]) for entry in found):
            raise OSError(f"{host} resolves to a private address")
        return found

    async def close(self) -> None:
        await self._resolver.close()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(self, store: TopicStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.wakeup = asyncio.Event()

    def poke(self, topic: str) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        resolver = None if self.settings.webhook_allow_private else PublicResolver()
        connector = aiohttp.TCPConnector(limit=64, resolver=resolver)
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            while True:
                try:
                    await asyncio.wait_for(self.wakeup.wait(), POLL)
                except asyncio.TimeoutError:
                    pass
                self.wakeup.clear()
                try:
                    topics = await self.store.hooked_topics()
                    await asyncio.gather(*(self._drain(session, topic) for topic in topics))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - Redis away: the next round retries
                    log.warning("webhook dispatch failed: %s", exc)
                    await asyncio.sleep(1.0)

    async def _drain(self, session: aiohttp.ClientSession, topic: str) -> None:
        while True:
            deliveries = await self.store.claim_deliveries(topic, CLAIM, LEASE_MS)
            await asyncio.gather(*(self._deliver(session, topic, d) for d in deliveries))
            if len(deliveries) < CLAIM:
                return

    async def _deliver(self, session: aiohttp.ClientSession, topic: str, delivery: HookDelivery) -> None:
        outcome = await self._post(session, delivery)
        result = await self.store.finish_delivery(topic, delivery.member, outcome, BACKOFF_MS)
        if result == "dead_lettered":
            log.warning("webhook %s gave up on message %s of %s", delivery.url, delivery.message.id, topic)

    async def _post(self, session: aiohttp.ClientSession, delivery: HookDelivery) -> str:
        """"ok", "retry" or "fail" (never worth retrying)."""
        message = delivery.message
        host = URL(delivery.url).host or ""
        if not self.settings.webhook_allow_private and not _public(host):
            return "fail"
        timestamp = str(int(time.time()))
        headers = {"Content-Type": message.content_type or "application/octet-stream",
                   "X-MicroQ-Message-Id": message.id, "X-MicroQ-Topic": message.topic,
                   "X-MicroQ-Attempt": str(delivery.attempts + 1), "X-MicroQ-Timestamp": timestamp,
                   "User-Agent": "MicroQ-Webhook/1"}
        if self.settings.webhook_secret:
            headers["X-MicroQ-Signature"] = signature(self.settings.webhook_secret, timestamp, message.payload)
        try:
            async with session.post(delivery.url, data=message.payload, headers=headers,
                                    allow_redirects=False) as response:
                await response.read()
                return "ok" if 200 <= response.status < 300 else "retry"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.info("webhook POST to %s failed: %s", delivery.url, exc)
            return "retry"
        except ValueError as exc:  # aiohttp refuses the request itself (a CR or LF in a stored header
            # value, from before ids and content types were checked): it never will, so give up now
            # rather than leave the claim to lapse and fail again every LEASE_MS, forever
            log.warning("webhook POST to %s refused: %s", delivery.url, exc)
            return "fail"
