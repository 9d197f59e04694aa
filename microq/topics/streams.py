"""What /stream/{topic} (SSE) and /ws (WebSocket) share: taking messages for a long-lived
subscriber, and the node's bound on open streams.

A stream is a consumer, not a tap: it takes messages through the store exactly as a
long-poll /consume does (one script call, any node's publish wakes it through the WaitRoom),
so every message goes to one subscriber or consumer once, across nodes. It takes a batch only
after the previous one was written and aiohttp let the socket drain (its writers wait for the
transport once 64 KiB are queued; the WebSocket writer at every frame), so a slow socket holds
at most one batch taken and 64 KiB written but unsent: the node never buffers without bound.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

from microq.errors import REDIS_AWAY, REDIS_AWAY_RETRY, Unavailable
from microq.topics.messages import Message
from microq.topics.store import TopicStore
from microq.topics.waiters import WaitRoom

BATCH = 10  #: messages one take may lease for a stream (fewer when the subscriber's credit is lower)
IDLE = 15.0  #: seconds a stream waits with nothing to send before a keep-alive


@dataclass(frozen=True)
class Taken:
    messages: list[Message]
    stored: bool  #: False: a broadcast, which is in no store and needs no ack


async def take(store: TopicStore, room: WaitRoom, topic: str, limit: int, lease_ms: int, idle: float,
               gone: Callable[[], bool], group: str | None = None) -> Taken | None:
    """Up to `limit` messages of `topic` (as a member of consumer group `group`, if one), waiting
    up to `idle` seconds for some (then none); None when the node is shutting down or the
    subscriber has gone. The same wait as a long-poll /consume: registered before the first look,
    handing on a wake-up it cannot use (a group member's uses up none)."""
    if room.closing or gone():
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + idle
    waiter = room.add(topic, counted=group is None)
    taken: Taken | None = None
    try:
        while True:
            waiter.event.clear()
            if waiter.broadcast is not None:
                taken = Taken([waiter.broadcast], stored=False)
                return taken
            try:
                if group is None:
                    messages, next_due = await store.consume(topic, limit, lease_ms)
                else:
                    messages, next_due = await store.group_consume(topic, group, limit, lease_ms)
            except REDIS_AWAY:  # a long-lived subscriber outlives a Redis restart; it looks again
                messages, next_due = [], int(REDIS_AWAY_RETRY * 1000)
            if messages:
                taken = Taken(messages, stored=True)
                return taken
            remaining = deadline - loop.time()
            if room.closing or remaining <= 0:
                break
            wait = remaining if next_due < 0 else min(remaining, next_due / 1000)
            try:
                await asyncio.wait_for(waiter.event.wait(), wait)
            except asyncio.TimeoutError:
                pass
            if room.closing or gone():
                return None
        return None if room.closing else Taken([], stored=True)
    finally:
        room.remove(waiter)
        if taken is None and waiter.counted and waiter.event.is_set() and waiter.woken_by and not room.closing:
            room.wake(waiter.woken_by, 1)  # another waiter must get the wake-up this one cannot use


class StreamHub:
    """This node's open streams: at most `limit` at once, and closed together on shutdown."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._closers: dict[object, Callable[[], Awaitable[object]] | None] = {}

    def __len__(self) -> int:
        return len(self._closers)

    def open(self, token: object, close: Callable[[], Awaitable[object]] | None = None) -> None:
        """Count a stream in; Unavailable (503) when the node has `limit` open already. `close` ends
        it at shutdown; without one, the WaitRoom closing (which ends every take) is enough."""
        if len(self._closers) >= self.limit:
            raise Unavailable(f"this node has {self.limit} open streams; retry on another node or later",
                              headers={"Retry-After": "1"})
        self._closers[token] = close

    def done(self, token: object) -> None:
        self._closers.pop(token, None)

    async def close_all(self) -> None:
        """Shutdown: every stream ends now (a WebSocket with 1001 Going Away) instead of holding the drain."""
        closing = [close() for close in list(self._closers.values()) if close is not None]
        await asyncio.gather(*closing, return_exceptions=True)
