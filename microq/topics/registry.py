"""Which topics exist: BUCKETS Redis sets (one slot each), mirrored in every node's TopicIndex.

A topic's bucket is crc32(name) mod BUCKETS, so no one slot holds every name: with one Cluster
primary down only the topics of its buckets are unknown, and reads that span topics say which
buckets they could not read. Each bucket has a change log (a capped stream written by the same
script that adds or removes the name); a node replays the logs about once a second and reloads a
bucket only when it fell so far behind that the log was trimmed past it. A node therefore knows
every topic without listing them all again, and a wildcard or /api/stats reads its own index.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib

from redis.exceptions import RedisError

from microq.errors import Unavailable

from microq.idempotency import Once
from microq.keys import Keyspace
from microq.scripts import Scripts
from microq.topics.index import TimeSlice, TopicIndex
from microq.topics.names import is_dlq

log = logging.getLogger(__name__)

BUCKETS = 16  #: registry buckets; fixed, since a name's bucket must be the same on every node
LOG_MAX = 10000  #: entries each bucket's change log keeps (approximately)
POLL = 1.0  #: seconds between replays of the change logs
RELOAD = 300.0  #: seconds between full reloads (the safety net for a log that was reset)
_FRESH = 0.05  #: a refresh this recent serves a request that asks for one
_SCAN = 1000  #: names per SSCAN call


def bucket_of(name: str) -> int:
    return zlib.crc32(name.encode()) % BUCKETS


class Registry:
    def __init__(self, scripts: Scripts, keyspace: Keyspace, max_topics: int = 0) -> None:
        self.scripts = scripts
        self.prefix = keyspace.prefix
        self.legacy_key = keyspace.global_key("topics:registry")  #: the one set of earlier versions
        self.max_topics = max_topics
        self.index = TopicIndex()
        self.unavailable: set[int] = set()  #: buckets whose last read failed (Redis node down)
        self._seen: dict[int, bytes] = {}  #: bucket -> id of the last log entry replayed
        self._names: list[set[str]] = [set() for _ in range(BUCKETS)]
        self._refreshed = 0.0
        self._refreshing: asyncio.Task | None = None

    def bucket_key(self, bucket: int) -> str:
        return f"{self.prefix}{{topics:registry:{bucket}}}"

    def log_key(self, bucket: int) -> str:
        return f"{self.prefix}{{topics:registry:{bucket}}}:log"

    def counted_key(self, bucket: int) -> str:
        return f"{self.prefix}{{topics:registry:{bucket}}}:counted"

    def _keys(self, name: str) -> list[str]:
        bucket = bucket_of(name)
        return [self.bucket_key(bucket), self.log_key(bucket), self.counted_key(bucket)]

    async def execute(self, *command):
        return await self.scripts.execute(*command)

    # changes ----------------------------------------------------------------------------

    def key_of(self, name: str):
        """suffix -> a key in the name's registry bucket slot (Idempotency-Key replies of create)."""
        return lambda suffix: f"{self.prefix}{{topics:registry:{bucket_of(name)}}}:{suffix}"

    async def register(self, name: str, check: bool = True, once: Once | None = None) -> bool:
        """Add a topic; False when it exists. Conflict past MICROQ_MAX_TOPICS (dead-letter topics
        never count; check=False skips counting, for a name this node believes exists)."""
        counts = not is_dlq(name)
        total = await self.count() if self.max_topics and counts and check else 0
        added = await self.scripts.call("topics_register", self._keys(name),
                                        [name, self.max_topics if check else 0, total, LOG_MAX, int(counts)],
                                        once=once)
        self._learn(name)
        return added == 1

    async def unregister(self, name: str) -> bool:
        removed = await self.scripts.call("topics_unregister", self._keys(name),
                                          [name, LOG_MAX, int(not is_dlq(name))])
        self._forget(name)
        return removed == 1

    async def exists(self, name: str) -> bool:
        return await self.execute("SISMEMBER", self.bucket_key(bucket_of(name)), name) == 1

    async def count(self) -> int:
        """Topics counting against MICROQ_MAX_TOPICS now, over every bucket (one GET each)."""
        found = await asyncio.gather(*(self.execute("GET", self.counted_key(b)) for b in range(BUCKETS)))
        return sum(int(n) for n in found if n)

    def names_in(self, bucket: int) -> list[str]:
        """The names this node knows in one bucket."""
        return list(self._names[bucket])

    def learned(self, name: str) -> None:
        """A name seen in a notification from another node: known before the next replay."""
        if name not in self.index:
            self._learn(name)

    def _learn(self, name: str) -> None:
        self._names[bucket_of(name)].add(name)
        self.index.add(name)

    def _forget(self, name: str) -> None:
        self._names[bucket_of(name)].discard(name)
        self.index.remove(name)

    # keeping the index current ----------------------------------------------------------

    async def run(self) -> None:
        """Replay the change logs every POLL seconds; reload every bucket every RELOAD seconds."""
        await self._migrate_legacy()
        reloaded = time.monotonic()
        while True:
            if time.monotonic() - reloaded > RELOAD:
                self._seen.clear()
                reloaded = time.monotonic()
            try:
                await self.refresh(0.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bad log entry must not end the replays for good
                log.exception("topic registry replay failed; trying again")
            await asyncio.sleep(POLL)

    async def refresh(self, fresh: float = _FRESH) -> None:
        """Bring the index up to date (shared by concurrent callers; skipped when one started less
        than `fresh` seconds ago, so with 0 one that starts after this call is waited for)."""
        while True:
            if self._refreshing is not None and self._refreshing.done():
                self._refreshing = None
            if self._refreshing is None:
                if time.monotonic() - self._refreshed < fresh:
                    return
                self._refreshing = asyncio.ensure_future(self._refresh_all(time.monotonic()))
                started_here = True
            else:
                started_here = False
            task = self._refreshing
            await asyncio.shield(task)
            if started_here or self._refreshed >= time.monotonic() - fresh:
                return

    async def _refresh_all(self, started: float) -> None:
        await asyncio.gather(*(self._refresh_bucket(b) for b in range(BUCKETS)))
        self._refreshed = started

    async def _refresh_bucket(self, bucket: int) -> None:
        try:
            if bucket not in self._seen:
                await self._load(bucket)
            else:
                await self._replay(bucket)
        except (Unavailable, RedisError, OSError) as exc:
            if bucket not in self.unavailable:
                log.warning("topic registry bucket %d unreadable: %s", bucket, exc)
            self.unavailable.add(bucket)
            return
        self.unavailable.discard(bucket)

    async def _load(self, bucket: int) -> None:
        newest = await self.execute("XREVRANGE", self.log_key(bucket), "+", "-", "COUNT", 1)
        seen = newest[0][0] if newest else b"0-0"
        names: set[str] = set()
        cursor = 0
        slicer = TimeSlice()
        while True:
            cursor, chunk = await self.execute("SSCAN", self.bucket_key(bucket), cursor, "COUNT", _SCAN)
            names.update(n.decode() for n in chunk)
            await slicer.tick()
            if int(cursor) == 0:
                break
        for name in self._names[bucket] - names:
            self.index.remove(name)
        for name in names:
            self.index.add(name)
            await slicer.tick()
        self._names[bucket] = names
        self._seen[bucket] = seen
        await self._replay(bucket)  # what changed while the set was being read

    async def _replay(self, bucket: int) -> None:
        key = self.log_key(bucket)
        seen = self._seen[bucket]
        while True:
            oldest, entries = await asyncio.gather(self.execute("XRANGE", key, "-", "+", "COUNT", 1),
                                                   self.execute("XRANGE", key, b"(" + seen, "+", "COUNT", 1000))
            if oldest and _stream_id(oldest[0][0]) > _stream_id(seen):
                # the log was trimmed past what this node replayed (or it was empty when this node
                # read the bucket, and the first entries since may be gone): read the whole bucket again
                del self._seen[bucket]
                await self._load(bucket)
                return
            for entry_id, fields in entries:
                fields = _fields(fields)
                name = fields.get(b"name", b"").decode()
                if fields.get(b"op") == b"+":
                    self._learn(name)
                elif fields.get(b"op") == b"-":
                    self._forget(name)
                seen = entry_id
            self._seen[bucket] = seen
            if len(entries) < 1000:
                return

    async def _migrate_legacy(self) -> None:
        """Names from the single registry set of earlier versions move into their buckets, once."""
        try:
            cursor = 0
            while True:
                cursor, chunk = await self.execute("SSCAN", self.legacy_key, cursor, "COUNT", _SCAN)
                for name in chunk:
                    await self.register(name.decode(), check=False)
                if int(cursor) == 0:
                    break
            await self.execute("UNLINK", self.legacy_key)
        except (Unavailable, RedisError, OSError) as exc:
            log.warning("could not move the old topic registry into buckets yet: %s", exc)


def _stream_id(raw: bytes) -> tuple[int, int]:
    ms, _, seq = raw.decode().partition("-")
    return int(ms), int(seq or 0)


def _fields(raw) -> dict[bytes, bytes]:
    if isinstance(raw, dict):
        return raw
    return dict(zip(raw[::2], raw[1::2]))
