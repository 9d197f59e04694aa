"""Work items and triggers in Redis: one method per script; never sees a request."""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import os
import time
import uuid
from typing import Any

import msgpack

from redis.exceptions import RedisError

from microq.errors import Conflict, Unavailable
from microq.idempotency import Once
from microq.name_index import NameIndex
from microq.scripts import Scripts
from microq.work.keys import QUEUE_INDEX, STATUSES, TRIGGER_BUCKETS, WorkKeys

OUTBOX_KICKS_MAX = 1000  #: queues one node forwards at once after changes (the rest wait for the sweep)

Item = dict[str, Any]  #: the stored map: id, seq, queue_name, status, data, ..., created_ms, updated_ms
Trigger = dict[str, str]
LAPSED_PER_CALL = 100  #: lapsed claims a claim or a sweep of one queue hands back at most
INDEXING_MAX = 1000  #: lease-index notes one node sends at once
RETENTION_MS = 30 * 24 * 3600 * 1000  #: final items are kept 30 days unless the queue says otherwise
LEASE_CACHE_S = 1.0  #: how long a node trusts the lease setting it read for a queue
LEASE_CACHE_MAX = 1024  #: queues whose lease setting a node remembers (then it forgets them all)

log = logging.getLogger(__name__)


def new_ids(count: int) -> list[str]:
    """`count` random UUID4s as text, from one read of the OS's random source: uuid.uuid4() per
    id was a sixth of a bulk add's node time."""
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw[start:start + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


def _unpack(raw: bytes) -> Item:
    return msgpack.unpackb(raw, raw=False)


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


class WorkStore:
    def __init__(self, scripts: Scripts, keys: WorkKeys, max_retries: int = 3, lease_ms: int = 30 * 60 * 1000,
                 retention_ms: int = RETENTION_MS) -> None:
        self._scripts = scripts
        self.keys = keys  #: public: the API builds Idempotency-Key scopes from them
        self._indexing: set[asyncio.Task] = set()  #: lease-index notes on their way (see _index_lease_soon)
        #: the node's defaults under every queue's own settings (GET/PUT /api/queue/{q}/settings)
        self.max_retries = max_retries  #: lapsed leases an item survives, and application failures retried
        self.lease_ms = lease_ms  #: a claim's lease when neither the request nor the queue names one
        self.retention_ms = retention_ms  #: how long final items are kept (0: until deleted by hand)
        self._lease_cache: dict[str, tuple[float, dict[str, Any]]] = {}  #: queue -> (read at, its own settings)
        self.queue_names = NameIndex(scripts, keys.keyspace, QUEUE_INDEX)  #: every queue ever used (/metrics, GET /api/queue)
        #: set by the work part once topics may be reached: forwards a queue's outboxes (microq/work/outbox.py)
        self.outbox: Any = None

    def _defaults(self) -> list[int]:
        return [self.max_retries, self.retention_ms]

    # -- items

    # Every state change takes `once`: with it, the script runs at most once per Idempotency-Key
    # (microq/idempotency.py) and a retry gets the first reply; its key lies in the entity's slot.

    async def add(self, queue_name: str, items: list[Item], once: Once | None = None) -> list[str]:
        """Store new items (each: queue_name, status and the optional fields), all or none; their
        ids. Conflict when a unique reference is held (or repeats in the batch)."""
        queue = self.keys.queue(queue_name)
        ids = new_ids(len(items))
        batch = [{**item, "id": item_id} for item, item_id in zip(items, ids)]
        reply = await self._scripts.call("work_add", queue.all, [*self._defaults(), msgpack.packb(batch)], once=once)
        await self.queue_names.add(queue_name)
        await self.after_change(queue_name)
        if once is not None:  # a retried request's reply holds the first request's ids
            return [_text(item_id) for item_id in reply]
        return ids

    async def create(self, fields: Item, once: Once | None = None) -> str:
        """Store one new item; returns its id."""
        return (await self.add(fields["queue_name"], [fields], once))[0]

    async def get(self, queue_name: str, item_id: str) -> tuple[int, Item | None]:
        """(Redis's now in ms, the item or None)."""
        reply = await self._scripts.call("work_get", [self.keys.queue(queue_name).items], [item_id])
        return int(reply[0]), (_unpack(reply[1]) if len(reply) > 1 and reply[1] else None)

    async def claim(self, queue_name: str, claimed_by: str, lease_ms: int, once: Once | None = None) -> Item | None:
        """The next NEW item (highest priority, then oldest), now IN_PROGRESS under a lease of
        lease_ms with a new lease_token; None when there is none. Lapsed claims of the queue are
        handed back first."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call(
            "work_claim", queue.all, [claimed_by, lease_ms, *self._defaults(), LAPSED_PER_CALL], once=once)
        await self.after_change(queue_name)
        if not reply:
            return None
        item = _unpack(reply[0])
        if int(reply[1]):
            self._index_lease_soon(queue_name, item["lease_ms"])
        return item

    async def heartbeat(self, queue_name: str, item_id: str, token: str, lease_ms: int | None,
                        once: Once | None = None) -> Item:
        """Renew a claim's lease (lease_ms, or the length it was claimed with); NotFound, or
        Conflict when the token's claim no longer holds the item."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call("work_heartbeat", [queue.items, queue.leases],
                                         [item_id, token, "" if lease_ms is None else lease_ms], once=once)
        item = _unpack(reply[0])
        if int(reply[1]):
            self._index_lease_soon(queue_name, item["lease_ms"])
        return item

    async def set_status(self, queue_name: str, item_id: str, status: str, message: str | None,
                         token: str = "", once: Once | None = None, *, exception_type: str = "",
                         by: str = "") -> tuple[Item, Item | None]:
        """(the item, the retry an application failure made or None). NotFound for an unknown
        item, Conflict for a move its status does not allow or, with a token, when that claim no
        longer holds the item."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call(
            "work_set_status", queue.all,
            [item_id, status, "0" if message is None else "1", message or "", token, exception_type, by,
             str(uuid.uuid4()), *self._defaults()], once=once)
        await self.after_change(queue_name)
        return _unpack(reply[0]), (_unpack(reply[1]) if len(reply) > 1 else None)

    # -- the index of queues (GET /api/queue)

    async def register_queue(self, queue_name: str) -> None:
        """List the queue in the index of queue names (microq/name_index.py: once per node and name)."""
        await self.queue_names.add(queue_name)

    async def list_queue_names(self, after: str, limit: int) -> list[str]:
        """Up to `limit` queue names sorted after `after`. The index is a set per bucket, so each
        page reads every name (SSCAN, 1000 a call, all buckets at once) and sorts them: bounded
        by the queues that ever existed, not by their items."""
        names = await self.queue_names.names()
        start = bisect.bisect_right(names, after) if after else 0
        return names[start:start + limit]

    # -- queue settings

    async def settings(self, queue_name: str) -> dict[str, Any]:
        """The queue's own settings: max_retries, unique_reference, lease_ms, retention_ms (absent: the default)."""
        raw = await self._command("HGETALL", self.keys.queue(queue_name).settings)
        return _settings(raw)

    async def save_settings(self, queue_name: str, changes: dict[str, str], once: Once | None = None) -> dict[str, Any]:
        await self.register_queue(queue_name)
        reply = await self._scripts.call("work_settings", [self.keys.queue(queue_name).settings],
                                         [part for pair in changes.items() for part in pair], once=once)
        self._lease_cache.pop(queue_name, None)
        own = _settings(reply)
        if own.get("events_topic"):
            await self.note_orchestrated(queue_name)
        return own

    async def queue_lease_ms(self, queue_name: str) -> int:
        """The lease a claim on this queue gets unless it names one: the queue's setting (read
        at most once a second per node: a change reaches other nodes' claims within LEASE_CACHE_S),
        else the node's default."""
        return (await self.cached_settings(queue_name)).get("lease_ms") or self.lease_ms

    async def cached_settings(self, queue_name: str) -> dict[str, Any]:
        """The queue's own settings as this node read them within LEASE_CACHE_S."""
        now = time.monotonic()
        cached = self._lease_cache.get(queue_name)
        if cached is None or now - cached[0] > LEASE_CACHE_S:
            own = await self.settings(queue_name)
            if len(self._lease_cache) >= LEASE_CACHE_MAX:
                self._lease_cache.clear()
            cached = self._lease_cache[queue_name] = (now, own)
        return cached[1]

    def cached_orchestrated(self, queue_name: str) -> bool:
        """Whether the queue had, when this node last read its settings, QUEUE triggers or an
        events topic (then its outboxes are forwarded after each change)."""
        cached = self._lease_cache.get(queue_name)
        return cached is not None and bool(cached[1].get("triggers") or cached[1].get("events_topic"))

    async def after_change(self, queue_name: str) -> None:
        """After a script changed the queue: forward its outboxes in the background, if it has any."""
        if self.outbox is None:
            return
        try:
            await self.cached_settings(queue_name)
        except (Unavailable, ConnectionError, OSError, RedisError):
            return  # the sweep forwards what is left
        if self.cached_orchestrated(queue_name):
            self.outbox.kick(queue_name)

    def _index_lease_soon(self, queue_name: str, lease_end_ms: int) -> None:
        """Note the lease in the sweep index in the background: the index bucket is another slot,
        maybe on a stalled or dead primary, and the claim (applied in the queue's slot) must not
        wait for it. Past INDEXING_MAX notes in flight the lapse is left to the next claim."""
        if len(self._indexing) >= INDEXING_MAX:
            return
        task = asyncio.create_task(self._index_lease(queue_name, lease_end_ms))
        self._indexing.add(task)
        task.add_done_callback(self._indexing.discard)

    async def finish(self) -> None:
        """Shutdown: let the lease-index notes in flight land (each ends within the Redis timeout)."""
        if self._indexing:
            await asyncio.gather(*self._indexing, return_exceptions=True)

    async def _index_lease(self, queue_name: str, lease_end_ms: int) -> None:
        """File the queue in its sweep bucket with this (earliest) lease end. The claim is applied
        already: if the bucket's Redis node is away, the lapse is still found by the next claim."""
        bucket = self.keys.leased_queues(self.keys.lease_bucket(queue_name))
        try:
            await self._scripts.call("work_lease_note", [bucket], [queue_name, lease_end_ms])
        except (Unavailable, ConnectionError, OSError, RedisError) as exc:
            log.warning("lease index of queue %r not updated (%s): its lapsed claims wait for the next claim",
                        queue_name, exc)

    # -- the lease sweep

    async def due_queues(self, bucket: int, limit: int, guard_ms: int) -> tuple[str, list[str]]:
        """(mark, queue names) of one bucket whose earliest lease end has come; see work_lease_due."""
        reply = await self._scripts.call("work_lease_due", [self.keys.leased_queues(bucket)], [limit, guard_ms])
        return _text(reply[0]), [_text(name) for name in reply[1:]]

    async def sweep_queue(self, bucket: int, queue_name: str, mark: str) -> int:
        """Hand back a queue's lapsed claims (bounded) and file its next lease end; how many."""
        queue = self.keys.queue(queue_name)
        handed, earliest = await self._scripts.call(
            "work_sweep", queue.all, [*self._defaults(), LAPSED_PER_CALL])
        await self._scripts.call("work_lease_index", [self.keys.leased_queues(bucket)],
                                 [queue_name, "" if int(earliest) < 0 else int(earliest), mark])
        if int(handed):
            await self.after_change(queue_name)
        return int(handed)

    async def visit_queue(self, queue_name: str) -> None:
        """The work sweep's visit of a queue with QUEUE triggers or an events topic: the queue's
        upkeep script (runs past their timeout end, deferred items that came due may fire a
        trigger), then its outboxes are forwarded (by the caller)."""
        await self._scripts.call("work_sweep", self.keys.queue(queue_name).all,
                                 [*self._defaults(), LAPSED_PER_CALL])

    async def lock_bucket(self, bucket: int, owner: str, ttl_ms: int) -> bool:
        reply = await self._scripts.execute("SET", self.keys.sweep_lock(bucket), owner, "NX", "PX", ttl_ms)
        return bool(reply)

    async def page(self, queue_name: str, status: str, after: int, limit: int) -> tuple[int, int, list[Item]]:
        """(items in that status, Redis's now in ms, up to `limit` of them with arrival seq >
        after, oldest first)."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call("work_list", [queue.items, queue.by_status[status]], [after, limit])
        return int(reply[0]), int(reply[1]), [_unpack(raw) for raw in reply[2:]]

    async def find_reference(self, queue_name: str, reference: str, after: int,
                             limit: int) -> tuple[int, list[Item], int | None]:
        """(Redis's now in ms, up to `limit` items with this exact reference and seq > after,
        oldest first, the cursor of the next page or None)."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call("work_find_reference", [queue.items, queue.ref_index],
                                         [reference, after, limit])
        found = [_unpack(raw) for raw in reply[2:]]
        return int(reply[0]), [item for item in found if item.get("reference") == reference], int(reply[1]) or None

    async def find_dates(self, queue_name: str, status: str, from_ms: int, to_ms: int, after: int,
                         limit: int) -> tuple[int, list[Item], int | None]:
        """(Redis's now in ms, up to `limit` items of that status created in [from_ms, to_ms] with
        seq > after, oldest first, the cursor of the next page or None)."""
        queue = self.keys.queue(queue_name)
        reply = await self._scripts.call("work_find_dates", [queue.items, queue.by_status[status], queue.arrivals],
                                         [from_ms, to_ms, after, limit])
        items = [_unpack(raw) for raw in reply[1:]]
        return int(reply[0]), items, items[-1]["seq"] if len(items) == limit else None

    async def counts(self, queue_name: str) -> tuple[dict[str, int], int, int]:
        """(items per status, open items past their due_date, NEW items deferred)."""
        queue = self.keys.queue(queue_name)
        reply = [int(n) for n in await self._scripts.call("work_counts", [*queue.status_sets, queue.due,
                                                                          queue.deferred])]
        return dict(zip(STATUSES, reply[:5])), reply[5], reply[6]

    # -- QUEUE triggers: their firing state in the queue's slot (include work_triggers)

    async def attach_trigger(self, queue_name: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """Give a QUEUE trigger its firing state in its queue's slot (or update its configuration),
        then file the queue for the work sweep; the state after a first evaluation."""
        await self.register_queue(queue_name)
        raw = await self._scripts.call("work_trigger_attach", self.keys.queue(queue_name).all,
                                       [name, json.dumps(config)])
        self._lease_cache.pop(queue_name, None)
        await self.note_orchestrated(queue_name)
        await self.after_change(queue_name)
        return _state(raw)

    async def detach_trigger(self, queue_name: str, name: str) -> bool:
        queue = self.keys.queue(queue_name)
        removed = await self._scripts.call("work_trigger_detach", [queue.triggers, queue.settings], [name])
        self._lease_cache.pop(queue_name, None)
        return bool(removed)

    async def trigger_state(self, queue_name: str, name: str) -> dict[str, Any] | None:
        raw = await self._command("HGET", self.keys.queue(queue_name).triggers, name)
        return _state(raw) if raw else None

    async def end_run(self, queue_name: str, name: str, run_id: str, status: str,
                      once: Once | None = None) -> dict[str, Any]:
        """End an active run (done or failed); the trigger's state after it (a next run may have
        started). NotFound for an unknown trigger or run, Conflict for a run that has ended."""
        raw = await self._scripts.call("work_run_end", self.keys.queue(queue_name).all, [name, run_id, status],
                                       once=once)
        await self.after_change(queue_name)
        return _state(raw)

    # -- the work sweep's index of queues with QUEUE triggers or an events topic

    async def note_orchestrated(self, queue_name: str) -> None:
        await self._command("ZADD", self.keys.orchestrated(queue_name), 0, queue_name)

    async def orchestrated_due(self, bucket: int, limit: int, interval_ms: int) -> tuple[int, list[str]]:
        reply = await self._scripts.call("work_orchestrated_take", [self.keys.orchestrated_bucket(bucket)],
                                         [limit, interval_ms])
        return int(reply[0]), [_text(name) for name in reply[1:]]

    async def drop_orchestrated(self, queue_name: str, mark: int) -> bool:
        return bool(await self._scripts.call("work_orchestrated_drop", [self.keys.orchestrated(queue_name)],
                                             [queue_name, mark]))

    async def lock_orchestrated(self, bucket: int, owner: str, ttl_ms: int) -> bool:
        return bool(await self._command("SET", self.keys.orchestrated_lock(bucket), owner, "NX", "PX", ttl_ms))

    # -- triggers

    async def create_trigger(self, name: str, kind: str, process_status: str, queue_name: str,
                             description: str, extra: dict[str, str] | None = None,
                             once: Once | None = None) -> Trigger:
        """Conflict when the name is taken. A QUEUE trigger then gets its firing state in its
        queue's slot (a second step: a crash in between is healed by the next create of that
        name, which is a 409, or by the next read of the trigger)."""
        try:
            reply = await self._scripts.call("work_trigger_create", [self.keys.trigger(name)],
                                             [name, kind, process_status, queue_name, description,
                                              json.dumps(extra or {})], once=once)
        except Conflict:  # heals a registry entry lost to a crash between the two steps of an earlier create
            await self._registry("SADD", name)
            existing = await self.get_trigger(name)
            if existing and existing["type"] == "QUEUE":
                await self.heal_queue_trigger(existing)
            raise
        await self._registry("SADD", name)
        trigger = self._trigger(reply)
        # a replayed create (Idempotency-Key) of a trigger deleted since must not leave a firing state behind
        if kind == "QUEUE" and (once is None or await self.get_trigger(name) is not None):
            try:
                await self.attach_trigger(queue_name, name, trigger_config(trigger))
            except Conflict:  # the queue has TRIGGERS_MAX triggers: this one is not made after all
                await self._scripts.call("work_trigger_delete", [self.keys.trigger(name),
                                                                 *self.keys.trigger_events(name)])
                await self._registry("SREM", name)
                raise
        return trigger

    async def heal_queue_trigger(self, trigger: Trigger) -> dict[str, Any]:
        """The QUEUE trigger's firing state, made from its definition when it has none."""
        state = await self.trigger_state(trigger["queue_name"], trigger["name"])
        if state is None:
            config = trigger_config(trigger)
            if await self.get_trigger(trigger["name"]) is None:  # deleted (a replayed create's answer): no state
                return {"name": trigger["name"], **config, "process_status": config["idle_status"], "fired": 0,
                        "active": {}, "recent": []}
            state = await self.attach_trigger(trigger["queue_name"], trigger["name"], config)
        return state

    async def get_trigger(self, name: str) -> Trigger | None:
        reply = await self._scripts.execute("HGETALL", self.keys.trigger(name))
        return self._trigger(reply) if reply else None

    async def list_triggers(self) -> list[Trigger]:
        buckets = await asyncio.gather(*(self._command("SMEMBERS", self.keys.trigger_names_bucket(b))
                                         for b in range(TRIGGER_BUCKETS)))
        names = [name for bucket in buckets for name in bucket]
        found = await asyncio.gather(*(self.get_trigger(_text(name)) for name in names))
        # a name without a hash is a delete caught between its two steps: not a trigger any more
        return sorted((t for t in found if t), key=lambda t: t["name"])

    async def delete_trigger(self, name: str, once: Once | None = None) -> Trigger | None:
        """The deleted definition (None when there was none); a QUEUE trigger's firing state
        leaves its queue's slot after it."""
        trigger = await self.get_trigger(name)
        existed = await self._scripts.call("work_trigger_delete", [self.keys.trigger(name),
                                                                   *self.keys.trigger_events(name)], once=once)
        await self._registry("SREM", name)
        if trigger and trigger["type"] == "QUEUE":
            await self.detach_trigger(trigger["queue_name"], name)
        if not existed:
            return None
        return trigger or {"name": name, "type": "SINGLE"}

    async def set_trigger_status(self, name: str, process_status: str, once: Once | None = None) -> str:
        """The previous status; NotFound for an unknown trigger or one that is not SINGLE."""
        previous = await self._scripts.call("work_trigger_set_status",
                                            [self.keys.trigger(name), self.keys.trigger_events(name)[0]],
                                            [process_status], once=once)
        if self.outbox is not None:
            self.outbox.kick_trigger(name)
        return _text(previous)

    async def waiting(self, queue_name: str) -> int:
        """How many NEW items wait in a queue (shown on QUEUE triggers)."""
        count = await self._scripts.execute("ZCARD", self.keys.queue(queue_name).by_status["NEW"])
        return int(count)

    async def _registry(self, command: str, name: str) -> None:
        await self._command(command, self.keys.trigger_names(name), name)

    async def migrate_trigger_registry(self) -> int:
        """Move trigger names from the single registry set of earlier versions into their
        buckets (each added before it is removed, so a start cut short is finished by the next)."""
        moved, cursor = 0, 0
        while True:
            cursor, names = await self._command("SSCAN", self.keys.legacy_trigger_names, cursor, "COUNT", 100)
            for name in names:
                await self._registry("SADD", _text(name))
                await self._command("SREM", self.keys.legacy_trigger_names, name)
                moved += 1
            if int(cursor) == 0:
                return moved

    async def _command(self, *command: Any) -> Any:
        return await self._scripts.execute(*command)

    @staticmethod
    def _trigger(reply: Any) -> Trigger:
        if isinstance(reply, dict):
            pairs = reply.items()
        else:
            pairs = zip(reply[::2], reply[1::2])
        return {_text(k): _text(v) for k, v in pairs}


_SETTING_FIELDS = {"max_retries": int, "unique_reference": lambda v: v == "1", "lease_ms": int, "retention_ms": int,
                   "events_topic": lambda v: v == "1", "triggers": int}


def _settings(reply: Any) -> dict[str, Any]:
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
    found = {_text(k): _text(v) for k, v in pairs}
    return {name: read(found[name]) for name, read in _SETTING_FIELDS.items() if name in found}


def trigger_config(trigger: Trigger) -> dict[str, Any]:
    """The firing configuration of a QUEUE trigger's definition (see work_trigger_attach)."""
    return {"min_items": int(trigger.get("min_items", 1)), "max_running": int(trigger.get("max_running", 1)),
            "run_timeout_ms": int(trigger.get("run_timeout_ms", 3600 * 1000)),
            "idle_status": trigger["process_status"],
            "webhook": 1 if trigger.get("webhook_url") else 0, "publish": 1 if trigger.get("publish") == "1" else 0}


def _state(raw: Any) -> dict[str, Any]:
    """A QUEUE trigger's firing state (JSON written by the include work_triggers)."""
    state = json.loads(raw)
    if not isinstance(state.get("active"), dict):
        state["active"] = {}
    if not isinstance(state.get("recent"), list):
        state["recent"] = []
    return state
