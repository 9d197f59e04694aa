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
from typing import Any, Callable, Sequence

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from yarl import URL

from microq.errors import BadRequest
from microq.settings import Settings
from microq.topics.store import HookDelivery, TopicStore

log = logging.getLogger(__name__)

CLAIM = 32  #: deliveries claimed per topic per look
LEASE_MS = 60_000  #: longer than POST_TIMEOUT, so a slow POST is never delivered twice
POST_TIMEOUT = 10.0  #: seconds a POST may take in all (connect, send, answer)
CONNECT_TIMEOUT = 5.0
BACKOFF_MS = 500  #: first retry delay; doubles per attempt
OUTBOUND = 64  #: POSTs in flight per node
TARGET_CONCURRENCY = 4  #: POSTs in flight per target (scheme, host, port) per node; as many more may wait
BREAKER_FAILURES = 5  #: failures in a row that open a target's circuit
BREAKER_COOLDOWN = 30.0  #: seconds an open circuit waits before one probe
LATER_MS = 1000  #: a delivery whose target is busy or open goes back for this long (no attempt counted)


_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")  #: as sent on the wire (IDNA), not %-escaped


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  #: well-known NAT64 prefix: the last 32 bits are an IPv4 address
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  #: local-use NAT64 (RFC 8215): never global
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  #: deprecated, but routers may still honour it


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast, looking inside every IPv6 form that carries an IPv4 address.

    Python's is_global calls 64:ff9b::7f00:1 (NAT64 of 127.0.0.1), 2002:7f00:1:: (6to4) and
    ::127.0.0.1 (IPv4-compatible) global, and a webhook there reaches this host's loopback.
    """
    if address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:0:0/96
            return address_is_public(address.ipv4_mapped)
        if address in _NAT64_LOCAL or address in _SITE_LOCAL or address.teredo is not None:
            return False  # Teredo 2001::/32 tunnels to an IPv4 host this check cannot vouch for
        if int(address) >> 32 == 0:  # ::/96, IPv4-compatible (deprecated), and :: and ::1 with it
            return False
        if address in _NAT64:
            return address_is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:  # 2002::/16
            return address_is_public(address.sixtofour)
    return address.is_global


def _public(host: str) -> bool:
    host = host.split("%")[0].strip("[]")
    try:
        return address_is_public(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:  # the shorthand IPv4 forms connect() also takes (127.1, 2130706433, 0177.0.0.1, 0x7f.1):
        # aiohttp sends the all-digit ones straight to connect(), past PublicResolver
        return address_is_public(ipaddress.IPv4Address(socket.inet_aton(host)))
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


MAX_SECRET_BYTES = 1024  #: a webhook's secret, in UTF-8


def check_webhook_secret(secret: Any) -> str:
    """A registration's `secret` (TinyMQ 3's field): absent, null or "" is none."""
    if secret is None or secret == "":
        return ""
    if not isinstance(secret, str):
        raise BadRequest("secret must be a string")
    try:
        size = len(secret.encode())
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: no bytes to key an HMAC with
        raise BadRequest("invalid secret: not valid Unicode text") from None
    if size > MAX_SECRET_BYTES:
        raise BadRequest(f"invalid secret: at most {MAX_SECRET_BYTES} bytes")
    return secret


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """MicroQ's X-MicroQ-Signature: the timestamp is signed too, so a receiver can refuse replays."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def tinymq_signature(secret: str, body: bytes) -> str:
    """TinyMQ 3's X-TinyMQ-Signature (internal/broker/broker.go): "sha256=" and the lower-case hex
    HMAC-SHA256 of the POST body alone, keyed with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- delivery state for /metrics (microq/topics/metrics.py calls these at scrape time) ----------

FAILING_FIELD = "|failing"  #: hookatt's count of failing deliveries (scripts/lua/includes/topics_hook_failing.lua)
DELIVERY_STATE = ("webhook_pending", "webhook_failing")  #: what delivery_state_commands reads, in order


def delivery_state_commands(key: Callable[[str], str]) -> list[tuple[str, ...]]:
    """The commands that read one topic's webhook deliveries, pipelined with the other counts of a
    scrape: `key` builds the topic's keys (Keyspace.entity("t", topic)). O(1) each: pending is
    every delivery queued or being POSTed (hookq), failing those of them whose last attempt failed."""
    return [("ZCARD", key("hookq")), ("HGET", key("hookatt"), FAILING_FIELD)]


def delivery_state(replies: Sequence[Any]) -> list[int]:
    """delivery_state_commands' replies as numbers, in DELIVERY_STATE order (0 for none, or an error)."""
    return [_count(reply) for reply in replies]


def _count(reply: Any) -> int:
    if isinstance(reply, bytes):
        reply = reply.decode("ascii", "replace")
    if isinstance(reply, str):
        return int(reply) if reply.isdigit() else 0
    return reply if isinstance(reply, int) else 0


class Circuit:
    """One target's circuit breaker and concurrency limit: open after BREAKER_FAILURES failures in
    a row, one probe after BREAKER_COOLDOWN, closed again by a success (node-local: each node
    judges for itself). At most TARGET_CONCURRENCY POSTs at once, and as many more waiting."""

    __slots__ = ("failures", "opened_at", "probing", "admitted", "slots")

    def __init__(self) -> None:
        self.failures = 0
        self.opened_at = 0.0  #: monotonic time it opened; 0: closed
        self.probing = False  #: half-open: the one probe is in flight
        self.admitted = 0  #: deliveries posting or waiting for a slot
        self.slots = asyncio.Semaphore(TARGET_CONCURRENCY)

    @property
    def state(self) -> str:
        if not self.opened_at:
            return "closed"
        return "half_open" if self.probing or time.monotonic() - self.opened_at >= BREAKER_COOLDOWN else "open"

    def admit(self) -> bool:
        """May a delivery to this target go ahead now (to post, or to wait for one of its slots)?"""
        if self.admitted >= 2 * TARGET_CONCURRENCY:
            return False
        if self.opened_at:
            if self.probing or time.monotonic() - self.opened_at < BREAKER_COOLDOWN:
                return False
            self.probing = True
        self.admitted += 1
        return True

    def done(self, ok: bool | None) -> None:
        """ok None: it never posted (cancelled)."""
        self.admitted -= 1
        self.probing = False
        if ok is None:
            return
        if ok:
            self.failures, self.opened_at = 0, 0.0
            return
        self.failures += 1
        if self.opened_at or self.failures >= BREAKER_FAILURES:
            self.opened_at = time.monotonic()  # opens, or a failed probe keeps it open for another cool-down


def target_of(url: str) -> str:
    """What a circuit and a concurrency limit belong to: scheme, host and port."""
    parsed = URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


class WebhookDispatcher:
    """Delivers the topics it is poked about (a publish on any node, or the index of due work).

    Bounded: at most OUTBOUND POSTs in flight per node, claimed at most CLAIM at a time, so a
    batch publish on a topic with 100 webhooks waits in Redis, not in this node's memory; at most
    TARGET_CONCURRENCY per target (and as many waiting), and a delivery whose target is that busy
    or whose circuit is open goes back to Redis for LATER_MS without counting an attempt, so a slow
    or dead target holds back only its own deliveries.
    """

    def __init__(self, store: TopicStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.wakeup = asyncio.Event()
        self.pending: set[str] = set()  #: topics poked since the last look
        self.circuits: dict[str, Circuit] = {}
        self._draining: dict[str, asyncio.Task] = {}
        self._in_flight = 0
        self._slot_free = asyncio.Event()
        self._posts: set[asyncio.Task] = set()

    def poke(self, topic: str) -> None:
        self.pending.add(topic)
        self.wakeup.set()

    def circuit(self, target: str) -> Circuit:
        found = self.circuits.get(target)
        if found is None:
            if len(self.circuits) >= 10000:  # forget closed, idle ones first
                for key in [k for k, c in self.circuits.items() if c.state == "closed" and not c.admitted]:
                    del self.circuits[key]
            found = self.circuits[target] = Circuit()
        return found

    def report(self) -> list[dict[str, Any]]:
        """Targets whose circuit is not closed, or that failed lately (for /api/stats)."""
        return [{"target": t, "state": c.state, "failures": c.failures}
                for t, c in sorted(self.circuits.items()) if c.failures or c.opened_at]

    async def run(self) -> None:
        resolver = None if self.settings.webhook_allow_private else PublicResolver()
        connector = aiohttp.TCPConnector(limit=OUTBOUND, resolver=resolver)
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT, connect=CONNECT_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            try:
                while True:
                    await self.wakeup.wait()
                    self.wakeup.clear()
                    topics, self.pending = self.pending, set()
                    for topic in topics:
                        if topic not in self._draining:
                            task = asyncio.create_task(self._drain(session, topic))
                            self._draining[topic] = task
                            task.add_done_callback(lambda _, t=topic: self._draining.pop(t, None))
                        else:
                            self.pending.add(topic)  # look again once the running drain ends
            finally:
                for task in (*self._draining.values(), *self._posts):
                    task.cancel()

    async def _drain(self, session: aiohttp.ClientSession, topic: str) -> None:
        try:
            while True:
                while self._in_flight >= OUTBOUND:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                wanted = min(CLAIM, OUTBOUND - self._in_flight)
                deliveries = await self.store.claim_deliveries(topic, wanted, LEASE_MS)
                sent = 0
                for delivery in deliveries:
                    circuit = self.circuit(target_of(delivery.url))
                    if circuit.admit():
                        sent += 1
                        self._in_flight += 1
                        post = asyncio.create_task(self._deliver(session, topic, delivery, circuit))
                        self._posts.add(post)
                        post.add_done_callback(self._posts.discard)
                    else:
                        await self.store.finish_delivery(topic, delivery.member, "later", LATER_MS)
                if len(deliveries) < wanted or not sent:
                    return  # nothing more due, or only deliveries for targets that must wait
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis away: the index of due work pokes again
            log.warning("webhook dispatch for %s failed: %s", topic, exc)
        finally:
            if topic in self.pending:
                self.wakeup.set()

    async def _deliver(self, session: aiohttp.ClientSession, topic: str, delivery: HookDelivery,
                       circuit: Circuit) -> None:
        ok = None
        try:
            async with circuit.slots:
                if circuit.opened_at and not circuit.probing:  # it opened while this one waited
                    outcome = "later"
                else:
                    outcome = await self._post(session, delivery)
                    ok = outcome == "ok"
            result = await self.store.finish_delivery(topic, delivery.member, outcome,
                                                      LATER_MS if outcome == "later" else BACKOFF_MS)
            if result == "dead_lettered":
                log.warning("webhook %s gave up on message %s of %s", delivery.url, delivery.message.id, topic)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis away: the claim lapses and is retried
            log.warning("webhook delivery for %s failed: %s", topic, exc)
        finally:
            circuit.done(ok)
            self._in_flight -= 1
            self._slot_free.set()

    async def _post(self, session: aiohttp.ClientSession, delivery: HookDelivery) -> str:
        """"ok", "retry" or "fail" (never worth retrying)."""
        message = delivery.message
        host = URL(delivery.url).host or ""
        if not self.settings.webhook_allow_private and not _public(host):
            return "fail"
        timestamp = str(int(time.time()))
        headers = {**message.headers,  # the publisher's X-MQ-* headers (they cannot shadow these)
                   "Content-Type": message.content_type or "application/octet-stream",
                   "X-MicroQ-Message-Id": message.id, "X-MicroQ-Topic": message.topic,
                   "X-MicroQ-Attempt": str(delivery.attempts + 1), "X-MicroQ-Timestamp": timestamp,
                   "User-Agent": "MicroQ-Webhook/1"}
        # the webhook's own secret signs both ways; without one, the node-wide secret signs MicroQ's way
        if delivery.secret:
            headers["X-TinyMQ-Signature"] = tinymq_signature(delivery.secret, message.payload)
        secret = delivery.secret or self.settings.webhook_secret
        if secret:
            headers["X-MicroQ-Signature"] = signature(secret, timestamp, message.payload)
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
