"""A part's list of its entities' names (lines, work queues), for readers that need every one of
them (/metrics) without a SCAN of the whole keyspace.

The names are split over BUCKETS Redis sets, a name's bucket being crc32(name) % BUCKETS, each
set in its own slot: no one Cluster slot is needed by every entity. A part adds a name after the
script that makes the entity (a separate, idempotent SADD: the entity's own keys are in another
slot); each node remembers the names it has added (at most KEPT, then it starts afresh), so the
extra round trip is paid once per entity and node. A name is never removed (the parts never
delete these entities), so a set holds at most the entities that ever existed.

Entities made before the index existed (or by a node of an earlier version) are found once by
`backfill`: a SCAN for one key every such entity has, after which a marker key says it is done.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Awaitable, Callable

from microq.errors import MicroQError
from microq.keys import Keyspace
from microq.scripts import Scripts

log = logging.getLogger(__name__)

BUCKETS = 16
KEPT = 10_000  #: names a node remembers having added
_SSCAN = 1000  #: names per SSCAN call


class NameIndex:
    def __init__(self, scripts: Scripts, keyspace: Keyspace, kind: str) -> None:
        """`kind`: the index's key kind, e.g. "li" gives `<prefix>li:{<n>}:names`."""
        self.scripts = scripts
        self.buckets = [keyspace.tagged(kind, str(n), "names") for n in range(BUCKETS)]
        self.marker = keyspace.tagged(kind, "backfilled", "done")  #: "1" once backfill ran to the end
        self._added: set[str] = set()

    def bucket_of(self, name: str) -> str:
        return self.buckets[zlib.crc32(name.encode("utf-8", "surrogateescape")) % BUCKETS]

    async def add(self, name: str) -> None:
        """List `name` (after its entity was made). A failure is logged, never raised: the entity
        exists, and its next use on any node lists it."""
        if name in self._added:
            return
        try:
            await self.scripts.execute("SADD", self.bucket_of(name), name)
        except MicroQError as exc:
            log.warning("could not list %r in %s: %s", name, self.buckets[0], exc)
            return
        if len(self._added) >= KEPT:
            self._added.clear()
        self._added.add(name)

    async def names(self) -> list[str]:
        """Every listed name, sorted; SSCAN in bounded calls, every bucket at once."""
        found = await asyncio.gather(*(self._members(bucket) for bucket in self.buckets))
        return sorted({name for names in found for name in names})

    async def _members(self, bucket: str) -> list[str]:
        names, cursor = [], 0
        while True:
            cursor, chunk = await self.scripts.execute("SSCAN", bucket, cursor, "COUNT", _SSCAN)
            names += [n.decode("utf-8", "surrogateescape") for n in chunk]
            if int(cursor) == 0:
                return names

    async def backfill(self, find: Callable[[], Awaitable[list[str]]]) -> None:
        """Once per deployment: list the names `find()` returns (a SCAN the caller knows how to
        make), then set the marker. Skipped, one GET, once the marker is set."""
        if await self.scripts.execute("GET", self.marker):
            return
        by_bucket: dict[str, list[str]] = {}
        for name in await find():
            by_bucket.setdefault(self.bucket_of(name), []).append(name)
        for bucket, names in by_bucket.items():
            for start in range(0, len(names), _SSCAN):
                await self.scripts.execute("SADD", bucket, *names[start:start + _SSCAN])
        await self.scripts.execute("SET", self.marker, "1")
