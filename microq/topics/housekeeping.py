"""Per-node background work: publish this node's waiting-consumer counts for /api/stats, and
(one node at a time, under a lock) sweep every topic so lapsed leases and due messages move
even when nobody reads."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import msgpack

from microq.topics.names import is_pattern, matches
from microq.topics.store import TopicStore
from microq.topics.waiters import WaitRoom

log = logging.getLogger(__name__)

INTERVAL = 1.0  #: seconds between rounds
_ALIVE_MS = 3000  #: a node's published counts outlive it by this much


class Housekeeper:
    def __init__(self, store: TopicStore, room: WaitRoom) -> None:
        self.store, self.room = store, room
        self.node = uuid.uuid4().hex[:12]
        keyspace = store.keyspace
        self.nodes_key = keyspace.global_key("topics:nodes")  #: zset node -> last heartbeat ms
        self.lock_key = keyspace.global_key("topics:sweep-lock")

    def waiting_key(self, node: str) -> str:
        return self.store.keyspace.global_key(f"topics:waiting:{node}")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                await self.heartbeat()
                if await self.store.execute("SET", self.lock_key, self.node, "NX", "PX", int(INTERVAL * 900)):
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away or a script failing: try again next round
                log.warning("topics housekeeping failed: %s", exc)

    async def heartbeat(self) -> None:
        now = int(time.time() * 1000)
        await asyncio.gather(
            self.store.execute("SET", self.waiting_key(self.node), msgpack.packb(self.room.counts()),
                                "PX", _ALIVE_MS),
            self.store.execute("ZADD", self.nodes_key, now, self.node),
            self.store.execute("ZREMRANGEBYSCORE", self.nodes_key, "-inf", now - 60_000))

    async def sweep(self) -> None:
        topics = await self.store.topics()
        for start in range(0, len(topics), 100):
            await asyncio.gather(*(self.store.sweep(t) for t in topics[start:start + 100]))

    async def waiting(self, topics: list[str]) -> dict[str, int]:
        """Waiting consumers per topic across live nodes (this node's live, others' as last published)."""
        nodes = [n.decode() for n in await self.store.execute("ZRANGE", self.nodes_key, 0, -1)]
        others = await asyncio.gather(*(self.store.execute("GET", self.waiting_key(n))
                                        for n in nodes if n != self.node))
        per_name: dict[str, int] = dict(self.room.counts())
        for packed in others:
            if isinstance(packed, bytes):
                for name, count in msgpack.unpackb(packed, raw=False).items():
                    per_name[name] = per_name.get(name, 0) + count
        out = {}
        for topic in topics:
            out[topic] = sum(count for name, count in per_name.items()
                             if name == topic or (is_pattern(name) and matches(name, topic)))
        return out
