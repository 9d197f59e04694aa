"""The bridge from lines and work to topics: events published to a topic, webhooks on it.

A part never imports another part, yet lines and work publish their events as topic messages
(so other systems consume them or receive them as signed webhooks) through the one delivery
machinery the topics part has. The topics part installs an `EventSink` at start-up; lines and
work only see this protocol.

Exactly once, without a cross-slot transaction: the script that changes an entity appends the
event to the entity's own stream (its outbox, in its slot, in the same run). `Outbox.forward`
then copies entries after a cursor to the topic, each published with an id-derived
Idempotency-Key, and moves the cursor on. A node that dies between the two re-reads from the old
cursor and re-publishes, which stores nothing new; two nodes forwarding at once both publish,
one message each id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

from aiohttp import web

from microq.scripts import Scripts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    id: str  #: stable and unique per event: publishing an id again (within a day) stores nothing
    body: bytes  #: JSON
    headers: Mapping[str, str] = field(default_factory=dict)  #: the message's X-MQ-* headers (names start so)


class EventSink(Protocol):
    async def publish(self, topic: str, events: Sequence[Event]) -> None:
        """Each event becomes one message on `topic` (created when missing), once per Event.id."""

    async def add_webhook(self, topic: str, url: str, secret: str | None = None) -> str:
        """The hook id; the same url again is the same hook."""

    async def remove_webhook(self, topic: str, url: str) -> bool:
        """False when the url was not a webhook of `topic`."""

    async def webhooks(self, topic: str) -> list[str]:
        """The urls."""


EVENT_SINK = web.AppKey("event_sink", EventSink)  # type: ignore[type-abstract]


def event_sink(app: web.Application) -> EventSink | None:
    """The installed sink; None when the topics part is not mounted (or not started yet)."""
    return app.get(EVENT_SINK)


class Outbox:
    """Copies a part's event stream to a topic, exactly once (see the module's docstring)."""

    def __init__(self, scripts: Scripts, sink: EventSink) -> None:
        self.scripts = scripts
        self.sink = sink

    async def forward(self, stream: str, cursor: str, topic: str,
                      to_event: Callable[[str, dict[bytes, bytes]], Event], batch: int = 100) -> int:
        """Forward up to `batch` entries of `stream` after the id kept in `cursor` (a string key
        in the stream's slot); the number forwarded. Call again while it returns `batch`."""
        after = await self.scripts.execute("GET", cursor)
        start = "(" + after.decode() if after else "-"
        entries = await self.scripts.execute("XRANGE", stream, start, "+", "COUNT", batch)
        if not entries:
            return 0
        events = [to_event(_text(entry_id), _fields(flat)) for entry_id, flat in entries]
        await self.sink.publish(topic, events)
        await self.scripts.call("events_cursor_advance", [cursor], [_text(entries[-1][0])])
        return len(entries)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fields(flat: list[bytes] | dict[bytes, bytes]) -> dict[bytes, bytes]:
    if isinstance(flat, dict):
        return flat
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
