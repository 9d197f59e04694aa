"""Line events to topics (and so to webhooks), and the lines sweep.

A line that forwards (config `events_topic: true`, or any webhook) has every event of its log
published to the topic `lines.<tenant>.<queue>` through the bridge (microq/events.py): the log
stream is the outbox and the cursor key `fwc` lives in the line's slot. Tenant and queue ids
are `[A-Za-z0-9_-]{1,64}`, all topic-name characters without '.', so the name always fits the
topic pattern (at most 135 characters) and is unambiguous: no mapping is needed.

Forwarding runs right after each change a node makes (best effort, in the background: it
never fails or delays the request) and from the sweep, every SWEEP_INTERVAL on every node,
over the forwarding index (one member per forwarding line, its own slot), at most SWEEP_LINES
lines and FORWARD_BATCHES batches each per turn, so a turn's work is bounded. Whether a line
forwards is known to a node from its sweeps' reads of the index (two passes' members: the
index's size), so a change costs no extra round trip on lines that do not forward. Two nodes
forwarding the same line publish the same event ids; the sink stores each id once.

The sweep also closes lines with `close_at` at the end of their day (lines_close_day with a
day marker the script decides, so exactly once per day across nodes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from microq.events import Event, Outbox, event_sink
from microq.lines.keys import closing_index, forwarding_index
from microq.lines.store import LineStore

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 1.0  #: seconds between two sweeps of one node
SWEEP_LINES = 200  #: most lines one sweep forwards or closes (the next sweep goes on from there)
FORWARD_BATCHES = 5  #: most Outbox batches (100 events each) one line gets per forward
FAILING_LOGGED = 10_000  #: most failing lines remembered so as to log each once
PENDING_MAX = 1000  #: most after-change forwards one node runs at once (more: the sweep does them)

#: log types published under another name: a person called to be served
PUBLISHED_TYPE = {"SERVE": "CALLED", "CALL": "CALLED"}


def topic_of(tenant: str, queue: str) -> str:
    return f"lines.{tenant}.{queue}"


def to_event(tenant: str, queue: str, entry_id: str, fields: dict[bytes, bytes]) -> Event:
    """One log entry as a topic message: {"event_id", "type", "tenant_id", "queue_id", "user_id",
    "ticket", "counter_id", "position", "at", "log_type", "meta"}; SERVE and CALL are CALLED."""
    kind = fields.get(b"type", b"").decode()
    try:
        meta = json.loads(fields.get(b"meta", b"{}") or b"{}")
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    ms = int(entry_id.partition("-")[0])
    body = {"event_id": entry_id, "type": PUBLISHED_TYPE.get(kind, kind), "tenant_id": tenant, "queue_id": queue,
            "user_id": fields.get(b"user_id", b"").decode() or None, "ticket": meta.get("ticket") or None,
            "counter_id": meta.get("counter") or None, "position": meta.get("position"),
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}+00:00",
            "log_type": kind, "meta": meta}
    return Event(f"lines:{tenant}:{queue}:{entry_id}", json.dumps(body).encode())


class Forwarder:
    def __init__(self, app: web.Application, store: LineStore) -> None:
        self.app, self.store = app, store
        #: forwarding lines seen by the sweep in this pass over the index and in the previous one
        self._seen: set[str] = set()
        self._previous: set[str] = set()
        self._pending: set[asyncio.Task[Any]] = set()
        self._offset = 0  #: where in the forwarding index the next sweep starts
        self._closing_offset = 0  #: and in the closing index
        self._failing: set[str] = set()  #: lines whose forwarding failed (logged once); bounded

    def _forwards(self, tenant: str, queue: str) -> bool:
        """Whether the line forwards, as this node's sweeps last read the index (no round trip
        per change; a line switched on elsewhere is forwarded by the next sweep)."""
        member = f"{tenant}/{queue}"
        return member in self._seen or member in self._previous

    def changed(self, tenant: str, queue: str) -> None:
        """A request changed the line: forward its new events soon, in the background."""
        if len(self._pending) >= PENDING_MAX or event_sink(self.app) is None or not self._forwards(tenant, queue):
            return
        task = asyncio.create_task(self._after_change(tenant, queue))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def forget(self, tenant: str, queue: str, forwards: bool) -> None:
        """This node switched the line's forwarding: use that until the sweep reads the index."""
        member = f"{tenant}/{queue}"
        for known in (self._seen, self._previous):
            (known.add if forwards else known.discard)(member)

    async def _after_change(self, tenant: str, queue: str) -> None:
        try:
            await self.forward(tenant, queue)
        except Exception as exc:  # noqa: BLE001 - best effort: the sweep forwards what this missed
            log.debug("forwarding %s/%s after a change failed (the sweep retries and logs): %r", tenant, queue, exc)

    async def forward(self, tenant: str, queue: str) -> int:
        """Forward the line's backlog (at most FORWARD_BATCHES batches); how many events."""
        sink = event_sink(self.app)
        if sink is None:
            return 0
        k = self.store.keys(tenant, queue)
        outbox, total = Outbox(self.store.scripts, sink), 0
        for _ in range(FORWARD_BATCHES):
            sent = await outbox.forward(k.events, k.forward_cursor, topic_of(tenant, queue),
                                        lambda entry_id, fields: to_event(tenant, queue, entry_id, fields))
            total += sent
            if sent < 100:
                break
        return total

    async def run(self) -> None:
        """The sweep, until cancelled: forwarding, then automatic closing; errors are logged."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed turn (Redis away) must not end the sweep
                log.warning("lines sweep failed, trying again: %r", exc)

    async def sweep(self) -> None:
        members = await self.store.scripts.execute("ZRANGE", forwarding_index(self.store.keyspace), self._offset,
                                                   self._offset + SWEEP_LINES - 1)
        self._seen.update(m.decode() for m in members)
        if len(members) < SWEEP_LINES:  # a pass over the whole index ended
            self._offset, self._previous, self._seen = 0, self._seen, set()
        else:
            self._offset += SWEEP_LINES
        await asyncio.gather(*(self._sweep_one(m) for m in members))
        closing = await self.store.scripts.execute("ZRANGE", closing_index(self.store.keyspace), self._closing_offset,
                                                   self._closing_offset + SWEEP_LINES - 1)
        self._closing_offset = 0 if len(closing) < SWEEP_LINES else self._closing_offset + SWEEP_LINES
        await asyncio.gather(*(self._close_one(m) for m in closing))

    async def _sweep_one(self, member: bytes) -> None:
        line = member.decode()
        tenant, _, queue = line.partition("/")
        try:
            await self.forward(tenant, queue)
        except Exception as exc:  # noqa: BLE001 - one line's trouble must not stop the others
            if line not in self._failing:  # once until it works again, not every second
                log.warning("forwarding %s failed (logged once until it works; the sweep retries): %r", line, exc)
                if len(self._failing) < FAILING_LOGGED:
                    self._failing.add(line)
        else:
            if line in self._failing:
                self._failing.discard(line)
                log.info("forwarding %s works again", line)

    async def _close_one(self, member: bytes) -> None:
        tenant, _, queue = member.decode().partition("/")
        try:
            closed = await self.store.auto_close(tenant, queue)
            if closed:
                log.info("closed the day of %s/%s: %d people", tenant, queue, closed)
                await self._after_change(tenant, queue)
        except Exception as exc:  # noqa: BLE001 - one line's trouble must not stop the others
            if "close:" + member.decode() not in self._failing:
                log.warning("closing the day of %s/%s failed (logged once until it works): %r", tenant, queue, exc)
                if len(self._failing) < FAILING_LOGGED:
                    self._failing.add("close:" + member.decode())
        else:
            self._failing.discard("close:" + member.decode())

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
