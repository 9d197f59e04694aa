"""The work part's outboxes, forwarded to topics through the bridge (microq/events.py).

Each script that changes a queue appends its events to a stream in the queue's own slot, in the
same run (so an event exists exactly when its change does); `Outbox.forward` copies them to a
topic, deduplicated by the event id, so every event reaches its topic exactly once however many
nodes forward at once or crash half-way. Three outboxes:

| stream (slot)                | what                                              | topic                    |
| `w:{q}:events` (queue)       | item transitions (events_topic on), trigger       | `work.<q>`               |
|                              | firings of triggers with `publish`                |                          |
| `w:{q}:firings` (queue)      | firings of the queue's triggers with a webhook    | `work-triggers.<q>`      |
| `trg:{t}:events` (trigger)   | status changes of a SINGLE trigger that notifies  | `work-trigger.<t>`       |

Webhooks are the topics part's: a trigger's `webhook_url` is a webhook of its topic (signed
with the trigger's `secret`, retried and dead-lettered there). A node forwards right after a
change (in the background: a request never waits on the topics) and the work sweep forwards
what is left (microq/work/sweep.py).

Names: a topic name is [a-zA-Z0-9._-]{1,255}. A queue or trigger name made only of those
characters, not starting with `.` nor ending with `.dlq` (the topics part's dead-letter
suffix), that fits, is used as it is; any other name is written as
`.` + the first 40 hex digits of its SHA-256 (`work..3f2a...`), which no name used as it is can
be, since those never start with `.`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from microq.events import Event, EventSink, Outbox
from microq.scripts import Scripts
from microq.work.keys import WorkKeys

log = logging.getLogger(__name__)

EVENTS_PREFIX = "work"  #: topic work.<queue>: item events and published trigger firings
FIRINGS_PREFIX = "work-triggers"  #: topic work-triggers.<queue>: the queue's triggers' webhook deliveries
SINGLE_PREFIX = "work-trigger"  #: topic work-trigger.<trigger>: a SINGLE trigger's status changes
FORWARD_BATCH = 100
FORWARD_ROUNDS = 10  #: batches one forward of one stream takes at most (the sweep continues)
DLQ_SUFFIX = ".dlq"  #: the topics part's dead-letter topic of `t` is `t.dlq`: such names are hashed too
_VERBATIM = re.compile(r"[a-zA-Z0-9_-][a-zA-Z0-9._-]*")


def topic_name(prefix: str, name: str) -> str:
    """The topic of an entity (see the module's docstring for names that do not fit)."""
    if _VERBATIM.fullmatch(name) and not name.endswith(DLQ_SUFFIX) and len(prefix) + 1 + len(name) <= 255:
        return f"{prefix}.{name}"
    return f"{prefix}..{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:40]}"


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def event_json(source: str, entry_id: str, fields: dict[bytes, bytes], **names: str) -> Event:
    """One outbox entry as an Event: its id is the source and the stream entry's id, stable
    across forwards."""
    flat = {_text(k): _text(v) for k, v in fields.items()}
    event_id = f"{source}:{entry_id}"
    at_ms = int(flat.pop("at", "0") or 0)
    body: dict = {"event_id": event_id, "type": flat.pop("type", "item"), **names}
    if body["type"] == "item":
        body.update({"item_id": flat.get("item_id"), "from": flat.get("from") or None, "to": flat.get("to"),
                     "by": flat.get("by") or None, "at": _iso(at_ms), "reference": flat.get("reference") or None,
                     "retry_number": int(flat.get("retry_number") or 0)})
    else:
        for name in ("waiting", "running"):
            if name in flat:
                flat[name] = int(flat[name])
        body.update({**flat, "at": _iso(at_ms)})
    return Event(event_id, json.dumps(body).encode())  # the sink publishes events as application/json


class WorkOutbox:
    def __init__(self, scripts: Scripts, keys: WorkKeys, sink_of: Callable[[], EventSink | None]) -> None:
        self._scripts, self._keys, self._sink_of = scripts, keys, sink_of
        self._running: dict[str, asyncio.Task] = {}  #: outbox (queue or trigger) -> its forward on this node
        self._again: set[str] = set()  #: outboxes changed while their forward ran: forwarded once more

    def sink(self) -> EventSink | None:
        return self._sink_of()

    # -- forwarding

    async def forward_queue(self, queue_name: str) -> int:
        """Forward both outboxes of a queue (up to FORWARD_ROUNDS batches each); how many events."""
        sink = self.sink()
        if sink is None:
            return 0
        queue, outbox = self._keys.queue(queue_name), Outbox(self._scripts, sink)
        sent = await self._drain(outbox, queue.events, queue.events_cursor, topic_name(EVENTS_PREFIX, queue_name),
                                 lambda i, f: event_json(f"work:{queue_name}:events", i, f, queue=queue_name))
        sent += await self._drain(outbox, queue.firings, queue.firings_cursor,
                                  topic_name(FIRINGS_PREFIX, queue_name),
                                  lambda i, f: event_json(f"work:{queue_name}:firings", i, f, queue=queue_name))
        return sent

    async def forward_trigger(self, name: str) -> int:
        sink = self.sink()
        if sink is None:
            return 0
        stream, cursor = self._keys.trigger_events(name)
        return await self._drain(Outbox(self._scripts, sink), stream, cursor, topic_name(SINGLE_PREFIX, name),
                                 lambda i, f: event_json(f"work-trigger:{name}", i, f))

    @staticmethod
    async def _drain(outbox: Outbox, stream: str, cursor: str, topic: str, to_event) -> int:
        sent = 0
        for _ in range(FORWARD_ROUNDS):
            count = await outbox.forward(stream, cursor, topic, to_event, FORWARD_BATCH)
            sent += count
            if count < FORWARD_BATCH:
                break
        return sent

    def kick(self, queue_name: str) -> None:
        """Forward a queue's outboxes soon, in the background (best effort: the sweep retries)."""
        self._kick("q:" + queue_name, lambda: self.forward_queue(queue_name))

    def kick_trigger(self, name: str) -> None:
        self._kick("t:" + name, lambda: self.forward_trigger(name))

    def _kick(self, key: str, forward) -> None:
        if key in self._running:  # one forward per outbox per node at a time; it goes once more after
            self._again.add(key)
            return
        if len(self._running) >= 1000 or self.sink() is None:
            return
        self._running[key] = asyncio.create_task(self._forward_until_quiet(key, forward))

    async def _forward_until_quiet(self, key: str, forward) -> None:
        try:
            while True:
                self._again.discard(key)
                try:
                    await forward()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - topics or Redis away: the sweep forwards later
                    log.warning("work outbox %s not forwarded now (%s); the work sweep retries", key, exc)
                    return
                if key not in self._again:
                    return
        finally:
            self._running.pop(key, None)
            self._again.discard(key)

    async def finish(self) -> None:
        """Shutdown: let the forwards in flight land."""
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    # -- webhooks of triggers (the topics part delivers them)

    async def add_trigger_webhook(self, trigger: dict[str, str], secret: str | None = None) -> Hooked:
        """Register the trigger's webhook on its topic (BadRequest for a URL the topics part
        refuses), signed with `secret` when given; whether this call added it (the same URL
        again is the same hook, with this call's secret)."""
        sink = self.sink()
        assert sink is not None, "checked by the API before"
        topic = trigger_topic(trigger)
        existed = trigger["webhook_url"] in await sink.webhooks(topic)
        hook_id = await sink.add_webhook(topic, trigger["webhook_url"], secret)
        return Hooked(hook_id, not existed)

    async def remove_trigger_webhook(self, trigger: dict[str, str]) -> None:
        sink = self.sink()
        if sink is not None and trigger.get("webhook_url"):
            await sink.remove_webhook(trigger_topic(trigger), trigger["webhook_url"])


@dataclass(frozen=True)
class Hooked:
    hook_id: str
    added: bool  #: False when the topic had this URL already (another trigger of the queue, a retry)


def trigger_topic(trigger: dict[str, str]) -> str:
    """Where a trigger's notifications go: a QUEUE trigger's webhook deliveries to its queue's
    firings topic, a SINGLE trigger's to its own topic."""
    if trigger.get("type") == "QUEUE":
        return topic_name(FIRINGS_PREFIX, trigger["queue_name"])
    return topic_name(SINGLE_PREFIX, trigger["name"])


def published_topic(trigger: dict[str, str]) -> str | None:
    """The topic a trigger's notifications are published to without a webhook (publish: true)."""
    if trigger.get("publish") != "1":
        return None
    if trigger.get("type") == "QUEUE":
        return topic_name(EVENTS_PREFIX, trigger["queue_name"])
    return topic_name(SINGLE_PREFIX, trigger["name"])
