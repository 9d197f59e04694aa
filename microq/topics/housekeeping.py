"""Per-node background work: publish this node's waiting-consumer counts for /api/stats, and
sweep the topics the index of due work hands out, so lapsed leases and due messages move even
when nobody reads. An idle broker costs one call per bucket per round, whatever it holds.

Every RECHECK seconds one node per bucket (under that bucket's lock) also sweeps every topic of
the bucket, a chunk at a time: it notes any due work a node that died between a script and its
note left out of the index, and deletes idle empty topics when MICROQ_TOPIC_IDLE_EXPIRY is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from typing import Callable

import msgpack

from microq.topics.index import TimeSlice
from microq.topics.names import is_pattern
from microq.topics.registry import BUCKETS
from microq.topics.store import TopicStore
from microq.topics.waiters import WaitRoom

log = logging.getLogger(__name__)

INTERVAL = 1.0  #: seconds between rounds
TAKE = 100  #: due topics one round takes from a bucket (it takes again at once while it gets that many)
ROUNDS = 20  #: most takes per bucket per round: the rest wait for the next round
RECHECK = 600.0  #: seconds between full sweeps of a bucket
_ALIVE_MS = 3000  #: a node's published counts outlive it by this much
_CONCURRENT = 32  #: sweeps in flight at once


class Housekeeper:
    def __init__(self, store: TopicStore, room: WaitRoom) -> None:
        self.store, self.room = store, room
        self.node = uuid.uuid4().hex[:12]
        self.on_hook_due: Callable[[str], None] = lambda topic: None
        prefix = store.keyspace.prefix
        #: node heartbeats, in buckets like the registry: one dead primary loses only some nodes' counts
        self.nodes_keys = [f"{prefix}{{topics:nodes:{b}}}" for b in range(BUCKETS)]
        self.node_bucket = zlib.crc32(self.node.encode()) % BUCKETS
        self.idle_since: dict[str, float] = {}  #: topic -> when this node first saw it empty (idle expiry)
        self._failing: set[int] = set()  #: buckets whose last round failed: logged once per outage
        self._recheck_at = [time.monotonic() + RECHECK * (b + 1) / BUCKETS for b in range(BUCKETS)]

    def waiting_key(self, node: str) -> str:
        return self.store.keyspace.global_key(f"topics:waiting:{node}")

    def recheck_lock(self, bucket: int) -> str:
        return f"{self.store.keyspace.prefix}{{topics:due:{bucket}}}:recheck-lock"

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: try again next round
                log.warning("topics heartbeat failed: %s", exc)
            await self.store.retry_indexing()
            await asyncio.gather(*(self._round(b) for b in range(BUCKETS)))

    async def _round(self, bucket: int) -> None:
        try:
            await self.sweep_due(bucket)
            if time.monotonic() >= self._recheck_at[bucket]:
                self._recheck_at[bucket] = time.monotonic() + RECHECK
                if await self.store.execute("SET", self.recheck_lock(bucket), self.node, "NX", "PX",
                                            int(RECHECK * 900)):
                    await self.recheck(bucket)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - that bucket's Redis away, or a script failing
            if bucket not in self._failing:
                log.warning("topics housekeeping of bucket %d failed (logged once until it works): %s", bucket, exc)
            self._failing.add(bucket)
            return
        if bucket in self._failing:
            self._failing.discard(bucket)
            log.info("topics housekeeping of bucket %d works again", bucket)

    async def heartbeat(self) -> None:
        now = int(time.time() * 1000)
        nodes = self.nodes_keys[self.node_bucket]
        await asyncio.gather(
            self.store.execute("SET", self.waiting_key(self.node), msgpack.packb(self.room.counts()),
                                "PX", _ALIVE_MS),
            self.store.execute("ZADD", nodes, now, self.node),
            self.store.execute("ZREMRANGEBYSCORE", nodes, "-inf", now - 60_000))

    async def sweep_due(self, bucket: int) -> int:
        """Sweep the bucket's topics whose work is due; the number swept."""
        swept = 0
        for _ in range(ROUNDS):
            taken = await self.store.due.take(bucket, TAKE)
            for start in range(0, len(taken), _CONCURRENT):
                await asyncio.gather(*(self._sweep(topic) for topic, _ in taken[start:start + _CONCURRENT]))
            swept += len(taken)
            if len(taken) < TAKE:
                break
        return swept

    async def _sweep(self, topic: str) -> None:
        _, next_at, hook_due = await self.store.sweep(topic)
        await self.store.due.note(topic, next_at)
        if hook_due:
            self.on_hook_due(topic)

    async def recheck(self, bucket: int) -> None:
        """Every topic of the bucket, a chunk at a time: note lost due work, expire idle empty topics."""
        names = self.store.registry.names_in(bucket)
        expiry = self.store.settings.topic_idle_expiry
        slicer = TimeSlice()
        for start in range(0, len(names), _CONCURRENT):
            chunk = names[start:start + _CONCURRENT]
            await asyncio.gather(*(self._sweep(topic) for topic in chunk))
            if expiry > 0:
                await self._expire_idle(chunk, expiry)
            await slicer.tick()

    async def _expire_idle(self, topics: list[str], expiry: float) -> None:
        counts = await asyncio.gather(*(self.store.counts(t) for t in topics))
        now = time.monotonic()
        waiting = self.room.counts()
        for c in counts:
            empty = c.stored == 0 and c.webhooks == 0 and c.pending_deliveries == 0 and not waiting.get(c.name)
            if not empty:
                self.idle_since.pop(c.name, None)
                continue
            since = self.idle_since.setdefault(c.name, now)
            if now - since >= expiry and await self.store.delete_if_idle(c.name):
                self.idle_since.pop(c.name, None)
                log.info("topic %s deleted after %.0f s idle and empty", c.name, now - since)

    async def waiting(self, topics: list[str]) -> dict[str, int]:
        """Waiting consumers per topic across live nodes (this node's live, others' as last published)."""
        found = await asyncio.gather(*(self.store.execute("ZRANGE", key, 0, -1) for key in self.nodes_keys),
                                     return_exceptions=True)
        nodes = [n.decode() for reply in found if isinstance(reply, list) for n in reply]
        others = await asyncio.gather(*(self.store.execute("GET", self.waiting_key(n))
                                        for n in nodes if n != self.node), return_exceptions=True)
        per_name: dict[str, int] = dict(self.room.counts())
        for packed in others:
            if isinstance(packed, bytes):
                for name, count in msgpack.unpackb(packed, raw=False).items():
                    per_name[name] = per_name.get(name, 0) + count
        wanted = set(topics)
        out = {topic: per_name.get(topic, 0) for topic in topics}
        for name, count in per_name.items():
            if is_pattern(name):  # the index's matches, not pattern x topic
                for topic in await self.store.registry.index.matching(name):
                    if topic in wanted:
                        out[topic] += count
        return out
