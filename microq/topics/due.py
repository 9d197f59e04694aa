"""The index of due work: which topics have something to do, and when.

BUCKETS sorted sets (topic -> ms at or before which it has a delayed message falling due, a
lease or ttl ending, or a webhook delivery due), in the registry's buckets. The scripts report
the due times they create; the store notes them here with ZADD LT, which only ever moves a
topic's time earlier. Housekeeping takes the due topics (topics_due_take removes them, so one
node sweeps each), sweeps them, and notes each one's next due time again: an idle broker costs
one call per bucket per round, whatever the number of topics.

A topic's script and its due entry live in different slots, so they cannot change together: a
node that dies between the two leaves the work to the next consume of that topic, and to the
slow full sweep (Housekeeper.RECHECK) that notes every topic again.
"""

from __future__ import annotations

from microq.keys import Keyspace
from microq.scripts import Scripts
from microq.topics.registry import bucket_of


class DueIndex:
    def __init__(self, scripts: Scripts, keyspace: Keyspace) -> None:
        self.scripts = scripts
        self.prefix = keyspace.prefix

    def key(self, bucket: int) -> str:
        return f"{self.prefix}{{topics:due:{bucket}}}"

    async def note(self, topic: str, at: int) -> None:
        """The topic has work at `at` ms (Redis clock); -1: nothing to note."""
        if at is None or at < 0:
            return
        await self.scripts.execute("ZADD", self.key(bucket_of(topic)), "LT", int(at), topic)

    async def take(self, bucket: int, limit: int) -> list[tuple[str, int]]:
        reply = await self.scripts.call("topics_due_take", [self.key(bucket)], [limit])
        return [(reply[i].decode(), int(float(reply[i + 1]))) for i in range(0, len(reply), 2)]
