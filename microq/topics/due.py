"""The index of due work: which topics have something to do, and when.

BUCKETS sorted sets (topic -> ms at or before which it has a delayed message falling due, a
lease or ttl ending, or a webhook delivery due), in the registry's buckets. The scripts report
the due times they create; the store notes them here with ZADD LT, which only ever moves a
topic's time earlier. Housekeeping takes the due topics (topics_due_take removes them, so one
node sweeps each), sweeps them, and notes each one's next due time again: an idle broker costs
one call per bucket per round, whatever the number of topics.

A topic's script and its due entry live in different slots, so they cannot change together: a
node that dies between the two leaves the work to the next consume of that topic, and to the
slow full sweep (Housekeeper.RECHECK) that notes every topic again. For the same reason a
bucket whose Redis primary is away must not fail the topic's own request, which has already
been applied: the note waits in `pending` and housekeeping retries it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from microq.errors import Unavailable
from microq.keys import Keyspace
from microq.scripts import Scripts
from microq.topics.registry import bucket_of

log = logging.getLogger(__name__)

PENDING_MAX = 10_000  #: notes kept for a retry; past that the full sweep finds the work
DOWN_FOR = 5.0  #: seconds a bucket that failed is not asked again (each ask would wait out a timeout)
NOTES_IN_FLIGHT = 1000  #: notes being sent at once; more wait in `pending`



class DueIndex:
    def __init__(self, scripts: Scripts, keyspace: Keyspace) -> None:
        self.scripts = scripts
        self.prefix = keyspace.prefix
        self.pending: dict[str, int] = {}  #: topic -> due ms, notes whose bucket was unreachable
        self._down: dict[int, float] = {}  #: bucket -> monotonic time until which it is not asked
        self._sending: set[asyncio.Task] = set()

    def key(self, bucket: int) -> str:
        return f"{self.prefix}{{topics:due:{bucket}}}"

    async def note(self, topic: str, at: int) -> None:
        """The topic has work at `at` ms (Redis clock); -1: nothing to note.

        Sent in the background: the request that made the work has been applied in the topic's
        own slot and must not wait on (or fail with) the index's slot, which may be on a primary
        that is stalled or gone."""
        if at is None or at < 0:
            return
        bucket = bucket_of(topic)
        if self._down.get(bucket, 0.0) > time.monotonic() or len(self._sending) >= NOTES_IN_FLIGHT:
            self._pend(topic, int(at))
            return
        task = asyncio.create_task(self._send(bucket, topic, int(at)))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, bucket: int, topic: str, at: int) -> None:
        try:
            await self.scripts.execute("ZADD", self.key(bucket), "LT", at, topic)
        except Unavailable as exc:
            if bucket not in self._down:
                log.warning("due-work bucket %d unreachable (%s): its notes wait for a retry", bucket, exc)
            self._down[bucket] = time.monotonic() + DOWN_FOR
            self._pend(topic, at)
        else:
            self._down.pop(bucket, None)

    async def finish(self) -> None:
        """Shutdown: let the notes in flight land (each ends within the Redis timeout)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _pend(self, topic: str, at: int) -> None:
        if topic in self.pending or len(self.pending) < PENDING_MAX:
            self.pending[topic] = min(at, self.pending.get(topic, at))

    async def retry(self) -> None:
        """Note again what an unreachable bucket refused (housekeeping calls this every round)."""
        pending, self.pending = self.pending, {}
        for topic, at in pending.items():
            await self.note(topic, at)

    async def take(self, bucket: int, limit: int) -> list[tuple[str, int]]:
        reply = await self.scripts.call("topics_due_take", [self.key(bucket)], [limit])
        return [(reply[i].decode(), int(float(reply[i + 1]))) for i in range(0, len(reply), 2)]
