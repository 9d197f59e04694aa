"""Work items and triggers in Redis: one method per script; never sees a request."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgpack

from microq.errors import Conflict
from microq.scripts import Scripts
from microq.work.keys import STATUSES, WorkKeys

Item = dict[str, Any]  #: the stored map: id, seq, queue_name, status, data, ..., created_ms, updated_ms
Trigger = dict[str, str]
IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000  #: how long a retried create with the same Idempotency-Key is recognised


def _unpack(raw: bytes) -> Item:
    return msgpack.unpackb(raw, raw=False)


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


class WorkStore:
    def __init__(self, scripts: Scripts, keys: WorkKeys) -> None:
        self._scripts, self._keys = scripts, keys

    # -- items

    async def create(self, fields: Item, idempotency_key: str = "") -> str:
        """Store a new item (fields: queue_name, status and the optional ones); returns its id.
        A repeated idempotency_key within IDEMPOTENCY_TTL_MS returns the first id instead."""
        queue = self._keys.queue(fields["queue_name"])
        reply = await self._scripts.call(
            "work_create",
            [queue.items, queue.seq, queue.by_status[fields["status"]], queue.idempotency(idempotency_key)],
            [str(uuid.uuid4()), msgpack.packb(fields), IDEMPOTENCY_TTL_MS if idempotency_key else 0])
        return _text(reply)

    async def get(self, queue_name: str, item_id: str) -> Item | None:
        raw = await self._scripts.execute("HGET", self._keys.queue(queue_name).items, item_id)
        if isinstance(raw, Exception):
            raise raw
        return _unpack(raw) if raw else None

    async def claim(self, queue_name: str, claimed_by: str) -> Item | None:
        """The oldest NEW item, now IN_PROGRESS; None when there is none."""
        queue = self._keys.queue(queue_name)
        raw = await self._scripts.call("work_claim", [queue.items, queue.by_status["NEW"],
                                                      queue.by_status["IN_PROGRESS"]], [claimed_by])
        return _unpack(raw) if raw else None

    async def set_status(self, queue_name: str, item_id: str, status: str, message: str | None) -> Item:
        """NotFound for an unknown item, Conflict for a move its status does not allow."""
        queue = self._keys.queue(queue_name)
        raw = await self._scripts.call("work_set_status", [queue.items, *queue.status_sets],
                                       [item_id, status, "0" if message is None else "1", message or ""])
        return _unpack(raw)

    async def page(self, queue_name: str, status: str, after: int, limit: int) -> tuple[int, list[Item]]:
        """(items in that status, up to `limit` of them with arrival seq > after, oldest first)."""
        queue = self._keys.queue(queue_name)
        reply = await self._scripts.call("work_list", [queue.items, queue.by_status[status]], [after, limit])
        return int(reply[0]), [_unpack(raw) for raw in reply[1:]]

    async def counts(self, queue_name: str) -> dict[str, int]:
        reply = await self._scripts.call("work_counts", self._keys.queue(queue_name).status_sets)
        return dict(zip(STATUSES, map(int, reply)))

    # -- triggers

    async def create_trigger(self, name: str, kind: str, process_status: str, queue_name: str,
                             description: str) -> Trigger:
        """Conflict when the name is taken."""
        try:
            reply = await self._scripts.call("work_trigger_create", [self._keys.trigger(name)],
                                             [name, kind, process_status, queue_name, description])
        except Conflict:  # heals a registry entry lost to a crash between the two steps of an earlier create
            await self._registry("SADD", name)
            raise
        await self._registry("SADD", name)
        return self._trigger(reply)

    async def get_trigger(self, name: str) -> Trigger | None:
        reply = await self._scripts.execute("HGETALL", self._keys.trigger(name))
        if isinstance(reply, Exception):
            raise reply
        return self._trigger(reply) if reply else None

    async def list_triggers(self) -> list[Trigger]:
        names = await self._scripts.execute("SMEMBERS", self._keys.trigger_names)
        if isinstance(names, Exception):
            raise names
        found = await asyncio.gather(*(self.get_trigger(_text(name)) for name in names))
        # a name without a hash is a delete caught between its two steps: not a trigger any more
        return sorted((t for t in found if t), key=lambda t: t["name"])

    async def delete_trigger(self, name: str) -> bool:
        existed = await self._scripts.execute("DEL", self._keys.trigger(name))
        if isinstance(existed, Exception):
            raise existed
        await self._registry("SREM", name)
        return bool(existed)

    async def set_trigger_status(self, name: str, process_status: str) -> str:
        """The previous status; NotFound for an unknown trigger or one that is not SINGLE."""
        previous = await self._scripts.call("work_trigger_set_status", [self._keys.trigger(name)], [process_status])
        return _text(previous)

    async def waiting(self, queue_name: str) -> int:
        """How many NEW items wait in a queue (shown on QUEUE triggers)."""
        count = await self._scripts.execute("ZCARD", self._keys.queue(queue_name).by_status["NEW"])
        if isinstance(count, Exception):
            raise count
        return int(count)

    async def _registry(self, command: str, name: str) -> None:
        reply = await self._scripts.execute(command, self._keys.trigger_names, name)
        if isinstance(reply, Exception):
            raise reply

    @staticmethod
    def _trigger(reply: Any) -> Trigger:
        if isinstance(reply, dict):
            pairs = reply.items()
        else:
            pairs = zip(reply[::2], reply[1::2])
        return {_text(k): _text(v) for k, v in pairs}
